import type { Client } from 'ldapts'
import type { LDAPConnectionSettings } from './ldap-connection.js'
import { LDAPConnection, LDAPTimeoutError, isConnectionLost, isResultCodeError } from './ldap-connection.js'

/** The service account's bind failed: a configuration or directory problem, never the user's fault. */
export class LDAPServiceBindError extends Error {
  override readonly name = 'LDAPServiceBindError'
}

/** Settings of a {@link ConnectionPool}. */
export interface ConnectionPoolSettings extends LDAPConnectionSettings {
  readonly service: { readonly dn: string; readonly password: string } | null
  readonly maxIdleConnections: number
  readonly maxConnections: number
}

/**
 * The connections of one authenticator.
 *
 * - One **service connection**, bound once as the service account and shared: searches are
 *   multiplexed on it by message id, so concurrent logins share one TCP/TLS handshake. It is never
 *   bound as anyone else.
 * - **Bind connections**, each lent to one login at a time. A bind changes who a connection is
 *   authenticated as, and RFC 4511 forbids other operations while a bind is in progress, so two
 *   logins never share one at the same time. Returned connections are kept (up to
 *   `maxIdleConnections`) and the next login rebinds them, which saves the handshake.
 *
 * At most `maxConnections` bind connections are lent at once, so a login storm cannot open
 * unbounded connections to the directory; further logins wait (up to the operation timeout).
 *
 * A connection found closed is replaced; an operation that failed because a reused connection had
 * been closed under it is retried once on a fresh one. Timeouts are never retried.
 */
export class ConnectionPool {
  readonly #settings: ConnectionPoolSettings
  readonly #idle: LDAPConnection[] = []
  readonly #waiting: Array<() => void> = []
  #lent = 0
  #service: Promise<LDAPConnection> | null = null
  #closed = false
  #opened = 0

  constructor(settings: ConnectionPoolSettings) {
    this.#settings = settings
  }

  /** How many connections this pool has opened so far (for tests and metrics). */
  get openedConnections(): number {
    return this.#opened
  }

  /** `true` when a service account is configured. */
  get hasService(): boolean {
    return this.#settings.service !== null
  }

  /** Runs `step` on the shared service connection (bound as the service account). */
  async withService<T>(what: string, step: (client: Client) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const { connection, fresh } = await this.#serviceConnection()
      try {
        return await connection.run(what, step)
      } catch (error) {
        // A result (no such object, ...) leaves the connection fine; anything else may not have.
        if (!isResultCodeError(error)) this.#dropService(connection)
        if (!fresh && attempt === 0 && isConnectionLost(error)) continue
        throw error
      }
    }
  }

  /**
   * Lends a bind connection to `use` for its whole duration. The connection goes back to the pool
   * when `use` settles, unless it failed for another reason than an LDAP result.
   */
  async withConnection<T>(use: (connection: LDAPConnection) => Promise<T>): Promise<T> {
    await this.#acquireSlot()
    try {
      return await this.#lend(use)
    } finally {
      this.#releaseSlot()
    }
  }

  async #lend<T>(use: (connection: LDAPConnection) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const idle = this.#takeIdle()
      const connection = idle ?? (await this.#open())
      let healthy = false
      try {
        const result = await use(connection)
        healthy = true
        return result
      } catch (error) {
        healthy = isResultCodeError(error)
        if (idle !== undefined && attempt === 0 && isConnectionLost(error)) continue
        throw error
      } finally {
        this.#giveBack(connection, healthy)
      }
    }
  }

  /** Waits for one of the `maxConnections` slots, at most `timeoutMs`. */
  async #acquireSlot(): Promise<void> {
    this.#assertOpen()
    if (this.#lent < this.#settings.maxConnections) {
      this.#lent++
      return
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1)
        reject(new LDAPTimeoutError(`no LDAP connection free within ${this.#settings.timeoutMs} ms (${this.#settings.maxConnections} busy)`))
      }, this.#settings.timeoutMs)
      this.#waiting.push(waiter)
    })
  }

  /** Hands the slot to the next waiting login, if any. */
  #releaseSlot(): void {
    const next = this.#waiting.shift()
    if (next !== undefined) next()
    else this.#lent--
  }

  /** Closes every connection; connections lent out are closed when they come back. */
  async close(): Promise<void> {
    this.#closed = true
    const service = this.#service
    this.#service = null
    const closing = this.#idle.splice(0).map((connection) => connection.close())
    if (service !== null)
      closing.push(
        service.then(
          (connection) => connection.close(),
          () => {},
        ),
      )
    await Promise.allSettled(closing)
  }

  async #serviceConnection(): Promise<{ connection: LDAPConnection; fresh: boolean }> {
    this.#assertOpen()
    const current = this.#service
    if (current !== null) {
      const connection = await current
      if (connection.usable) return { connection, fresh: false }
      this.#dropService(connection)
    }
    // Single flight: logins arriving while the connection is being made wait for the same one.
    const opening = this.#openService()
    this.#service = opening
    opening.catch(() => {
      if (this.#service === opening) this.#service = null
    })
    return { connection: await opening, fresh: true }
  }

  async #openService(): Promise<LDAPConnection> {
    const service = this.#settings.service
    if (service === null) throw new TypeError('no service account configured')
    const connection = await this.#open()
    try {
      await connection.run('service account bind', (client) => client.bind(service.dn, service.password))
    } catch (error) {
      connection.destroy()
      if (!isResultCodeError(error)) throw error
      throw new LDAPServiceBindError(`the service account could not bind (${error.message})`, { cause: error })
    }
    if (this.#closed) {
      connection.destroy()
      this.#assertOpen()
    }
    return connection
  }

  #dropService(connection: LDAPConnection): void {
    connection.destroy()
    const promise = this.#service
    void promise?.then(
      (current) => {
        if (current === connection && this.#service === promise) this.#service = null
      },
      () => {},
    )
  }

  async #open(): Promise<LDAPConnection> {
    this.#assertOpen()
    const connection = await LDAPConnection.open(this.#settings)
    this.#opened++
    return connection
  }

  #takeIdle(): LDAPConnection | undefined {
    this.#assertOpen()
    for (let connection = this.#idle.pop(); connection !== undefined; connection = this.#idle.pop()) {
      if (connection.usable) return connection
      connection.destroy()
    }
    return undefined
  }

  #giveBack(connection: LDAPConnection, healthy: boolean): void {
    if (healthy && !this.#closed && connection.usable && this.#idle.length < this.#settings.maxIdleConnections) {
      this.#idle.push(connection)
    } else if (healthy && connection.usable) {
      void connection.close()
    } else {
      connection.destroy()
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('the LDAP authenticator is closed')
  }
}
