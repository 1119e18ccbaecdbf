import type { RoleManager } from 'casbin'
import { DefaultRoleManager } from 'casbin'
import type { CasbinSubject } from './casbin-subject.js'

/**
 * Casbin's role manager for `g`, with the Gatehouse roles of the request's user counted as role
 * memberships: for a subject `sql:42` holding the Gatehouse role `Administrator`,
 * `g(r.sub, 'Administrator')` is true without a `g, sql:42, Administrator` line, and so is
 * `g(r.sub, 'User')` when the policy says `g, Administrator, User` (role inheritance stays Casbin's).
 *
 * Casbin's `g()` takes strings, so the roles cannot travel with the subject through it. They are
 * visible instead for the duration of one synchronous `enforceSync` call inside
 * {@link GatehouseRoleManager.withSubject}; being synchronous, no other request's check can run
 * in between. Outside such a call (the enforcer's own async `enforce`, `getRolesForUser`) only the
 * policy's `g` lines count.
 *
 * In a model with domains (`g = _, _, _`), the user's roles count in the request's domain only
 * (the domain of the subject), never in another tenant's.
 */
export class GatehouseRoleManager implements RoleManager {
  /** The role manager holding the policy's own `g` lines. */
  readonly inner: RoleManager & { syncedHasLink(name1: string, name2: string, ...domain: string[]): boolean }
  #current: CasbinSubject | undefined

  constructor(inner: RoleManager = new DefaultRoleManager(10)) {
    if (typeof inner.syncedHasLink !== 'function') throw new TypeError('GatehouseRoleManager: the inner role manager must implement syncedHasLink')
    this.inner = inner as GatehouseRoleManager['inner']
  }

  /** Runs `check` (a synchronous enforce) with `subject`'s Gatehouse roles counted. Re-entrant. */
  withSubject<T>(subject: CasbinSubject, check: () => T): T {
    const previous = this.#current
    this.#current = subject
    try {
      return check()
    } finally {
      this.#current = previous
    }
  }

  syncedHasLink(name1: string, name2: string, ...domain: string[]): boolean {
    if (this.inner.syncedHasLink(name1, name2, ...domain)) return true
    const subject = this.#current
    if (subject === undefined || name1 !== subject.id) return false
    if (domain.length > 0 && domain[0] !== subject.domain) return false
    return subject.roles.some((role) => role === name2 || this.inner.syncedHasLink(role, name2, ...domain))
  }

  async hasLink(name1: string, name2: string, ...domain: string[]): Promise<boolean> {
    return this.syncedHasLink(name1, name2, ...domain)
  }

  clear(): Promise<void> {
    return this.inner.clear()
  }

  addLink(name1: string, name2: string, ...domain: string[]): Promise<void> {
    return this.inner.addLink(name1, name2, ...domain)
  }

  deleteLink(name1: string, name2: string, ...domain: string[]): Promise<void> {
    return this.inner.deleteLink(name1, name2, ...domain)
  }

  getRoles(name: string, ...domain: string[]): Promise<string[]> {
    return this.inner.getRoles(name, ...domain)
  }

  getUsers(name: string, ...domain: string[]): Promise<string[]> {
    return this.inner.getUsers(name, ...domain)
  }

  printRoles(): Promise<void> {
    return this.inner.printRoles()
  }

  getDomains(name: string): Promise<string[]> {
    return this.inner.getDomains(name)
  }

  getAllDomains(): Promise<string[]> {
    return this.inner.getAllDomains()
  }
}
