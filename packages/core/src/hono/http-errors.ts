import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AuthErrorCode } from '../errors.js'
import { renderPage, escapeHTML } from './pages.js'

/** The one place where error codes become HTTP statuses and generic messages. */
const HTTP: Record<AuthErrorCode, { status: ContentfulStatusCode; message: string }> = {
  ERR_UNAUTHENTICATED: { status: 401, message: 'Authentication required.' },
  ERR_INVALID_CREDENTIALS: { status: 401, message: 'Invalid username or password.' },
  ERR_FORBIDDEN: { status: 403, message: 'You are not allowed to do this.' },
  ERR_CSRF: { status: 403, message: 'The request did not come from this site.' },
  ERR_BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type.' },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'The request is too large.' },
  ERR_TOO_MANY_ATTEMPTS: { status: 429, message: 'Too many attempts. Try again later.' },
  ERR_AUTHENTICATOR_UNAVAILABLE: { status: 503, message: 'Authentication is temporarily unavailable.' },
  ERR_STORE_UNAVAILABLE: { status: 503, message: 'Authentication is temporarily unavailable.' },
  ERR_MISCONFIGURED: { status: 500, message: 'Access control is misconfigured.' },
  ERR_USER_EXISTS: { status: 409, message: 'The user already exists.' },
  ERR_USER_NOT_FOUND: { status: 404, message: 'Not found.' },
  ERR_WEAK_PASSWORD: { status: 400, message: 'The password does not meet the policy.' },
  ERR_INTERNAL: { status: 500, message: 'Something went wrong.' },
}

// The JSON bodies never change: serialised once, not per answer.
const JSON_BODIES = Object.fromEntries(Object.entries(HTTP).map(([code, { message }]) => [code, JSON.stringify({ error: { code, message } })])) as Record<AuthErrorCode, string>

/** HTTP status for an error code. */
export function statusOf(code: AuthErrorCode): ContentfulStatusCode {
  return HTTP[code].status
}

/** `true` when the client asked for a web page rather than JSON. */
export function wantsHTML(c: Context): boolean {
  const accept = c.req.header('accept') ?? ''
  return accept.includes('text/html')
}

/**
 * The response for an error: `{"error":{"code","message"}}` (or a small HTML page for browsers).
 * Bodies are generic: they never say which of username and password was wrong, nor echo roles.
 */
export function errorResponse(c: Context, code: AuthErrorCode, options: { html?: boolean; retryAfterSeconds?: number; headers?: Readonly<Record<string, string>> } = {}): Response {
  const { status, message } = HTTP[code]
  const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...options.headers }
  if (options.retryAfterSeconds !== undefined) headers['Retry-After'] = String(options.retryAfterSeconds)
  if (options.html ?? wantsHTML(c)) {
    return c.html(renderPage({ title: titleOf(status), body: `<h1>${titleOf(status)}</h1><p>${escapeHTML(message)}</p><p><a href="/">Home</a></p>` }), status, headers)
  }
  headers['Content-Type'] = 'application/json'
  return c.body(JSON_BODIES[code], status, headers)
}

function titleOf(status: number): string {
  switch (status) {
    case 401:
      return 'Please sign in'
    case 403:
      return 'Access denied'
    case 429:
      return 'Slow down'
    case 503:
      return 'Temporarily unavailable'
    default:
      return 'Something went wrong'
  }
}
