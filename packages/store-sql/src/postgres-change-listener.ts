import type { Logger, UserChange } from '@gatehouse/core'
import pg from 'pg'
import type { ChangeFeed } from './change-feed.js'

/** The channel every Gatehouse process on one PostgreSQL database listens to. */
export const CHANGE_CHANNEL = 'gatehouse_changes'

/** What travels in a NOTIFY payload: the sending process and its changes. */
export interface ChangeMessage {
  readonly origin: string
  readonly changes: readonly UserChange[]
}

const MIN_RETRY_MS = 250
const MAX_RETRY_MS = 5000

/**
 * Keeps one dedicated connection (outside the pool) in `LISTEN gatehouse_changes` and turns
 * other processes' notifications into {@link UserChange}s on the feed, so that a session revoked
 * anywhere is refused everywhere within the notification latency (milliseconds).
 *
 * When the connection is lost it reconnects with a capped back-off and then emits `{type:'all'}`,
 * because notifications sent meanwhile are lost; until then the session cache TTL bounds staleness.
 * Its own process's notifications are skipped: local writes are already emitted at commit.
 */
export class PostgresChangeListener {
  readonly #connectionString: string
  readonly #connectTimeoutMs: number
  readonly #origin: string
  readonly #feed: ChangeFeed
  readonly #logger: Logger
  #client: pg.Client | undefined
  #timer: NodeJS.Timeout | undefined
  #retryMs = MIN_RETRY_MS
  #everConnected = false
  #closed = false

  constructor(options: { connectionString: string; connectTimeoutMs: number; origin: string; feed: ChangeFeed; logger: Logger }) {
    this.#connectionString = options.connectionString
    this.#connectTimeoutMs = options.connectTimeoutMs
    this.#origin = options.origin
    this.#feed = options.feed
    this.#logger = options.logger
  }

  /** `true` while the LISTEN connection is up. */
  get listening(): boolean {
    return this.#client !== undefined
  }

  /** Connects once; on failure keeps retrying in the background (never throws). */
  async start(): Promise<void> {
    await this.#connect()
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    const client = this.#client
    this.#client = undefined
    await client?.end().catch(() => {})
  }

  async #connect(): Promise<void> {
    if (this.#closed) return
    const client = new pg.Client({ connectionString: this.#connectionString, connectionTimeoutMillis: this.#connectTimeoutMs })
    let lost = false
    const onLost = (error?: Error) => {
      if (lost) return
      lost = true
      if (this.#client === client) this.#client = undefined
      client.end().catch(() => {})
      if (this.#closed) return
      this.#logger.warn({ err: error?.message ?? 'connection ended' }, 'lost the PostgreSQL change listener; reconnecting')
      this.#schedule()
    }
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', onLost)
    client.on('end', () => onLost())
    client.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL && message.payload !== undefined) this.#receive(message.payload)
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${CHANGE_CHANNEL}`)
    } catch (error) {
      onLost(error as Error)
      return
    }
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    this.#client = client
    this.#retryMs = MIN_RETRY_MS
    // Notifications sent while nobody listened are gone: every cached session must be re-checked.
    if (this.#everConnected) this.#feed.emit({ type: 'all' })
    this.#everConnected = true
  }

  #schedule(): void {
    clearTimeout(this.#timer)
    const delay = this.#retryMs
    this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2)
    this.#timer = setTimeout(() => void this.#connect(), delay)
    this.#timer.unref()
  }

  #receive(payload: string): void {
    let message: ChangeMessage
    try {
      message = JSON.parse(payload) as ChangeMessage
    } catch {
      this.#feed.emit({ type: 'all' })
      return
    }
    if (message.origin === this.#origin) return
    const changes = Array.isArray(message.changes) ? message.changes : []
    for (const change of changes) this.#feed.emit(validChange(change) ?? { type: 'all' })
  }
}

/** The change a payload entry describes, rebuilt from its known fields; `null` when it is not one. */
function validChange(change: unknown): UserChange | null {
  const c = change as Record<string, unknown> | null
  if (typeof c !== 'object' || c === null) return null
  if (c.type === 'user' && typeof c.id === 'string') return { type: 'user', id: c.id }
  if (c.type === 'session' && typeof c.sessionId === 'string') return { type: 'session', sessionId: c.sessionId }
  if (c.type === 'all') return { type: 'all' }
  if (c.type === 'provider-session' && typeof c.source === 'string') {
    const sid = typeof c.providerSessionId === 'string' ? c.providerSessionId : undefined
    const sub = typeof c.subject === 'string' ? c.subject : undefined
    if (sid === undefined && sub === undefined) return null
    if ((c.providerSessionId !== undefined && sid === undefined) || (c.subject !== undefined && sub === undefined)) return null
    return { type: 'provider-session', source: c.source, ...(sid === undefined ? {} : { providerSessionId: sid }), ...(sub === undefined ? {} : { subject: sub }) }
  }
  return null
}
