import { UsageError } from './errors.js'
import { escapeMessage } from './escape.js'

/**
 * The new-password rules an application gives its SQL store (`openSQLStore({ passwordPolicy })`),
 * as far as the CLI passes them on: the subset of store-sql's `PasswordPolicyOptions` it reads
 * from the config module, so that `auth-user-admin` refuses what the application refuses.
 */
export interface PasswordPolicySettings {
  readonly minLength?: number
  readonly maxLength?: number
  readonly blocklist?: readonly string[]
  /** Words specific to the service, e.g. the application's name. */
  readonly contextWords?: readonly string[]
}

/**
 * The `passwordPolicy` a config module exports (or its default export's), or `null` without one.
 * Checked by shape: numbers for the lengths, arrays of strings for the word lists.
 *
 * @throws UsageError for any other shape (exit 2), naming the field.
 */
export function passwordPolicyFromModule(module: Record<string, unknown>, source: string): PasswordPolicySettings | null {
  const fallback = module.default as { passwordPolicy?: unknown } | undefined
  const policy = module.passwordPolicy ?? fallback?.passwordPolicy
  if (policy === undefined || policy === null) return null
  const bad = (field: string, wanted: string) => new UsageError(`config module ${escapeMessage(source)}: passwordPolicy${field} must be ${wanted}`)
  if (typeof policy !== 'object' || Array.isArray(policy)) throw bad('', 'an object')
  const { minLength, maxLength, blocklist, contextWords } = policy as Record<string, unknown>
  const settings: { -readonly [K in keyof PasswordPolicySettings]: PasswordPolicySettings[K] } = {}
  for (const [name, value] of [
    ['minLength', minLength],
    ['maxLength', maxLength],
  ] as const) {
    if (value === undefined) continue
    if (typeof value !== 'number') throw bad(`.${name}`, 'a number')
    settings[name] = value
  }
  for (const [name, value] of [
    ['blocklist', blocklist],
    ['contextWords', contextWords],
  ] as const) {
    if (value === undefined) continue
    if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) throw bad(`.${name}`, 'an array of strings')
    settings[name] = [...value]
  }
  return settings
}
