import type { StoredUser } from '@gatehouse/core'
import { escapeText } from './escape.js'
import type { OutputStream } from './io.js'
import { writeOut } from './io.js'

/**
 * A user as the CLI shows it, in `--json` and in `show`. Built field by field from the stored
 * user, so the password hash (and anything a store adds later) never reaches the output.
 */
export interface UserView {
  readonly id: string
  readonly username: string
  readonly displayName: string | null
  readonly email: string | null
  readonly roles: readonly string[]
  readonly disabled: boolean
  readonly createdAt: string
  readonly updatedAt: string
  readonly lastLoginAt: string | null
  /** Only when the application's roles were loaded with `--config`. */
  readonly permissions?: readonly string[]
}

/** The public view of a stored user; never includes the password hash. */
export function userView(user: StoredUser, permissions?: Iterable<string>): UserView {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    email: user.email,
    roles: [...user.roles],
    disabled: user.disabled,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
    lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    ...(permissions === undefined ? {} : { permissions: [...permissions].sort() }),
  }
}

/** `1 migration`, `2 migrations`. */
export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`

/** `2025-11-26 06:23:45` (UTC): sortable, and short enough for a table. */
export function formatDate(date: Date | null, absent = 'never'): string {
  if (date === null) return absent
  return date.toISOString().slice(0, 19).replace('T', ' ')
}

/** Role names for humans: escaped, comma-separated, `-` for none. */
export function formatRoles(roles: readonly string[]): string {
  return roles.length === 0 ? '-' : roles.map(escapeText).join(',')
}

/** The cells of one `list-users` row, escaped. */
export function userRow(user: StoredUser): string[] {
  return [escapeText(user.username), formatRoles(user.roles), user.disabled ? 'yes' : 'no', formatDate(user.createdAt), formatDate(user.lastLoginAt)]
}

export const USER_COLUMNS = ['USERNAME', 'ROLES', 'DISABLED', 'CREATED (UTC)', 'LAST LOGIN (UTC)'] as const

/** The `show` text of one user: aligned `key: value` lines, every stored string escaped. */
export function describeUser(view: UserView): string {
  const lines: Array<[string, string]> = [
    ['username', escapeText(view.username)],
    ['id', escapeText(view.id)],
    ['display name', view.displayName === null ? '-' : escapeText(view.displayName)],
    ['email', view.email === null ? '-' : escapeText(view.email)],
    ['roles', view.roles.length === 0 ? '-' : view.roles.map(escapeText).join(', ')],
  ]
  if (view.permissions !== undefined) lines.push(['permissions', view.permissions.length === 0 ? '-' : view.permissions.map(escapeText).join(', ')])
  lines.push(
    ['disabled', view.disabled ? 'yes' : 'no'],
    ['created', `${formatDate(new Date(view.createdAt))} UTC`],
    ['updated', `${formatDate(new Date(view.updatedAt))} UTC`],
    ['last login', view.lastLoginAt === null ? 'never' : `${formatDate(new Date(view.lastLoginAt))} UTC`],
  )
  const width = Math.max(...lines.map(([key]) => key.length)) + 1
  return lines.map(([key, value]) => `${`${key}:`.padEnd(width)} ${value}\n`).join('')
}

/**
 * A table written as rows arrive. Column widths come from the header and the first `sample`
 * rows; later rows that are wider push their own line out instead of holding the whole listing
 * in memory to measure it. Output is written in chunks of about 64 KiB, waiting for the stream
 * to drain.
 */
export class TableWriter {
  readonly #out: OutputStream
  readonly #header: readonly string[]
  readonly #sample: number
  #pending: string[][] | null = []
  #widths: number[] = []
  #buffer = ''
  #rows = 0

  constructor(out: OutputStream, header: readonly string[], options?: { sample?: number }) {
    this.#out = out
    this.#header = header
    this.#sample = options?.sample ?? 1000
  }

  /** Rows written so far. */
  get rows(): number {
    return this.#rows
  }

  async row(cells: readonly string[]): Promise<void> {
    this.#rows++
    if (this.#pending !== null) {
      this.#pending.push([...cells])
      if (this.#pending.length >= this.#sample) await this.#settle()
      return
    }
    this.#buffer += this.#line(cells)
    if (this.#buffer.length >= 65_536) await this.#flush()
  }

  /** Writes what is left. Nothing at all is written for an empty table: callers say "no users". */
  async end(): Promise<void> {
    if (this.#pending !== null && this.#pending.length > 0) await this.#settle()
    await this.#flush()
  }

  async #settle(): Promise<void> {
    const rows = this.#pending ?? []
    this.#pending = null
    this.#widths = this.#header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)))
    this.#buffer += this.#line(this.#header)
    for (const row of rows) this.#buffer += this.#line(row)
    await this.#flush()
  }

  #line(cells: readonly string[]): string {
    const last = cells.length - 1
    return `${cells.map((cell, i) => (i === last ? cell : cell.padEnd(this.#widths[i] ?? 0))).join('  ')}\n`
  }

  async #flush(): Promise<void> {
    if (this.#buffer === '') return
    const chunk = this.#buffer
    this.#buffer = ''
    await writeOut(this.#out, chunk)
  }
}

/**
 * A JSON array written item by item (`[`, items, `]`), so one document on stdout never needs
 * the whole listing in memory.
 */
export class JSONArrayWriter {
  readonly #out: OutputStream
  #buffer = '['
  #count = 0

  constructor(out: OutputStream) {
    this.#out = out
  }

  async item(value: unknown): Promise<void> {
    this.#buffer += `${this.#count === 0 ? '\n' : ',\n'}${JSON.stringify(value)}`
    this.#count++
    if (this.#buffer.length >= 65_536) {
      const chunk = this.#buffer
      this.#buffer = ''
      await writeOut(this.#out, chunk)
    }
  }

  async end(): Promise<void> {
    const chunk = `${this.#buffer}${this.#count === 0 ? ']\n' : '\n]\n'}`
    this.#buffer = ''
    await writeOut(this.#out, chunk)
  }
}
