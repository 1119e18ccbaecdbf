import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { AuthError, StoreUnavailableError } from '@gatehouse/core'
import { sql as raw } from 'kysely'
import { afterAll, describe, expect, it } from 'vitest'
import { LIGHT_HASHER, openTestStore, removeTempDirectories, tempDirectory, tempSQLiteURI } from '../test/fixtures.js'
import { openSQLStore } from './open-sql-store.js'
import { SQLDatabase } from './sql-database.js'

afterAll(removeTempDirectories)

describe('openSQLStore on SQLite', () => {
  it('opens ./gatehouse.db in the working directory by default, in WAL mode', async () => {
    const dir = tempDirectory()
    const previous = process.cwd()
    process.chdir(dir)
    try {
      const sql = await openSQLStore({ hasher: LIGHT_HASHER })
      expect(sql.dialect).toBe('sqlite')
      expect(sql.displayURI).toBe('./gatehouse.db')
      await sql.accounts.add({ username: 'root-of-trust', password: 'violet cormorant' })
      await sql.close()
    } finally {
      process.chdir(previous)
    }
    expect(existsSync(join(dir, 'gatehouse.db'))).toBe(true)
    const database = await SQLDatabase.open({ uri: join(dir, 'gatehouse.db') })
    const mode = await raw<{ journal_mode: string }>`PRAGMA journal_mode`.execute(database.kysely)
    expect(mode.rows[0]?.journal_mode).toBe('wal')
    await database.close()
  })

  it('migrates idempotently, and runs the one migration set', async () => {
    const uri = tempSQLiteURI()
    const sql = await openTestStore(uri, { migrate: false })
    expect(await sql.schemaStatus()).toEqual({ current: false, applied: [], pending: ['0001-initial', '0002-provider-sessions'], unknown: [] })
    await sql.migrate()
    await sql.migrate()
    expect(await sql.schemaStatus()).toEqual({ current: true, applied: ['0001-initial', '0002-provider-sessions'], pending: [], unknown: [] })
    await sql.close()
    const again = await openTestStore(uri)
    expect((await again.schemaStatus()).current).toBe(true)
    await again.close()
  })

  it('migrates safely when two stores open one new file at the same moment', async () => {
    const uri = tempSQLiteURI()
    const stores = await Promise.all([openTestStore(uri), openTestStore(uri), openTestStore(uri)])
    for (const sql of stores) expect(await sql.schemaStatus()).toMatchObject({ current: true, applied: ['0001-initial', '0002-provider-sessions'] })
    await stores[0]!.accounts.add({ username: 'x-user', password: 'violet cormorant' })
    expect(await stores[2]!.accounts.count()).toBe(1)
    await Promise.all(stores.map((sql) => sql.close()))
  })

  it('refuses a schema newer than it knows, naming the migration and the database', async () => {
    const uri = tempSQLiteURI()
    const sql = await openTestStore(uri)
    await sql.close()
    const database = await SQLDatabase.open({ uri })
    await raw`insert into gatehouse_migration (name, timestamp) values ('9999-from-the-future', ${new Date().toISOString()})`.execute(database.kysely)
    await database.close()
    for (const migrate of [true, false]) {
      const error = await openTestStore(uri, { migrate }).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(AuthError)
      expect(error).toMatchObject({ code: 'ERR_MISCONFIGURED' })
      expect((error as Error).message).toContain('9999-from-the-future')
      expect((error as Error).message).toContain(uri)
    }
  })

  it('answers StoreUnavailableError naming the URI when the file cannot be opened', async () => {
    const uri = 'sqlite:/nonexistent-directory-for-gatehouse/auth.db'
    const error = await openTestStore(uri).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as Error).message).toContain(uri)
  })

  it('refuses a bad URI with a TypeError before touching anything', async () => {
    const error = await openSQLStore({ uri: 'mongodb://admin:hunter2@localhost/auth' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toContain('mongodb://admin:***@localhost/auth')
    expect((error as Error).message).not.toContain('hunter2')
  })

  it('closes idempotently, after which calls fail as unavailable', async () => {
    const sql = await openTestStore(tempSQLiteURI())
    await sql.close()
    await sql.close()
    await expect(sql.store.getUserByUsername({ username: 'anyone' })).rejects.toBeInstanceOf(StoreUnavailableError)
  })
})
