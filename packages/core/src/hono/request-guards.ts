import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Context } from 'hono'
import { RequestRejectedError } from '../errors.js'

const DECIMAL = /^\d{1,15}$/

/**
 * Reads a request body of at most `maxBytes`. Over the limit → `ERR_PAYLOAD_TOO_LARGE` (413).
 * With a declared Content-Length (and no Transfer-Encoding) the HTTP server reads exactly that
 * many bytes, so the runtime's own reader is used: @hono/node-server then reads the socket directly
 * instead of through a web stream (about a tenth of what a refused login costs). Otherwise
 * (chunked) the body is counted as it streams, so a missing length cannot make us buffer more.
 */
export async function readBodyLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length')
  if (Number(declared ?? '0') > maxBytes) throw tooLarge()
  if (declared !== null && DECIMAL.test(declared) && request.headers.get('transfer-encoding') === null) {
    const bytes = new Uint8Array(await request.arrayBuffer())
    // A Request built in process (app.request) is not held to its header: checked all the same.
    if (bytes.byteLength > maxBytes) throw tooLarge()
    return bytes
  }
  const body = await readCapped(request.body, maxBytes)
  if (body === null) throw tooLarge()
  return body
}

/**
 * Reads a body stream of at most `maxBytes`, counting as it streams (a chunked body has no
 * length to check first); `null`, with the stream cancelled, once it grows past the cap.
 */
export async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = body.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    total += value.byteLength
    if (total > maxBytes) {
      await reader.cancel().catch(() => {})
      return null
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks)
}

function tooLarge(): RequestRejectedError {
  return new RequestRejectedError('ERR_PAYLOAD_TOO_LARGE', 'request body too large')
}

/**
 * `true` when a browser says the request came from another site. Uses `Sec-Fetch-Site` where the
 * browser sends it, else `Origin`. Non-browser clients send neither and pass here; they still need
 * the CSRF token (forms) or a JSON content type, which a cross-site form cannot send.
 */
export function isCrossSite(c: Context, allowedOrigins: readonly string[]): boolean {
  // Browsers send Sec-Fetch-Site and page scripts cannot forge it; it also survives TLS-terminating
  // proxies, where the request URL's scheme differs from the Origin's.
  const site = c.req.header('sec-fetch-site')
  if (site !== undefined) return site !== 'same-origin' && site !== 'none'
  const origin = c.req.header('origin')
  if (origin === undefined) return false
  return !(origin === new URL(c.req.url).origin || allowedOrigins.includes(origin))
}

/**
 * A redirect target after login (or any other redirect Gatehouse makes): only a same-origin
 * relative path (`/admin?tab=1`). Anything else (`//evil.example`, `/\evil.example`,
 * `/.//evil.example`, `https://…`, `javascript:`) becomes `fallback`.
 */
export function safeNextPath(next: unknown, fallback = '/'): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048 || !isLocalPath(next)) return fallback
  let url: URL
  try {
    url = new URL(next, NEXT_BASE)
  } catch {
    return fallback
  }
  if (url.origin !== NEXT_BASE) return fallback
  // Dot segments collapse when the URL is normalized (`/.//evil.example` → `//evil.example`, a
  // protocol-relative URL): the normalized form is what the browser gets, so it is checked again.
  const normalized = `${url.pathname}${url.search}${url.hash}`
  return isLocalPath(normalized) ? normalized : fallback
}

const NEXT_BASE = 'http://gatehouse.invalid'

// Browsers treat "\" like "/", and strip tabs and newlines before parsing: neither may appear.
function isLocalPath(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !/[\\\u0000-\u001f\u007f]/.test(path)
}

/** A fresh CSRF token: 32 random bytes, base64url. */
export function newCSRFToken(): string {
  return randomBytes(32).toString('base64url')
}

/** Constant-time comparison of the form's token with the cookie's. */
export function csrfTokensMatch(fromForm: unknown, fromCookie: string | undefined): boolean {
  if (typeof fromForm !== 'string' || fromCookie === undefined) return false
  const a = Buffer.from(fromForm)
  const b = Buffer.from(fromCookie)
  return a.length === b.length && a.length >= 32 && timingSafeEqual(a, b)
}

/**
 * The client address for throttling: the socket's peer address, or — only when that peer is a
 * configured trusted proxy — the right-most address in `X-Forwarded-For` that is not itself a
 * trusted proxy. A spoofed header from an untrusted client is ignored.
 */
export function clientAddress(c: Context, trustedProxies: readonly string[]): string | undefined {
  const peer = socketAddress(c)
  if (peer === undefined || !trustedProxies.includes(peer)) return peer
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const address = forwarded[i]!
    if (!trustedProxies.includes(address)) return address
  }
  return peer
}

// @hono/node-server puts the Node request in `c.env.incoming` (or `c.env.server.incoming` when the
// app has bindings of its own); other runtimes may not say.
function socketAddress(c: Context): string | undefined {
  type Bindings = { incoming?: { socket?: { remoteAddress?: string } } }
  const env = c.env as (Bindings & { server?: Bindings }) | undefined
  const address = (env?.server ?? env)?.incoming?.socket?.remoteAddress
  return typeof address === 'string' ? address.replace(/^::ffff:/, '') : undefined
}
