import { createPostgresDatabase, describeUserStore } from '@gatehouse/testkit'
import { inject } from 'vitest'
import { openTestStore } from './fixtures.js'

describeUserStore('SQLUserStore on PostgreSQL', async () => {
  const sql = await openTestStore(await createPostgresDatabase(inject('postgresUrl')))
  return { store: sql.store, revocations: sql.store, providerSessions: true, close: () => sql.close() }
})
