import { StoreUnavailableError } from '@gatehouse/core'
import { createClient } from '@libsql/client'
import { afterAll, describe, expect, it } from 'vitest'
import { openTestStore, removeTempDirectories, tempSQLiteURI } from './fixtures.js'

afterAll(removeTempDirectories)

describe('SQLite writes behind another connection\'s write lock', () => {
  it('fail with StoreUnavailableError within about one busy timeout however many are queued, and succeed again once the lock goes', async () => {
    const uri = tempSQLiteURI()
    const sql = await openTestStore(uri, { sqlite: { busyTimeoutMs: 300 } })
    const user = await sql.accounts.add({ username: 'ines', password: 'ines passphrase' })
    // Another process (here another connection) holds the write lock.
    const holder = createClient({ url: `file:${uri.slice('sqlite:'.length)}` })
    await holder.execute('BEGIN IMMEDIATE')
    try {
      const start = performance.now()
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => sql.store.recordLogin({ id: user.id, at: new Date() })))
      const elapsed = performance.now() - start
      for (const result of results) expect(result).toMatchObject({ status: 'rejected', reason: expect.any(StoreUnavailableError) })
      // Each queued write waits for its turn at most one busy timeout: not 5 × 300 ms in a row,
      // with the event loop blocked by SQLite's busy wait for all of it.
      expect(elapsed).toBeLessThan(1000)
      // Reads go to the WAL reader and never wait for the writer.
      expect((await sql.store.getUserById({ id: user.id }))?.username).toBe('ines')
    } finally {
      await holder.execute('COMMIT')
      holder.close()
    }
    // A statement that failed with SQLITE_BUSY used to leave the writer unable to commit ever again.
    for (let i = 0; i < 3; i++) await sql.store.recordLogin({ id: user.id, at: new Date(1000 * i) })
    expect((await sql.store.getUserById({ id: user.id }))?.lastLoginAt?.getTime()).toBe(2000)
    await sql.accounts.setPassword({ username: 'ines', password: 'ines new passphrase' })
    await sql.close()
  })
})
