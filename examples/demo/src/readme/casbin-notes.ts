import { join } from 'node:path'
import type { Auth, AuthEnv } from '@gatehouse/core'
import { casbinGuard, newCasbinEnforcer, principalOf } from '@gatehouse/policy-casbin'
import type { Context, Hono } from 'hono'

/** Notes: any signed-in user writes one; a User may change only their own, an Administrator any. */
export async function addNotes(app: Hono<AuthEnv>, auth: Auth, policyDir: string) {
  const enforcer = await newCasbinEnforcer({ model: { file: join(policyDir, 'model.conf') }, policy: { file: join(policyDir, 'policy.csv') } })
  const notes = new Map<string, { text: string; owner: string }>()
  // r.obj: the note's owner principal, '' when there is no such note (only the Administrator rule passes).
  const note = (c: Context) => ({ owner: notes.get(c.req.param('id') ?? '')?.owner ?? '' })

  app.post('/notes/:id', auth.protect(), async (c) => {
    if (notes.has(c.req.param('id'))) return c.json({ error: 'exists' }, 409)
    notes.set(c.req.param('id'), { text: await c.req.text(), owner: principalOf(c.var.user) }) // 'sql:42', not 'alice'
    return c.body(null, 201)
  })
  app.put('/notes/:id', casbinGuard(enforcer, { object: note, action: 'edit' }), async (c) => {
    const existing = notes.get(c.req.param('id'))
    if (existing === undefined) return c.json({ error: 'not found' }, 404)
    existing.text = await c.req.text()
    return c.body(null, 204)
  })
}
