import type { Logger } from '@gatehouse/core'
// The URI helpers only: the store itself (and kysely) load on first use, so --help stays fast.
import { maskURI } from '@gatehouse/store-sql/uri'
import { CLIError, UsageError } from './errors.js'
import { escapeMessage } from './escape.js'
import type { CLIIO } from './io.js'
import { writeOut } from './io.js'
import { passwordPolicyFromModule } from './password-policy.js'
import type { RoleCatalog } from './roles.js'
import { loadConfigModule, requireRoleCatalog } from './roles.js'
import type { AdminStore, StoreOpener } from './store.js'
import { resolveDbURI } from './store.js'

/** Options every command accepts (commander's global options). */
export interface GlobalOptions {
  readonly db?: string | undefined
  readonly config?: string | undefined
  readonly json?: boolean | undefined
  readonly verbose?: boolean | undefined
}

/**
 * What a command gets: output helpers, the store and the application's roles, both opened on
 * first use. Commands are plain async functions of a context and their arguments.
 */
export interface CommandContext {
  readonly io: CLIIO
  /** `--json`: stdout carries exactly one JSON document. */
  readonly json: boolean
  readonly verbose: boolean
  /**
   * Opens the store of `--db`, `AUTH_DB_URI` or the default; the caller closes it. With
   * `passwordPolicy`, the store checks new passwords with the config module's `passwordPolicy`
   * (e.g. the application's name as a context word), as the application does.
   */
  openStore(options?: { readonly migrate?: boolean; readonly passwordPolicy?: boolean }): Promise<AdminStore>
  /** The URI the store is opened with, masked, for messages. */
  readonly dbLabel: string
  /** The roles of `--config` / `AUTH_CONFIG`, or `null` when neither is set. */
  roleCatalog(): Promise<RoleCatalog | null>
  /** A line on stdout (human output). */
  print(text: string): Promise<void>
  /** The one JSON document of `--json`. */
  printJSON(value: unknown): Promise<void>
  /** `warning: ...` on stderr. */
  warn(message: string): void
}

/**
 * The directory the user typed relative paths in. `pnpm auth-user-admin` runs the root script
 * with the repository root as working directory (so the default database is the demo's), and
 * keeps the caller's directory in `INIT_CWD`: relative `--db` and `--config` paths are resolved
 * against that, as the user meant them.
 */
export function invocationDir(io: Pick<CLIIO, 'env' | 'cwd'>): string {
  const { npm_lifecycle_event: script, INIT_CWD: initCwd } = io.env
  return script === 'auth-user-admin' && initCwd !== undefined && initCwd !== '' ? initCwd : io.cwd
}

export function createContext(io: CLIIO, options: GlobalOptions, openStore: StoreOpener): CommandContext {
  const json = options.json === true
  const verbose = options.verbose === true
  const baseDir = invocationDir(io)
  // A flag is relative to where it was typed; the environment and the default are relative to
  // the working directory, exactly as the application reading the same variables sees them.
  const uri = options.db !== undefined ? resolveDbURI(options.db, baseDir) : nonEmpty(io.env.AUTH_DB_URI)
  const dbLabel = maskURI(uri ?? './gatehouse.db')
  const configModule = options.config ?? nonEmpty(io.env.AUTH_CONFIG)
  const configBase = options.config !== undefined ? baseDir : io.cwd
  let configLoaded: Promise<Record<string, unknown>> | undefined
  let catalog: Promise<RoleCatalog | null> | undefined
  // The module is imported once, for its roles and its password policy alike.
  const config = (module: string) => (configLoaded ??= loadConfigModule({ module, baseDir: configBase }))

  const warn = (message: string): void => {
    io.stderr.write(`warning: ${escapeMessage(message)}\n`)
  }
  const logger = storeLogger(io, verbose)

  return {
    io,
    json,
    verbose,
    dbLabel,
    async openStore(openOptions) {
      const passwordPolicy = openOptions?.passwordPolicy === true && configModule !== undefined ? passwordPolicyFromModule(await config(configModule), configModule) : null
      try {
        return await openStore({ uri, migrate: openOptions?.migrate ?? true, logger, ...(passwordPolicy === null ? {} : { passwordPolicy }) })
      } catch (error) {
        if (error instanceof TypeError) throw new UsageError(error.message, { cause: error })
        if (hasCode(error, 'ERR_STORE_UNAVAILABLE')) throw new CLIError(`cannot reach the database ${dbLabel}: ${reasonOf(error)}`, { cause: error })
        // A schema migrated by a newer Gatehouse: the store refuses to run against it.
        if (hasCode(error, 'ERR_MISCONFIGURED')) throw new CLIError(error.message, { cause: error })
        throw error
      }
    },
    roleCatalog() {
      catalog ??= configModule === undefined ? Promise.resolve(null) : config(configModule).then((module) => requireRoleCatalog(module, configModule))
      return catalog
    },
    print: (text) => writeOut(io.stdout, text.endsWith('\n') ? text : `${text}\n`),
    printJSON: (value) => writeOut(io.stdout, `${JSON.stringify(value, null, 2)}\n`),
    warn,
  }
}

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value)

/** `true` when `error` is an AuthError (or look-alike) with that code. */
export function hasCode(error: unknown, code: string): error is Error & { code: string } {
  return error instanceof Error && (error as { code?: unknown }).code === code
}

/**
 * The most specific one-line reason: a store's "unavailable" error wraps the driver's error
 * (`connect ECONNREFUSED 127.0.0.1:1`), which says more than the wrapper, so the deepest message
 * of the `cause` chain wins (an `AggregateError` from a dual-stack connect counts by its first).
 */
export function reasonOf(error: unknown): string {
  let reason = ''
  let current: unknown = error
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (!(current instanceof Error)) {
      reason ||= String(current)
      break
    }
    const message = current.message.split('\n')[0]?.trim() ?? ''
    if (message !== '') reason = message
    const next: unknown = current.cause ?? (current instanceof AggregateError ? current.errors[0] : undefined)
    current = next
  }
  return escapeMessage(reason || 'unknown error')
}

/** Store logs: warnings and errors as one line on stderr; everything, with fields, under `--verbose`. */
function storeLogger(io: CLIIO, verbose: boolean): Logger {
  const line =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      const detail = verbose && Object.keys(fields).length > 0 ? ` ${safeJSON(fields)}` : ''
      io.stderr.write(`${level}: ${escapeMessage(message)}${escapeMessage(detail)}\n`)
    }
  const noop = (): void => {}
  return { debug: verbose ? line('debug') : noop, info: verbose ? line('info') : noop, warn: line('warning'), error: line('error') }
}

function safeJSON(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, field: unknown) => (field instanceof Error ? { name: field.name, message: field.message } : field))
  } catch {
    return '[unserializable]'
  }
}
