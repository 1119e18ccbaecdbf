import { newCasbinEnforcer } from '@gatehouse/policy-casbin'

// The rule roles alone cannot say: a User may edit or delete only the entries they wrote, an
// Administrator any. Roles are Gatehouse's own (no `g` lines needed); an entry's owner is its
// author's principal `<source>:<id>`, so an LDAP bob never owns an SQL bob's entries.
export const ENTRIES_MODEL = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, act, rule

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.act == p.act && eval(p.rule)
`

export const ENTRIES_POLICY = `
p, Administrator, edit, true
p, Administrator, delete, true
p, User, edit, r.obj.owner == r.sub.id
p, User, delete, r.obj.owner == r.sub.id
`

/** The enforcer of the entries API. Built when the module loads: a broken model stops the demo. */
export const entriesPolicy = await newCasbinEnforcer({ model: ENTRIES_MODEL, policy: ENTRIES_POLICY })
