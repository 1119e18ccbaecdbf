// The casbinGuard's policy check in process, on its own: `node dist/policy-check.js '{"rounds":5}'`
// builds the casbin row's app (the Gatehouse warm-session server, no socket) and times warm
// requests through `app.fetch` (what `app.request` calls), one at a time: `/p` behind
// `Protected(['User'])` and `/casbin` behind `casbinGuard` (the same user, the same session),
// alternating round by round. Then `enforceSync` alone, as the guard calls it (the user's
// Gatehouse roles counted by the role manager). Prints one JSON line, a PolicyCheckResult.
import type { User } from '@gatehouse/core'
import { GatehouseRoleManager, casbinSubject, newCasbinEnforcer } from '@gatehouse/policy-casbin'
import { median } from './harness.js'
import type { PolicyCheckResult } from './scenarios.js'
import { CASBIN_MODEL, CASBIN_POLICY } from './scenarios.js'
import { buildServer } from './server.js'

const { rounds = 5, requests = 5000, enforces = 50_000 } = JSON.parse(process.argv[2] ?? '{}') as { rounds?: number; requests?: number; enforces?: number }

const built = await buildServer({ kind: 'gatehouse', casbin: true })
const cookie = built.extra.cookie
if (cookie === undefined) throw new Error('policy-check: the server reported no session cookie')

/** Mean µs per warm request to `path`, `count` requests one after the other. */
async function perRequest(path: string, count: number): Promise<number> {
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    const res = await built.fetch(new Request(`http://127.0.0.1${path}`, { headers: { cookie: cookie! } }))
    await res.arrayBuffer()
    if (res.status !== 200) throw new Error(`policy-check: ${path} answered ${res.status}`)
  }
  return ((performance.now() - start) * 1000) / count
}

// Warm-up: the session cache, Casbin's compiled matcher, V8's optimizer.
await perRequest('/p', requests)
await perRequest('/casbin', requests)
const protectedMicros: number[] = []
const guardedMicros: number[] = []
for (let round = 0; round < rounds; round++) {
  protectedMicros.push(await perRequest('/p', requests))
  guardedMicros.push(await perRequest('/casbin', requests))
}

// enforceSync alone, with the subject the guard builds for alice (an SQL user holding User).
const enforcer = await newCasbinEnforcer({ model: CASBIN_MODEL, policy: CASBIN_POLICY })
const roleManager = enforcer.getRoleManager()
if (!(roleManager instanceof GatehouseRoleManager)) throw new Error('policy-check: the enforcer has no GatehouseRoleManager')
const user: User = { id: '1', username: 'alice', roles: ['User'], source: 'sql' }
const subject = casbinSubject(user)
const enforceFor = (count: number): number => {
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    if (roleManager.withSubject(subject, () => enforcer.enforceSync(subject, '/casbin', 'GET')) !== true) throw new Error('policy-check: the policy denied alice')
  }
  return ((performance.now() - start) * 1000) / count
}
enforceFor(enforces)
const enforceMicros: number[] = []
for (let round = 0; round < rounds; round++) enforceMicros.push(enforceFor(enforces))

const result: PolicyCheckResult = {
  requests,
  enforces,
  protectedMicros,
  guardedMicros,
  checkMicros: median(guardedMicros.map((g, i) => g - protectedMicros[i]!)),
  enforceMicros: median(enforceMicros),
}
await built.close()
process.stdout.write(`${JSON.stringify(result)}\n`)
process.exit(0)
