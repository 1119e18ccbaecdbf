// The bearer fast path, in process (no HTTP): `tsx --conditions=gatehouse-source packages/authenticator-oidc/bench/fast-path.ts`.
// Prints µs per cached identify, µs per first verification (RS256), and req/s of a bare Hono route
// against a Protected route reached with a bearer token, through app.request.
import type { AuthEnv } from '@gatehouse/core'
import { MemoryRevocationList, NOOP_LOGGER, Protected, Role, createAuth } from '@gatehouse/core'
import { startOIDCProvider } from '@gatehouse/testkit'
import { Hono } from 'hono'
import { SignJWT, importJWK } from 'jose'
import { OIDCAuthenticator } from '../src/index.js'

const server = await startOIDCProvider()
const oidc = new OIDCAuthenticator({ issuer: server.issuer, clientId: 'gatehouse', roles: { map: { admin: 'Administrator' } } })
const key = await importJWK(server.signingKey, 'RS256')
const now = Math.floor(Date.now() / 1000)
const token = (jti: string) =>
  new SignJWT({ iss: server.issuer, aud: 'gatehouse', sub: server.users.alice.sub, typ: 'Bearer', iat: now, exp: now + 600, jti, realm_access: { roles: ['admin'] } })
    .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: server.signingKey.kid })
    .sign(key)
const request = (value: string) => new Request('http://app.test/', { headers: { authorization: `Bearer ${value}` } })

const hot = await token('hot')
await oidc.identify({ request: request(hot) })
const fresh = await Promise.all(Array.from({ length: 300 }, (_, i) => token(`fresh-${i}`)))
let started = performance.now()
for (const value of fresh) await oidc.identify({ request: request(value) })
const verifyMicros = ((performance.now() - started) * 1000) / fresh.length
const hotRequest = request(hot)
for (let i = 0; i < 20_000; i++) await oidc.identify({ request: hotRequest }) // warm-up
started = performance.now()
for (let i = 0; i < 20_000; i++) await oidc.identify({ request: hotRequest })
const cachedMicros = ((performance.now() - started) * 1000) / 20_000

const auth = createAuth({
  roles: [new Role({ name: 'Administrator' })],
  authenticators: [oidc],
  session: { secret: 'm'.repeat(40), secure: false },
  revocations: new MemoryRevocationList(),
  logger: NOOP_LOGGER,
})
const app = new Hono<AuthEnv>()
app.get('/bare', (c) => c.text('ok'))
app.use('/guarded/*', auth.middleware())
app.get('/guarded/admin', Protected(['Administrator']), (c) => c.text('ok'))
const rate = async (path: string, headers: Record<string, string>) => {
  const start = performance.now()
  for (let i = 0; i < 10_000; i++) await app.request(path, { headers })
  return 10_000 / ((performance.now() - start) / 1000)
}
await rate('/bare', {})
await rate('/guarded/admin', { authorization: `Bearer ${hot}` })
const bare = await rate('/bare', {})
const guarded = await rate('/guarded/admin', { authorization: `Bearer ${hot}` })
console.log(
  JSON.stringify({
    firstVerificationMicros: Math.round(verifyMicros),
    cachedIdentifyMicros: +cachedMicros.toFixed(1),
    bareRequestsPerSecond: Math.round(bare),
    guardedRequestsPerSecond: Math.round(guarded),
    ratio: +(guarded / bare).toFixed(2),
  }),
)
await server.stop()
