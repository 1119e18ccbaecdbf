/** A named capability, e.g. `view` or `entries:delete`. Permissions are granted through roles. */
export class Permission<N extends string = string> {
  /** The name, as a literal type when written inline: `auth.protect` checks permission names at compile time. */
  readonly name: N
  readonly description: string

  /**
   * @example
   * ```ts
   * const VIEW = new Permission({ name: 'view', description: 'Read entries' })
   * ```
   */
  constructor(args: { name: N; description?: string }) {
    if (typeof args.name !== 'string' || args.name.trim() === '') {
      throw new TypeError('Permission: name must be a non-empty string')
    }
    this.name = args.name
    this.description = args.description ?? ''
    Object.freeze(this)
  }
}
