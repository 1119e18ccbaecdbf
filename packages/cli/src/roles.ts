import { existsSync } from 'node:fs'
import { extname, isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { CLIError, UsageError } from './errors.js'
import { escapeMessage } from './escape.js'

/** The application's roles as the CLI sees them: names, and what each grants. */
export interface RoleCatalog {
  /** Where the roles came from (the module path), for messages. */
  readonly source: string
  /** Role names in registration order. */
  readonly names: readonly string[]
  has(name: string): boolean
  /** Permission names the roles grant (unknown names grant nothing). */
  permissionsOf(roles: Iterable<string>): Set<string>
}

/**
 * Splits `"Administrator, User"` into `['Administrator', 'User']`: comma-separated, surrounding
 * white space dropped, empty items and duplicates removed. Role names are case-sensitive, as in
 * the application's `RoleRegistry`.
 */
export function parseRoleList(value: string): string[] {
  return [
    ...new Set(
      value
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
    ),
  ]
}

// The subset of a Role and a RoleRegistry the CLI reads. Matched by shape, not `instanceof`: the
// application's module may load its own copy of @gatehouse/core (built `dist/` vs. sources).
interface RoleLike {
  readonly name: string
  readonly permissions?: ReadonlyArray<{ readonly name: string }>
}

const isRoleLike = (value: unknown): value is RoleLike => typeof value === 'object' && value !== null && typeof (value as RoleLike).name === 'string' && (value as RoleLike).name !== ''

function rolesOf(value: unknown): RoleLike[] | null {
  if (typeof value !== 'object' || value === null) return null
  const list = (value as { list?: unknown }).list
  if (typeof list === 'function') {
    const roles: unknown = list.call(value)
    return Array.isArray(roles) && roles.every(isRoleLike) ? roles : null
  }
  if (Array.isArray(value) && value.every(isRoleLike)) return value
  return null
}

/**
 * Finds the roles a loaded module exports: `roles` (a `RoleRegistry` or an array of `Role`), or a
 * default export that is a registry or has `roles`.
 */
export function catalogFromModule(module: Record<string, unknown>, source: string): RoleCatalog | null {
  const fallback = module.default as { roles?: unknown } | undefined
  const roles = rolesOf(module.roles) ?? rolesOf(fallback) ?? rolesOf(fallback?.roles)
  if (roles === null) return null
  const byName = new Map<string, RoleLike>()
  for (const role of roles) byName.set(role.name, role)
  return {
    source,
    names: [...byName.keys()],
    has: (name) => byName.has(name),
    permissionsOf(names) {
      const permissions = new Set<string>()
      for (const name of names) for (const permission of byName.get(name)?.permissions ?? []) permissions.add(permission.name)
      return permissions
    },
  }
}

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx'])

/**
 * Loads the application's module named by `--config` / `AUTH_CONFIG` (its roles, and optionally
 * its `passwordPolicy`). TypeScript modules load through tsx, so this works from the built binary
 * as well as from sources. Point it at a module without side effects (e.g. `src/roles.ts`), not at
 * the server.
 *
 * @throws UsageError when the file does not exist (exit 2).
 * @throws CLIError when the module throws while loading (exit 1).
 */
export async function loadConfigModule(args: { readonly module: string; readonly baseDir: string }): Promise<Record<string, unknown>> {
  const path = isAbsolute(args.module) ? args.module : resolve(args.baseDir, args.module)
  const shown = escapeMessage(args.module)
  if (!existsSync(path)) throw new UsageError(`config module ${shown} not found (looked for ${escapeMessage(path)})`)
  try {
    const url = pathToFileURL(path).href
    if (TYPESCRIPT.has(extname(path))) {
      const { tsImport } = await import('tsx/esm/api')
      return (await tsImport(url, import.meta.url)) as Record<string, unknown>
    }
    return (await import(url)) as Record<string, unknown>
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
    throw new CLIError(`config module ${shown} failed to load: ${escapeMessage(reason ?? '')}`, { cause: error })
  }
}

/**
 * The roles of a loaded config module.
 *
 * @throws UsageError when it exports no roles (exit 2).
 */
export function requireRoleCatalog(module: Record<string, unknown>, source: string): RoleCatalog {
  const catalog = catalogFromModule(module, source)
  if (catalog === null) {
    throw new UsageError(`config module ${escapeMessage(source)} exports no roles: export \`roles\` (a RoleRegistry or an array of Role), or a default export with \`roles\``)
  }
  return catalog
}

/** Loads the module named by `--config` and returns its roles (see {@link loadConfigModule}). */
export async function loadRoleCatalog(args: { readonly module: string; readonly baseDir: string }): Promise<RoleCatalog> {
  return requireRoleCatalog(await loadConfigModule(args), args.module)
}

/**
 * Checks role names against the catalog. Throws a `CLIError` (exit 1) naming the unknown roles
 * and listing the known ones.
 */
export function assertKnownRoles(catalog: RoleCatalog, roles: readonly string[]): void {
  const unknown = roles.filter((role) => !catalog.has(role))
  if (unknown.length === 0) return
  const known = catalog.names.length === 0 ? '(none)' : catalog.names.map(escapeMessage).join(', ')
  const plural = unknown.length === 1 ? 'role' : 'roles'
  throw new CLIError(`unknown ${plural} ${unknown.map((r) => `"${escapeMessage(r)}"`).join(', ')}; known roles: ${known}`)
}
