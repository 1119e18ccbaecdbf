import { createRequire } from 'node:module'
import { createPostgresDatabase } from '@gatehouse/testkit'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { openTestStore, removeTempDirectories, tempSQLiteURI } from './fixtures.js'

// Each driver is loaded when a store of its kind is opened, not when the package is imported:
// a PostgreSQL deployment never loads libsql's native module, an SQLite one never loads pg, and
// SQLite uses @libsql/client's file client without its HTTP and WebSocket clients. The drivers
// are CommonJS, so Node's module cache shows which were loaded in this process (this file runs
// in a process of its own).
const loaded = (pattern: RegExp) => Object.keys(createRequire(import.meta.url).cache).some((file) => pattern.test(file))
const LIBSQL = /node_modules\/\.pnpm\/libsql@/
const PG = /node_modules\/\.pnpm\/pg@/
const WS = /node_modules\/\.pnpm\/ws@/

describe('driver loading', () => {
  afterAll(removeTempDirectories)

  it('opens a PostgreSQL store without loading libsql', async () => {
    expect(loaded(PG)).toBe(false)
    const store = await openTestStore(await createPostgresDatabase(inject('postgresUrl')))
    await store.close()
    expect(loaded(PG)).toBe(true)
    expect(loaded(LIBSQL)).toBe(false)
  })

  it("opens an SQLite store with libsql's file client only (no WebSocket client)", async () => {
    const store = await openTestStore(tempSQLiteURI())
    await store.close()
    expect(loaded(LIBSQL)).toBe(true)
    expect(loaded(WS)).toBe(false)
    // The check can see ws: @libsql/client's main entry loads it.
    await import('@libsql/client')
    expect(loaded(WS)).toBe(true)
  })
})
