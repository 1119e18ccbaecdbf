import { Permission, Protected, Role, createAuth } from '@gatehouse/core'
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
  roles,
  authenticators: [sql.authenticator], // the chain: add LDAP, OIDC or your own here
  store: sql.store, // revocation: set-password, disable, delete end sessions at once
  throttle: sql.throttle, // login throttling shared by every instance
  session: { secret: process.env.AUTH_SECRET! }, // ≥ 32 characters; startup fails otherwise
})

export const app = new Hono<AuthEnv>()
app.use(auth.middleware()) // sets c.var.user on every request
app.route('/auth', auth.routes()) // GET/POST /auth/login, POST /auth/logout, GET /auth/me
app.get('/admin', Protected(['Administrator']), (c) => c.text(`Hello ${c.var.user.username}`))
app.get('/notes', Protected({ requiredPermissions: ['view'] }), (c) => c.json({ notes: [] }))
