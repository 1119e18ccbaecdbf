import type { Logger } from '@gatehouse/core'
import type pg from 'pg'

/** What {@link SQLDatabase.listen} calls. */
export interface NotificationListener {
  /** A NOTIFY on the channel, from any process (this one included). */
  onNotify(payload: string): void
  /**
   * The LISTEN connection came back after it was lost: notifications sent meanwhile are gone,
   * so reload whatever they would have announced.
   */
  onReconnect?(): void
}

const MIN_RETRY_MS = 250
const MAX_RETRY_MS = 5000

/**
 * One dedicated connection (outside the pool) in `LISTEN <channel>`, reconnecting with a capped
 * back-off (0.25 s doubling to 5 s) and calling `onReconnect` once it is back. The store's own
 * change listener runs on one, and so do companion packages' channels.
 */
export class PostgresNotificationListener {
  readonly #options: { connectionString: string; connectTimeoutMs: number; channel: string; listener: NotificationListener; logger: Logger }
  #client: pg.Client | undefined
  #timer: NodeJS.Timeout | undefined
  #retryMs = MIN_RETRY_MS
  #everConnected = false
  #closed = false

  constructor(options: { connectionString: string; connectTimeoutMs: number; channel: string; listener: NotificationListener; logger: Logger }) {
    this.#options = options
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
    const { connectionString, connectTimeoutMs, channel, listener, logger } = this.#options
    const { default: driver } = await import('pg')
    if (this.#closed) return
    const client = new driver.Client({ connectionString, connectionTimeoutMillis: connectTimeoutMs })
    let lost = false
    const onLost = (error?: Error) => {
      if (lost) return
      lost = true
      if (this.#client === client) this.#client = undefined
      client.end().catch(() => {})
      if (this.#closed) return
      logger.warn({ channel, err: error?.message ?? 'connection ended' }, 'lost a PostgreSQL LISTEN connection; reconnecting')
      clearTimeout(this.#timer)
      const delay = this.#retryMs
      this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2)
      this.#timer = setTimeout(() => void this.#connect(), delay)
      this.#timer.unref()
    }
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', onLost)
    client.on('end', () => onLost())
    client.on('notification', (message) => {
      if (message.channel !== channel || message.payload === undefined) return
      try {
        listener.onNotify(message.payload)
      } catch (error) {
        logger.error({ channel, err: String(error) }, 'notification listener failed')
      }
    })
    try {
      await client.connect()
      // The channel name was checked to be a plain identifier by SQLDatabase.listen.
      await client.query(`LISTEN ${channel}`)
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
    if (this.#everConnected) {
      try {
        listener.onReconnect?.()
      } catch (error) {
        logger.error({ channel, err: String(error) }, 'notification listener failed')
      }
    }
    this.#everConnected = true
  }
}
