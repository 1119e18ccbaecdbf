import { Permission, Role, createAuth } from '@gatehouse/core'
import type { AuthEnv } from '@gatehouse/core'
import { openSQLStore } from '@gatehouse/store-sql'
import { Hono } from 'hono'

const VIEW = new Permission({ name: 'view', description: 'Read notes' })
const EDIT = new Permission({ name: 'edit', description: 'Write notes' })
export const roles = [
  new Role({ name: 'Administrator', permissions: [VIEW, EDIT] }),
  new Role({ name: 'Viewer', permissions: [VIEW] }),
]

// SQLite file ./gatehouse.db unless AUTH_DB_URI says otherwise (e.g. postgres://…).
const sql = await openSQLStore({ uri: process.env.AUTH_DB_URI })

export const auth = createAuth({
  ...sql.authOptions, // the SQL authenticator, revocation through the store, shared throttling
  roles,
  session: { secret: process.env.AUTH_SECRET! }, // ≥ 32 characters; startup fails otherwise
})

export const app = new Hono<AuthEnv>()
app.onError(auth.onError) // Gatehouse errors by code: an outage is a 503, anything else a generic 500
auth.mount(app) // c.var.user on every request; GET/POST /auth/login, POST /auth/logout, GET /auth/me
app.get('/admin', auth.protect(['Administrator']), (c) => c.text(`Hello ${c.var.user.username}`))
app.get('/notes', auth.protect({ requiredPermissions: ['view'] }), (c) => c.json({ notes: [] }))
