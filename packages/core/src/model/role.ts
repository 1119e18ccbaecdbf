import type { Permission } from './permission.js'

/** A named set of permissions. Users hold role names; their permissions are derived from roles. */
export class Role<N extends string = string, P extends string = string> {
  /** The name, as a literal type when written inline: `auth.protect` checks role names at compile time. */
  readonly name: N
  readonly description: string
  readonly permissions: readonly Permission<P>[]

  /**
   * @example
   * ```ts
   * const admin = new Role({ name: 'Administrator', permissions: [VIEW, EDIT, DELETE] })
   * ```
   */
  constructor(args: { name: N; description?: string; permissions?: readonly Permission<P>[] }) {
    if (typeof args.name !== 'string' || args.name.trim() === '') {
      throw new TypeError('Role: name must be a non-empty string')
    }
    this.name = args.name
    this.description = args.description ?? ''
    this.permissions = Object.freeze([...(args.permissions ?? [])])
    Object.freeze(this)
  }
}

/** The role names of a union of roles: `RoleNameOf<typeof roles[number]>`. */
export type RoleNameOf<R> = R extends Role<infer N, string> ? N : never
/** The permission names a union of roles grants. */
export type PermissionNameOf<R> = R extends Role<string, infer P> ? P : never
