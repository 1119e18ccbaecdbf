import { describeUserStore } from '@gatehouse/testkit'
import { afterAll } from 'vitest'
import { openTestStore, removeTempDirectories, tempSQLiteURI } from '../test/fixtures.js'

afterAll(removeTempDirectories)

describeUserStore('SQLUserStore on an SQLite file', async () => {
  const sql = await openTestStore(tempSQLiteURI())
  return { store: sql.store, close: () => sql.close() }
})
