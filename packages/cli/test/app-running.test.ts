// The CLI changes accounts while the application runs against the same database, and the
// running application sees it: the next request with a deleted or disabled user's cookie is 401.
import type { AuthEnv } from '@gatehouse/core'
import { NOOP_LOGGER, Protected, Role, createAuth } from '@gatehouse/core'
import type { SQLStore } from '@gatehouse/store-sql'
import { createPostgresDatabase } from '@gatehouse/testkit'
import { Hono } from 'hono'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { openStore, removeTempDirectories, tempDatabase } from './helpers.js'
import { spawnCLI } from './spawn-cli.js'

afterAll(removeTempDirectories)

const ORIGIN = 'http://app.test'
const PASSWORD = 'violet cormorant at dawn'

/** A Hono app wired with Gatehouse over the SQL store, as an application would be. */
function createApp(sql: SQLStore) {
  const auth = createAuth({
    roles: [new Role({ name: 'Administrator' }), new Role({ name: 'User' })],
    authenticators: [sql.authenticator],
    store: sql.store,
    throttle: sql.throttle,
    session: { secret: 'a-session-secret-for-the-cli-tests-0123456789', secure: false },
    logger: NOOP_LOGGER,
  })
  const app = new Hono<AuthEnv>()
  app.use(auth.middleware())
  app.route('/auth', auth.routes())
  app.get('/private', Protected(), (c) => c.text(`hello ${c.var.user.username}`))

  return {
    auth,
    /** Logs in with a JSON body and returns the session cookie (`name=value`). */
    async login(username: string, password: string): Promise<string> {
      const res = await app.request(`${ORIGIN}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: ORIGIN },
        body: JSON.stringify({ username, password }),
      })
      expect(res.status).toBe(200)
      const cookie = res.headers.get('set-cookie')?.split(';')[0]
      expect(cookie).toMatch(/^gatehouse=./)
      return cookie!
    },
    get: async (cookie: string): Promise<Response> => app.request(`${ORIGIN}/private`, { headers: { cookie } }),
  }
}

/** Requests until the answer is `status`, for at most `ms` (other processes' changes arrive by polling or NOTIFY). */
async function eventually(request: () => Promise<Response>, status: number, ms = 2500): Promise<number> {
  const deadline = Date.now() + ms
  let last = 0
  while (Date.now() < deadline) {
    last = (await request()).status
    if (last === status) return last
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return last
}

describe.each([
  ['SQLite', async () => `sqlite:${tempDatabase()}`],
  ['PostgreSQL', () => createPostgresDatabase(inject('postgresUrl'))],
])('with the application running on %s', (_name, database) => {
  it('a user added by the CLI while the app runs logs in; after the CLI deletes or disables them, their next request is 401', async () => {
    const db = await database()
    const sql = await openStore(db)
    const app = createApp(sql)
    try {
      // One account made by the CLI (its default argon2 parameters), one by the application.
      const added = await spawnCLI(['add', 'alice', '--password-stdin', '--roles', 'User', '--db', db], { input: `${PASSWORD}\n` })
      expect(added.code).toBe(0)
      await sql.accounts.add({ username: 'bob', password: PASSWORD, roles: ['User'] })
      const alice = await app.login('alice', PASSWORD)
      const bob = await app.login('bob', PASSWORD)
      // Both sessions are live, and cached by the app.
      for (const cookie of [alice, bob]) {
        const res = await app.get(cookie)
        expect(res.status).toBe(200)
      }
      expect(await (await app.get(alice)).text()).toBe('hello alice')

      const [deleted, disabled] = await Promise.all([spawnCLI(['delete', 'alice', '--db', db]), spawnCLI(['disable', 'bob', '--db', db])])
      expect(deleted).toMatchObject({ code: 0, stdout: 'deleted user "alice"; their sessions are ended\n' })
      expect(disabled).toMatchObject({ code: 0, stdout: 'disabled user "bob"; their sessions are ended\n' })

      expect(await eventually(() => app.get(alice), 401)).toBe(401)
      expect(await eventually(() => app.get(bob), 401)).toBe(401)
    } finally {
      app.auth.close()
      await sql.close()
    }
  }, 60_000)

  it('after revoke-sessions, every open session of the user is refused while the user can sign in again', async () => {
    const db = await database()
    const sql = await openStore(db)
    // Two instances of the application on one database: the sign-out reaches both.
    const [first, second] = [createApp(sql), createApp(sql)]
    const other = await openStore(db)
    const third = createApp(other)
    try {
      await sql.accounts.add({ username: 'carol', password: PASSWORD, roles: ['User'] })
      await sql.accounts.add({ username: 'dave', password: PASSWORD, roles: ['User'] })
      const laptop = await first.login('carol', PASSWORD)
      const phone = await third.login('carol', PASSWORD)
      const dave = await first.login('dave', PASSWORD)
      // All live and cached by the apps.
      for (const [app, cookie] of [
        [first, laptop],
        [second, laptop],
        [third, phone],
        [first, dave],
      ] as const)
        expect((await app.get(cookie)).status).toBe(200)

      const revoked = await spawnCLI(['revoke-sessions', 'carol', '--db', db])
      expect(revoked).toMatchObject({ code: 0, stdout: 'ended every session of user "carol"; they can sign in again\n' })

      expect(await eventually(() => first.get(laptop), 401)).toBe(401)
      expect(await eventually(() => second.get(laptop), 401)).toBe(401)
      expect(await eventually(() => third.get(phone), 401)).toBe(401)
      expect((await first.get(dave)).status).toBe(200) // only carol was signed out
      const again = await third.login('carol', PASSWORD)
      expect(await (await first.get(again)).text()).toBe('hello carol')
    } finally {
      for (const app of [first, second, third]) app.auth.close()
      await Promise.all([sql.close(), other.close()])
    }
  }, 60_000)
})
