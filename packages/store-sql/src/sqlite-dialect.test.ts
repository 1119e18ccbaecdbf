import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kysely, sql } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { SQLiteDialect } from './sqlite-dialect.js'

describe('SQLiteDialect', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-dialect-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('releases the write lock and the queue when the hook after BEGIN fails', async () => {
    let failNext = true
    const db = new Kysely<{ t: { v: number } }>({
      dialect: new SQLiteDialect({
        path: join(dir, 'hook.db'),
        busyTimeoutMs: 1000,
        afterBegin: async () => {
          if (!failNext) return
          failNext = false
          throw new Error('hook failed')
        },
      }),
    })
    try {
      await expect(db.transaction().execute(async (trx) => sql`CREATE TABLE t (v INTEGER)`.execute(trx))).rejects.toThrow('hook failed')
      // Without the release, this write would wait forever for the queue slot.
      const next = db.transaction().execute(async (trx) => {
        await sql`CREATE TABLE t (v INTEGER)`.execute(trx)
        await trx.insertInto('t').values({ v: 1 }).execute()
      })
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the next write hung')), 3000))
      await Promise.race([next, timeout])
      expect(await db.selectFrom('t').select('v').execute()).toEqual([{ v: 1 }])
    } finally {
      await db.destroy()
    }
  })
})
