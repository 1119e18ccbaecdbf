// The short wiring, `createAuth({ ...sql.authOptions, roles, session })`, is the complete one.
import { Role, createAuth } from '@gatehouse/core'
import { Hono } from 'hono'
import { afterAll, describe, expect, it } from 'vitest'
import { ORIGIN, SECRET, openTestStore, removeTempDirectories, sessionCookieOf, tempSQLiteURI } from './fixtures.js'

afterAll(removeTempDirectories)

describe('sql.authOptions', () => {
  it('wires authenticator, store and throttle without a warning; a logout holds in another instance', async () => {
    const uri = tempSQLiteURI()
    const [one, two] = [await openTestStore(uri), await openTestStore(uri)]
    await one.accounts.add({ username: 'alice', password: 'violet cormorant lantern', roles: ['User'] })
    const warnings: unknown[] = []
    const logger = { debug() {}, info() {}, error() {}, warn: (fields: Record<string, unknown>) => void warnings.push(fields) }
    const apps = [one, two].map((sql) => {
      const auth = createAuth({ ...sql.authOptions, roles: [new Role({ name: 'User' })], session: { secret: SECRET, secure: false }, logger })
      const app = auth.mount(new Hono())
      app.get('/me-too', auth.protect(['User']), (c) => c.text('ok'))
      return app
    })
    expect(warnings).toEqual([])
    const login = await apps[0]!.request(`${ORIGIN}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      body: JSON.stringify({ username: 'alice', password: 'violet cormorant lantern' }),
    })
    const cookie = sessionCookieOf(login)!
    expect((await apps[1]!.request(`${ORIGIN}/me-too`, { headers: { cookie } })).status).toBe(200)
    await apps[0]!.request(`${ORIGIN}/auth/logout`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', origin: ORIGIN } })
    // The other instance refuses the replayed cookie within the SQLite change poll (≈ 250 ms).
    const deadline = Date.now() + 3000
    let status = 200
    while (status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      status = (await apps[1]!.request(`${ORIGIN}/me-too`, { headers: { cookie } })).status
    }
    expect(status).toBe(401)
    await Promise.all([one.close(), two.close()])
  })
})
