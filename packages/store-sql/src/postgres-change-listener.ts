import type { Logger, UserChange } from '@gatehouse/core'
import type { ChangeFeed } from './change-feed.js'
import { PostgresNotificationListener } from './postgres-notification-listener.js'

/** The channel every Gatehouse process on one PostgreSQL database listens to. */
export const CHANGE_CHANNEL = 'gatehouse_changes'

/** What travels in a NOTIFY payload: the sending process and its changes. */
export interface ChangeMessage {
  readonly origin: string
  readonly changes: readonly UserChange[]
}

/**
 * Keeps `LISTEN gatehouse_changes` on a dedicated connection (a {@link PostgresNotificationListener})
 * and turns other processes' notifications into {@link UserChange}s on the feed, so that a session
 * revoked anywhere is refused everywhere within the notification latency (milliseconds).
 *
 * When the connection is lost it reconnects with a capped back-off and then emits `{type:'all'}`,
 * because notifications sent meanwhile are lost; until then the session cache TTL bounds staleness.
 * Its own process's notifications are skipped: local writes are already emitted at commit.
 */
export class PostgresChangeListener {
  readonly #origin: string
  readonly #feed: ChangeFeed
  readonly #connection: PostgresNotificationListener

  constructor(options: { connectionString: string; connectTimeoutMs: number; origin: string; feed: ChangeFeed; logger: Logger }) {
    this.#origin = options.origin
    this.#feed = options.feed
    this.#connection = new PostgresNotificationListener({
      connectionString: options.connectionString,
      connectTimeoutMs: options.connectTimeoutMs,
      channel: CHANGE_CHANNEL,
      logger: options.logger,
      listener: {
        onNotify: (payload) => this.#receive(payload),
        // Notifications sent while nobody listened are gone: every cached session must be re-checked.
        onReconnect: () => this.#feed.emit({ type: 'all' }),
      },
    })
  }

  /** `true` while the LISTEN connection is up. */
  get listening(): boolean {
    return this.#connection.listening
  }

  /** Connects once; on failure keeps retrying in the background (never throws). */
  start(): Promise<void> {
    return this.#connection.start()
  }

  close(): Promise<void> {
    return this.#connection.close()
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
