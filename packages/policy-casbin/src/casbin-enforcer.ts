import { readFile } from 'node:fs/promises'
import type { Adapter, Enforcer } from 'casbin'
import { StringAdapter, newEnforcer, newModelFromString } from 'casbin'
import { installRoleManager } from './casbin-guard.js'

/** Text, or a file to read it from. */
export type TextSource = string | { readonly file: string }

/** Options of {@link newCasbinEnforcer}. */
export interface CasbinEnforcerOptions {
  /** The model (`.conf` text), or `{ file }`. */
  readonly model: TextSource
  /**
   * The policy: CSV text (`p, Administrator, /entries/*, DELETE`), `{ file }`, or a Casbin adapter
   * such as the SQL one of {@link openSQLPolicy}. @default no rules (everything denied)
   */
  readonly policy?: TextSource | Adapter
}

/**
 * Builds a Casbin enforcer from a model and a policy, with Gatehouse's role manager on `g` (the
 * user's Gatehouse roles count as memberships). Reads files with `node:fs`. A model or policy that
 * does not parse, or a file that cannot be read, rejects: call it at startup.
 *
 * @example
 * ```ts
 * const enforcer = await newCasbinEnforcer({ model: { file: 'policy/model.conf' }, policy: { file: 'policy/policy.csv' } })
 * ```
 */
export async function newCasbinEnforcer(options: CasbinEnforcerOptions): Promise<Enforcer> {
  if (typeof options !== 'object' || options === null) throw new TypeError('newCasbinEnforcer: options are required')
  const model = newModelFromString(await textOf(options.model, 'model'))
  // StringAdapter refuses an empty document; a line break is an empty policy.
  const policy = options.policy ?? '\n'
  const adapter: Adapter = typeof policy === 'string' || isFileSource(policy) ? new StringAdapter((await textOf(policy, 'policy')) || '\n') : (policy as Adapter)
  if (typeof adapter?.loadPolicy !== 'function') throw new TypeError('newCasbinEnforcer: policy must be text, { file } or a Casbin adapter')
  const enforcer = await newEnforcer(model, adapter)
  installRoleManager(enforcer)
  return enforcer
}

function isFileSource(value: unknown): value is { file: string } {
  return typeof value === 'object' && value !== null && typeof (value as { file?: unknown }).file === 'string'
}

async function textOf(source: TextSource, what: string): Promise<string> {
  if (typeof source === 'string') return source
  if (isFileSource(source)) return readFile(source.file, 'utf8')
  throw new TypeError(`newCasbinEnforcer: ${what} must be text or { file }`)
}
