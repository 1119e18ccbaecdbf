import type { AuthEnv } from '@gatehouse/core'
import { NOOP_LOGGER, MemoryRevocationList, Protected, Role, createAuth } from '@gatehouse/core'
import { startOIDCProvider } from '@gatehouse/testkit'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { keycloakAuthenticator } from '../src/readme/keycloak.js'

describe('README: the Keycloak example', () => {
  it('accepts the realm’s bearer tokens with mapped roles and offers the browser login', async () => {
    const provider = await startOIDCProvider({ realm: 'acme' })
    try {
      const kc = keycloakAuthenticator({
        KEYCLOAK_URL: provider.serverUrl,
        KEYCLOAK_CLIENT_ID: provider.clients.gatehouse.clientId,
        KEYCLOAK_CLIENT_SECRET: provider.clients.gatehouse.clientSecret,
        OIDC_LOGIN_SECRET: 'l'.repeat(40),
        APP_URL: 'http://127.0.0.1:8000',
      })
      expect(kc.options.issuer).toBe(provider.issuer)
      const auth = createAuth({
        roles: [new Role({ name: 'Administrator' }), new Role({ name: 'Viewer' })],
        authenticators: [kc],
        session: { secret: 'r'.repeat(40), secure: false },
        revocations: new MemoryRevocationList(),
        logger: NOOP_LOGGER,
      })
      const app = new Hono<AuthEnv>()
      app.use(auth.middleware())
      app.route('/auth', auth.routes())
      app.get('/admin', Protected(['Administrator']), (c) => c.text(`hello ${c.var.user.username}`))
      const { access_token } = await provider.passwordGrant({ username: 'alice', password: provider.users.alice.password })
      expect(await (await app.request('/admin', { headers: { authorization: `Bearer ${access_token}` } })).text()).toBe('hello alice')
      expect(await (await app.request('/auth/login')).text()).toContain('Sign in with Keycloak')
    } finally {
      await provider.stop()
    }
  })
})
