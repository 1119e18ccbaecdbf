// A restart in the middle of a login burst: auth.close() lets the logins in flight finish before
// the store closes, so none of them is left counted against the client's address.
import { afterAll, describe, expect, it } from 'vitest'
import { SQLDatabase } from '../src/index.js'
import { createSQLApp, failuresOf, openTestStore, removeTempDirectories, tempSQLiteURI } from './fixtures.js'

afterAll(removeTempDirectories)

const ADDRESS = '203.0.113.9'

describe('shutdown during a login burst', () => {
  it('settles every login in flight, leaves no advance count behind, and the next instance logs the address in', async () => {
    const uri = tempSQLiteURI()
    const sql = await openTestStore(uri)
    const users = Array.from({ length: 30 }, (_, i) => `user${i}`)
    for (const username of users) await sql.accounts.add({ username, password: 'violet cormorant lantern', roles: ['User'] })
    const { auth, login } = createSQLApp(sql)

    // Thirty people behind one address (an office) log in at once; the app restarts meanwhile.
    const burst = users.map((username) => login(username, 'violet cormorant lantern', { address: ADDRESS }))
    await new Promise((resolve) => setTimeout(resolve, 5))
    await auth.close()
    await sql.close()
    const statuses = (await Promise.all(burst)).map(({ res }) => res.status)
    // Each one either finished (200) or was refused as "shutting down" (503) before it was counted.
    expect(
      statuses.every((status) => status === 200 || status === 503),
      statuses.join(','),
    ).toBe(true)
    expect(statuses).toContain(200)

    const database = await SQLDatabase.open({ uri })
    try {
      expect(await failuresOf(database, `a:${ADDRESS}`)).toBe(0)
      for (const username of users) expect(await failuresOf(database, `u:${username}`)).toBe(0)
    } finally {
      await database.close()
    }
    const next = await openTestStore(uri)
    try {
      const again = createSQLApp(next)
      const results = await Promise.all(users.map((username) => again.login(username, 'violet cormorant lantern', { address: ADDRESS })))
      expect(results.map(({ res }) => res.status)).toEqual(users.map(() => 200))
      await again.auth.close()
    } finally {
      await next.close()
    }
  })
})
