import type { User } from '@gatehouse/core'

/**
 * The subject a Casbin policy sees for a Gatehouse user (`r.sub`). Policies name a user by
 * principal, `<source>:<id>` (`sql:42`, `ldap:uid=alice,ou=people,dc=example,dc=org`), so an LDAP
 * `alice` and an SQL `alice` never share a rule; roles by their Gatehouse names.
 *
 * It is an object (for ABAC matchers: `r.sub.id`, `r.sub.source`, `r.sub.username`) whose string
 * form is the principal, so `g(r.sub, p.sub)` and `r.sub == p.sub` compare the principal.
 */
export interface CasbinSubject {
  /** The principal, `<source>:<id>`: what `p` and `g` lines name. */
  readonly id: string
  /** `User.source`: the authenticator that vouched for the user. */
  readonly source: string
  /** `User.id`: the id within that source. */
  readonly userId: string
  /** For display and logs only: a username is not an identity across sources. */
  readonly username: string
  /** The user's Gatehouse roles; they count as `g` memberships (see GatehouseRoleManager). */
  readonly roles: readonly string[]
  /** The request's domain (tenant), when the guard has one. */
  readonly domain: string | undefined
  toString(): string
}

/** The principal of a user, `<source>:<id>`: how policies and stored owners name them. */
export function principalOf(user: Pick<User, 'source' | 'id'>): string {
  return `${user.source}:${user.id}`
}

/**
 * The {@link CasbinSubject} of `user`, frozen. `roles` are the roles that count as memberships
 * @default user.roles without any name that contains `:` (it could pass for a principal)
 */
export function casbinSubject(user: User, domain?: string, roles: readonly string[] = user.roles): CasbinSubject {
  const id = principalOf(user)
  return Object.freeze({
    id,
    source: user.source,
    userId: user.id,
    username: user.username,
    roles: Object.freeze(roles.filter((role) => !role.includes(':'))),
    domain,
    toString: () => id,
  })
}
