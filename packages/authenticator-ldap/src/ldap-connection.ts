import * as net from 'node:net'
import * as tls from 'node:tls'
import { Client, ResultCodeError } from 'ldapts'
import type { LDAPEndpoint, ResolvedLDAPOptions } from './ldap-options.js'

/** An LDAP step that did not finish in time (connect, TLS handshake or operation). */
export class LDAPTimeoutError extends Error {
  override readonly name = 'LDAPTimeoutError'
}

/**
 * A connection that was closed under us. ldapts would silently open a new one, which after
 * StartTLS would be plaintext and unauthenticated; this module refuses instead, and the pool
 * replaces the connection.
 */
export class LDAPConnectionLostError extends Error {
  override readonly name = 'LDAPConnectionLostError'
}

/** Settings a connection needs; a subset of the resolved authenticator options. */
export type LDAPConnectionSettings = Pick<ResolvedLDAPOptions, 'endpoints' | 'tls' | 'connectTimeoutMs' | 'timeoutMs'>

/**
 * One TCP (or TLS) connection to one server, wrapped in an ldapts {@link Client}.
 *
 * Why not let ldapts connect: ldapts reconnects transparently on the next operation when a
 * connection drops, which would turn a StartTLS session into plaintext and send the next bind
 * password in the clear. Here the socket is opened (with its own connect timeout), handed to
 * ldapts once, and any later attempt to open another one fails: a dead connection stays dead.
 */
export class LDAPConnection {
  readonly client: Client
  readonly endpoint: LDAPEndpoint
  readonly #socket: net.Socket
  readonly #timeoutMs: number
  #tlsSocket: tls.TLSSocket | undefined
  #closed = false

  private constructor(endpoint: LDAPEndpoint, socket: net.Socket, settings: LDAPConnectionSettings) {
    this.endpoint = endpoint
    this.#socket = socket
    this.#timeoutMs = settings.timeoutMs
    socket.once('close', () => {
      this.#closed = true
    })
    let handedOver = false
    const firstConnection = (): net.Socket => {
      if (handedOver || this.#closed) throw new LDAPConnectionLostError(`connection to ${endpoint.url} was closed`)
      handedOver = true
      return socket
    }
    const upgrade = (options: tls.ConnectionOptions): tls.TLSSocket => {
      // Only the one StartTLS upgrade of this very socket is allowed.
      if (endpoint.secure || this.#tlsSocket !== undefined || options.socket !== socket || this.#closed) {
        throw new LDAPConnectionLostError(`connection to ${endpoint.url} was closed`)
      }
      this.#tlsSocket = tls.connect(options)
      this.#tlsSocket.once('close', () => {
        this.#closed = true
      })
      return this.#tlsSocket
    }
    this.client = new Client({
      url: endpoint.url,
      timeout: settings.timeoutMs,
      connectTimeout: settings.connectTimeoutMs,
      createConnection: firstConnection as unknown as typeof net.connect,
      createSecureConnection: ((...args: unknown[]) => (endpoint.secure ? firstConnection() : upgrade(args[0] as tls.ConnectionOptions))) as unknown as typeof tls.connect,
    })
  }

  /**
   * Opens a connection to the first endpoint that answers, upgrading it with StartTLS when
   * configured. Endpoints are tried in order only while the TCP/TLS connection cannot be made
   * (refused, unreachable, connect timeout, bad certificate); after that, errors are thrown.
   */
  static async open(settings: LDAPConnectionSettings): Promise<LDAPConnection> {
    const errors: unknown[] = []
    for (const endpoint of settings.endpoints) {
      let socket: net.Socket
      try {
        socket = await connectSocket(endpoint, settings)
      } catch (error) {
        errors.push(error)
        continue
      }
      const connection = new LDAPConnection(endpoint, socket, settings)
      if (settings.tls.startTLS) {
        try {
          await connection.run('StartTLS', (client) => client.startTLS(tlsOptions(endpoint, settings)))
        } catch (error) {
          // Never carry on in plaintext when the upgrade fails.
          connection.destroy()
          throw error
        }
      }
      return connection
    }
    if (errors.length === 1) throw errors[0]
    throw new AggregateError(errors, `no LDAP server reachable (${settings.endpoints.map((e) => e.url).join(', ')})`)
  }

  /** When the server's TLS certificate expires (ISO date), for ldaps:// and StartTLS; `undefined` in plaintext. */
  get certificateExpiresAt(): string | undefined {
    const secure = this.#tlsSocket ?? (this.#socket instanceof tls.TLSSocket ? this.#socket : undefined)
    const validTo = secure?.getPeerCertificate()?.valid_to
    return validTo ? new Date(validTo).toISOString() : undefined
  }

  /** Open and not known to be broken. */
  get usable(): boolean {
    return !this.#closed && !this.#socket.destroyed && this.#tlsSocket?.destroyed !== true && this.client.isConnected
  }

  /**
   * Runs one LDAP step with a deadline. ldapts has per-operation timeouts, but none on the TLS
   * handshake of StartTLS; the deadline bounds every step, and a step that misses it destroys
   * the connection so that nothing is left waiting on it.
   */
  async run<T>(what: string, step: (client: Client) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.destroy()
        reject(new LDAPTimeoutError(`LDAP ${what} timed out after ${this.#timeoutMs} ms (${this.endpoint.url})`))
      }, this.#timeoutMs)
    })
    try {
      return await Promise.race([step(this.client), deadline])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Closes politely (an unbind), within the operation timeout. */
  async close(): Promise<void> {
    if (!this.usable) return this.destroy()
    try {
      await this.run('unbind', (client) => client.unbind())
    } catch {
      // Closing anyway.
    } finally {
      this.destroy()
    }
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.#closed = true
    this.#tlsSocket?.destroy()
    this.#socket.destroy()
  }
}

/** TLS options for one endpoint: verification on unless turned off, TLS 1.2 at least. */
function tlsOptions(endpoint: LDAPEndpoint, settings: LDAPConnectionSettings): tls.ConnectionOptions {
  return {
    host: endpoint.host,
    // SNI carries host names only; for an IP address the certificate is checked against `host`.
    ...(net.isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
    ...(settings.tls.ca !== undefined ? { ca: settings.tls.ca } : {}),
    rejectUnauthorized: settings.tls.rejectUnauthorized,
    minVersion: 'TLSv1.2',
  }
}

/** TCP connect (and the TLS handshake for ldaps://) within `connectTimeoutMs`. */
function connectSocket(endpoint: LDAPEndpoint, settings: LDAPConnectionSettings): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = endpoint.secure ? tls.connect({ ...tlsOptions(endpoint, settings), port: endpoint.port }) : net.connect({ host: endpoint.host, port: endpoint.port })
    const fail = (error: Error) => {
      clearTimeout(timer)
      socket.destroy()
      reject(error)
    }
    const timer = setTimeout(() => fail(new LDAPTimeoutError(`connecting to ${endpoint.url} timed out after ${settings.connectTimeoutMs} ms`)), settings.connectTimeoutMs)
    socket.once('error', fail)
    socket.once(endpoint.secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer)
      socket.removeListener('error', fail)
      // Until ldapts takes the socket over (at the first operation), nobody else listens for
      // errors, and an unheard 'error' event would crash the process.
      socket.on('error', () => {})
      socket.setKeepAlive(true, 60_000)
      resolve(socket)
    })
  })
}

/** A result the server sent (wrong password, no such object, ...), as opposed to a transport failure. */
export function isResultCodeError(error: unknown): error is ResultCodeError {
  return error instanceof ResultCodeError
}

/**
 * The connection was gone before or while a request was sent (typically an idle connection the
 * server closed). Safe to retry once on a new connection; timeouts are not (they would double
 * the time bound).
 */
export function isConnectionLost(error: unknown): boolean {
  if (error instanceof LDAPConnectionLostError) return true
  if (!(error instanceof Error) || error instanceof LDAPTimeoutError || isResultCodeError(error)) return false
  const code = (error as NodeJS.ErrnoException).code
  return (
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    error.message.startsWith('Connection closed before message response') ||
    error.message.startsWith('Socket connection not established') ||
    error.message.startsWith('Socket error.')
  )
}
