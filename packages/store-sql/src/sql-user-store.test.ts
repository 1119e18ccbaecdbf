import { copyFileSync, existsSync } from 'node:fs'
import { describeUserStore } from '@gatehouse/testkit'
import { afterAll, describe, expect, it } from 'vitest'
import { openTestStore, removeTempDirectories, tempSQLiteURI } from '../test/fixtures.js'
import { SQLDatabase } from './sql-database.js'

afterAll(removeTempDirectories)

// Every case gets a file of its own, copied from one migrated file: cheaper than migrating anew.
let template: Promise<string> | undefined

describeUserStore('SQLUserStore on an SQLite file', async () => {
  template ??= (async () => {
    const uri = tempSQLiteURI('template.db')
    await (await openTestStore(uri)).close()
    return uri.slice('sqlite:'.length)
  })()
  const uri = tempSQLiteURI()
  const path = await template
  copyFileSync(path, uri.slice('sqlite:'.length))
  // The migration may still be in the WAL: @libsql/client leaves its statements to the garbage
  // collector, so closing does not always fold the WAL into the file.
  if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${uri.slice('sqlite:'.length)}-wal`)
  const sql = await openTestStore(uri, { migrate: false })
  return { store: sql.store, revocations: sql.store, providerSessions: true, reportsChanges: true, close: () => sql.close() }
})

describe('SQLUserStore provider-session revocations', () => {
  const later = () => new Date(Date.now() + 3_600_000)
  const before = () => new Date(Date.now() - 60_000)

  /** A store and a second connection to the same file, to look at the table behind its back. */
  async function open() {
    const uri = tempSQLiteURI()
    const sql = await openTestStore(uri)
    const raw = await SQLDatabase.open({ uri })
    const rows = () => raw.kysely.selectFrom('gatehouse_revoked_provider_sessions').selectAll().orderBy('kind').orderBy('value').execute()
    return { sql, raw, rows, close: () => Promise.all([sql.close(), raw.close()]) }
  }

  it('forgets entries once they expire, and sweeps them on the next revocation of either kind', async () => {
    const { sql, rows, close } = await open()
    try {
      await sql.store.revokeProviderSessions({ source: 'oidc', providerSessionId: 'short-lived', expiresAt: new Date(Date.now() + 50) })
      expect(await sql.store.isRevoked({ sessionId: 'x', source: 'oidc', providerSessionId: 'short-lived', issuedAt: before() })).toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 80))
      expect(await sql.store.isRevoked({ sessionId: 'x', source: 'oidc', providerSessionId: 'short-lived', issuedAt: before() })).toBe(false)
      await sql.store.revoke({ sessionId: 'y', expiresAt: later() })
      expect(await rows()).toEqual([])
      await sql.store.revokeProviderSessions({ source: 'oidc', providerSessionId: 'short-again', expiresAt: new Date(Date.now() + 20) })
      await new Promise((resolve) => setTimeout(resolve, 40))
      await sql.store.revokeProviderSessions({ source: 'oidc', subject: 'someone', expiresAt: later() })
      expect((await rows()).map((row) => `${row.kind}:${row.value}`)).toEqual(['sub:someone'])
    } finally {
      await close()
    }
  })

  it('never moves a revocation back, nor its expiry, when an instance with a slower clock revokes again', async () => {
    const { sql, raw, rows, close } = await open()
    try {
      const until = later()
      await sql.store.revokeProviderSessions({ source: 'oidc', providerSessionId: 'sid-1', subject: 'sub-1', expiresAt: until })
      // Another instance, its clock a minute ahead, revoked the same sid with a later expiry.
      const ahead = Date.now() + 60_000
      await raw.kysely
        .updateTable('gatehouse_revoked_provider_sessions')
        .set({ revoked_at: ahead, expires_at: until.getTime() + 60_000 })
        .where('kind', '=', 'sid')
        .execute()
      await sql.store.revokeProviderSessions({ source: 'oidc', providerSessionId: 'sid-1', expiresAt: until })
      const [sid, sub] = await rows()
      expect(sid).toMatchObject({ kind: 'sid', value: 'sid-1', revoked_at: ahead, expires_at: until.getTime() + 60_000 })
      expect(sub).toMatchObject({ kind: 'sub', value: 'sub-1', expires_at: until.getTime() })
      expect(await sql.store.isRevoked({ sessionId: 'z', source: 'oidc', providerSessionId: 'sid-1', issuedAt: new Date(ahead - 1) })).toBe(true)
    } finally {
      await close()
    }
  })

  it('refuses a revocation without an id or with values no provider sends, and answers "not revoked" for such values', async () => {
    const { sql, rows, close } = await open()
    try {
      const expiresAt = later()
      for (const bad of [
        { source: 'oidc', expiresAt },
        { source: '', providerSessionId: 'sid', expiresAt },
        { source: 'oidc', providerSessionId: '', expiresAt },
        { source: 'oidc', subject: 'a\u0000b', expiresAt },
        { source: 'oidc', providerSessionId: 'x'.repeat(1025), expiresAt },
        { source: 'oidc', providerSessionId: 'sid', expiresAt: new Date(Number.NaN) },
      ]) {
        await expect(sql.store.revokeProviderSessions(bad)).rejects.toBeInstanceOf(TypeError)
      }
      expect(await rows()).toEqual([])
      expect(await sql.store.isRevoked({ sessionId: 'w', source: 'oidc', providerSessionId: 'a\u0000b', subject: 'x'.repeat(5000), issuedAt: before() })).toBe(false)
    } finally {
      await close()
    }
  })
})
