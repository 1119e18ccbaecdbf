import type { Role } from './role.js'

/**
 * The application's roles, registered in code at startup.
 * Duplicate names throw; once {@link RoleRegistry.freeze} has run (`createAuth` calls it) the
 * registry is read-only, so no request can add a role.
 *
 * @example
 * ```ts
 * const roles = new RoleRegistry([admin, user, viewer])
 * roles.permissionsOf(['User']) // Set { 'view', 'edit' }
 * ```
 */
export class RoleRegistry<R extends Role = Role> {
  // A Map (not an object) so a role or claim named `__proto__` or `constructor` finds nothing.
  readonly #roles = new Map<string, Role>()
  #frozen = false

  constructor(roles: Iterable<R> = []) {
    for (const role of roles) this.register(role)
  }

  /** Adds a role. Throws `TypeError` on a duplicate name or after the registry was frozen. */
  register(role: R): this {
    if (this.#frozen) throw new TypeError(`RoleRegistry: cannot register "${role.name}" after startup`)
    if (this.#roles.has(role.name)) throw new TypeError(`RoleRegistry: duplicate role "${role.name}"`)
    this.#roles.set(role.name, role)
    return this
  }

  /** Makes the registry read-only. Idempotent. */
  freeze(): this {
    this.#frozen = true
    return this
  }

  get frozen(): boolean {
    return this.#frozen
  }

  /** The role of that name, or `null`. */
  get(name: string): Role | null {
    return this.#roles.get(name) ?? null
  }

  has(name: string): boolean {
    return this.#roles.has(name)
  }

  /** All registered roles, in registration order. */
  list(): Role[] {
    return [...this.#roles.values()]
  }

  /** `true` when some registered role grants a permission of this name. */
  hasPermission(name: string): boolean {
    for (const role of this.#roles.values()) if (role.permissions.some((permission) => permission.name === name)) return true
    return false
  }

  /** The names of the permissions that these role names grant. Unknown role names grant nothing. */
  permissionsOf(roleNames: Iterable<string>): Set<string> {
    const permissions = new Set<string>()
    for (const name of roleNames) {
      for (const permission of this.#roles.get(name)?.permissions ?? []) permissions.add(permission.name)
    }
    return permissions
  }
}
