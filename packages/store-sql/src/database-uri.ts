import { isAbsolute, resolve } from 'node:path'

/** Where the store lives when no URI is given: an SQLite file in the working directory. */
export const DEFAULT_DB_URI = './gatehouse.db'

/** A parsed database URI. */
export type DatabaseTarget =
  | {
      readonly dialect: 'postgres'
      /** The URI as given, password included: only for the driver. */
      readonly connectionString: string
      /** The URI with its password masked, for messages and logs. */
      readonly displayURI: string
    }
  | {
      readonly dialect: 'sqlite'
      /** Absolute path of the database file. */
      readonly path: string
      readonly displayURI: string
    }

/**
 * Reads a database URI: `postgres://…` or `postgresql://…` (a pg pool), `sqlite:<path>`,
 * `file:<path>` or a bare file path (embedded SQLite). Relative paths are resolved against the
 * working directory. Throws a `TypeError` naming the URI (password masked) when it cannot be used.
 *
 * @example
 * ```ts
 * parseDatabaseURI('sqlite:data/auth.db')      // { dialect: 'sqlite', path: '/srv/app/data/auth.db', … }
 * parseDatabaseURI('postgres://app:pw@db/auth') // { dialect: 'postgres', displayURI: 'postgres://app:***@db/auth', … }
 * ```
 */
export function parseDatabaseURI(uri: string = DEFAULT_DB_URI): DatabaseTarget {
  if (typeof uri !== 'string' || uri.trim() === '') throw new TypeError('database URI is empty')
  const displayURI = maskURI(uri)
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase()
  // A one-letter "scheme" is a Windows drive (C:\data\auth.db): a path.
  if (scheme === undefined || scheme.length === 1) return sqliteTarget(uri, displayURI)
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let parsed: URL
    try {
      parsed = new URL(uri)
    } catch (error) {
      throw new TypeError(`database URI "${displayURI}" is not a valid URL`, { cause: error })
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) throw new TypeError(`database URI "${displayURI}" names no host`)
    return { dialect: 'postgres', connectionString: uri, displayURI }
  }
  if (scheme === 'sqlite' || scheme === 'file') {
    let path = uri.slice(scheme.length + 1)
    // sqlite:///abs/path and file:///abs/path are absolute; sqlite://rel is relative.
    if (path.startsWith('//')) path = path.slice(2)
    if (/[?#]/.test(path)) throw new TypeError(`database URI "${displayURI}": SQLite URIs take no query or fragment`)
    let decoded: string
    try {
      decoded = decodeURIComponent(path)
    } catch (error) {
      throw new TypeError(`database URI "${displayURI}": bad percent-encoding in the path`, { cause: error })
    }
    return sqliteTarget(decoded, displayURI)
  }
  throw new TypeError(`unsupported database URI "${displayURI}": use postgres://…, postgresql://…, sqlite:<path> or a file path`)
}

function sqliteTarget(path: string, displayURI: string): DatabaseTarget {
  if (path === '' || path === ':memory:' || path.startsWith('file::memory:')) {
    // Reads and writes use separate connections, and each in-memory connection is its own database.
    throw new TypeError(`database URI "${displayURI}": in-memory SQLite is not supported; use a (temporary) file`)
  }
  return { dialect: 'sqlite', path: isAbsolute(path) ? path : resolve(path), displayURI }
}

/**
 * The URI with any password replaced by `***` (in the user-info part and in a `password=`
 * query parameter), safe for error messages and logs.
 */
export function maskURI(uri: string): string {
  return (
    uri
      // Up to the LAST "@": a password may itself contain "@" (over-masking is the safe side).
      .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):.*@/i, '$1:***@')
      .replace(/([?&]password=)[^&#]*/gi, '$1***')
  )
}

/** `file:` URL for libsql, percent-encoding each path segment (spaces, `%`, `?`, `#`). */
export function libsqlFileURL(path: string): string {
  return `file:${path.split('/').map(encodeURIComponent).join('/')}`
}
