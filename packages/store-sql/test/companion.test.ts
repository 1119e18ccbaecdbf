import { createPostgresDatabase } from '@gatehouse/testkit'
import type { Kysely, Migration } from 'kysely'
import { sql } from 'kysely'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import type { SQLStore } from '../src/index.js'
import { openTestStore, removeTempDirectories, tempSQLiteURI, within } from './fixtures.js'

interface NotesSchema {
  companion_notes: { id: number; text: string }
}

const MIGRATIONS: Record<string, Migration> = {
  '0001-notes': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('companion_notes')
        .addColumn('id', 'integer', (col) => col.primaryKey())
        .addColumn('text', 'varchar(100)', (col) => col.notNull())
        .execute()
    },
  },
}

const stores: SQLStore[] = []
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()))
})
afterAll(removeTempDirectories)

async function open(uri: string): Promise<SQLStore> {
  const store = await openTestStore(uri)
  stores.push(store)
  return store
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  const uri = () => (dialect === 'sqlite' ? Promise.resolve(tempSQLiteURI()) : createPostgresDatabase(inject('postgresUrl')))

  describe(`companion packages on ${dialect}`, () => {
    it("keep their migration history in their own table, which the store's unknown-migration check ignores", async () => {
      const url = await uri()
      const store = await open(url)
      expect(await store.database.migrateCompanion({ name: 'notes', migrations: MIGRATIONS })).toEqual(['0001-notes'])
      expect(await store.database.migrateCompanion({ name: 'notes', migrations: MIGRATIONS })).toEqual([])
      expect((await store.schemaStatus()).current).toBe(true)
      await store.close()
      // A second open of the store (and its check for migrations it does not know) still works.
      const again = await open(url)
      expect((await again.schemaStatus()).unknown).toEqual([])
      const history = await again.database.read((db) => sql<{ name: string }>`select name from gatehouse_notes_migration`.execute(db))
      expect(history.rows.map((row) => row.name)).toEqual(['0001-notes'])
    })

    it('are refused (ERR_MISCONFIGURED) by a history that holds a migration they do not know', async () => {
      const store = await open(await uri())
      await store.database.migrateCompanion({ name: 'notes', migrations: { ...MIGRATIONS, '0002-newer': { up: async () => {} } } })
      await expect(store.database.migrateCompanion({ name: 'notes', migrations: MIGRATIONS })).rejects.toMatchObject({ code: 'ERR_MISCONFIGURED' })
    })

    it('name themselves safely (TypeError otherwise)', async () => {
      const store = await open(await uri())
      for (const name of ['', 'Notes', 'a-b', 'x; drop table', 'a'.repeat(33)]) {
        await expect(store.database.migrateCompanion({ name, migrations: MIGRATIONS })).rejects.toThrow(TypeError)
      }
      await expect(store.database.migrateCompanion({ name: 'notes', migrations: {} })).rejects.toThrow(TypeError)
    })

    it("write in transactions through the store's write path, alongside the store's own writes", async () => {
      const store = await open(await uri())
      await store.database.migrateCompanion({ name: 'notes', migrations: MIGRATIONS })
      // On SQLite two write transactions of one process at once would fail without the shared queue.
      await Promise.all([
        ...Array.from({ length: 20 }, (_, i) =>
          store.database.transaction<NotesSchema, void>(async (trx) => {
            await trx
              .insertInto('companion_notes')
              .values({ id: i, text: `note ${i}` })
              .execute()
          }),
        ),
        ...Array.from({ length: 5 }, (_, i) => store.accounts.add({ username: `writer${i}`, password: 'a long enough passphrase', roles: [] })),
      ])
      const count = await store.database.read((db) => sql<{ n: number }>`select count(*) as n from companion_notes`.execute(db))
      expect(Number(count.rows[0]!.n)).toBe(20)
      await expect(
        store.database.transaction<NotesSchema, void>(async (trx) => {
          await trx.insertInto('companion_notes').values({ id: 100, text: 'rolled back' }).execute()
          throw new Error('changed my mind')
        }),
      ).rejects.toThrow('changed my mind')
      const after = await store.database.read((db) => sql<{ n: number }>`select count(*) as n from companion_notes where id = 100`.execute(db))
      expect(Number(after.rows[0]!.n)).toBe(0)
    })

    it(dialect === 'postgres' ? 'hear NOTIFY on their own channel from another instance, at commit' : 'get no listener on SQLite (they poll)', async () => {
      const url = await uri()
      const [a, b] = [await open(url), await open(url)]
      await expect(a.database.listen('gatehouse_changes', { onNotify() {} })).rejects.toThrow(TypeError)
      await expect(a.database.listen('other', { onNotify() {} })).rejects.toThrow(TypeError)
      const heard: string[] = []
      const stop = await b.database.listen('gatehouse_notes', { onNotify: (payload) => void heard.push(payload) })
      if (dialect === 'sqlite') {
        expect(stop).toBeUndefined()
        return
      }
      await a.database.migrateCompanion({ name: 'notes', migrations: MIGRATIONS })
      await a.database.transaction<NotesSchema, void>(async (trx) => {
        await trx.insertInto('companion_notes').values({ id: 1, text: 'x' }).execute()
        await sql`select pg_notify('gatehouse_notes', 'revision 1')`.execute(trx)
      })
      await within(1000, async () => heard.length === 1)
      expect(heard).toEqual(['revision 1'])
      await stop!()
    })
  })
}
