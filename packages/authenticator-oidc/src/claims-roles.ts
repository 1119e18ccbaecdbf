import type { ResolvedOIDCOptions } from './oidc-options.js'

/** Names a claim may not grant: they are properties of every JavaScript object. */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype'])

/**
 * The provider roles a token carries, per the options: `realm_access.roles`, the roles of ONE
 * `resource_access` entry (this resource server's, never another client's), optionally `groups`.
 * A missing or mistyped claim yields nothing; it never throws.
 */
export function providerRoles(claims: Readonly<Record<string, unknown>>, options: ResolvedOIDCOptions['roles']): string[] {
  const found: string[] = []
  if (options.realmRoles) found.push(...stringList(ownObject(claims, 'realm_access')?.roles))
  if (options.clientRolesFrom !== null) {
    const access = ownObject(claims, 'resource_access')
    const mine = access === undefined ? undefined : ownObject(access, options.clientRolesFrom)
    found.push(...stringList(mine?.roles))
  }
  if (options.groups) found.push(...stringList(ownValue(claims, 'groups')))
  return [...new Set(found)]
}

/** Gatehouse roles for the provider roles: default roles, then mapped ones, then (if kept) unmapped ones. */
export function mapRoles(provider: readonly string[], options: ResolvedOIDCOptions['roles']): string[] {
  const roles = new Set(options.defaultRoles)
  for (const role of provider) {
    // `map` is a Map: "__proto__" or "constructor" find nothing unless configured, and nothing is inherited.
    const mapped = options.map.get(role)
    if (mapped !== undefined) for (const name of mapped) roles.add(name)
    else if (options.keepUnmapped && !FORBIDDEN.has(role)) roles.add(role)
  }
  return [...roles]
}

/** Scopes of a `scope` claim (space-separated string; some providers send an array). */
export function scopesOf(claims: Readonly<Record<string, unknown>>): string[] {
  const scope = ownValue(claims, 'scope') ?? ownValue(claims, 'scp')
  if (typeof scope === 'string') return [...new Set(scope.split(' ').filter((item) => item !== '' && !FORBIDDEN.has(item)))]
  return stringList(scope)
}

/** A claim that is a string, else undefined. */
export function stringClaim(claims: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = ownValue(claims, name)
  return typeof value === 'string' && value !== '' ? value : undefined
}

function ownValue(object: Readonly<Record<string, unknown>>, key: string): unknown {
  if (FORBIDDEN.has(key) || !Object.hasOwn(object, key)) return undefined
  return object[key]
}

function ownObject(object: Readonly<Record<string, unknown>>, key: string): Readonly<Record<string, unknown>> | undefined {
  const value = ownValue(object, key)
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
}

function stringList(value: unknown): string[] {
  if (!Array.isArray(value)) return []
  return value.filter((item): item is string => typeof item === 'string' && item.trim() !== '' && !FORBIDDEN.has(item))
}
