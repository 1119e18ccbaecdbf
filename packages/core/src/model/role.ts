import type { Permission } from './permission.js'

/** A named set of permissions. Users hold role names; their permissions are derived from roles. */
export class Role {
  readonly name: string
  readonly description: string
  readonly permissions: readonly Permission[]

  /**
   * @example
   * ```ts
   * const admin = new Role({ name: 'Administrator', permissions: [VIEW, EDIT, DELETE] })
   * ```
   */
  constructor(args: { name: string; description?: string; permissions?: readonly Permission[] }) {
    if (typeof args.name !== 'string' || args.name.trim() === '') {
      throw new TypeError('Role: name must be a non-empty string')
    }
    this.name = args.name
    this.description = args.description ?? ''
    this.permissions = Object.freeze([...(args.permissions ?? [])])
    Object.freeze(this)
  }
}
