// @gatehouse/core/internals: parts other Gatehouse packages and tests may reach for, with no
// promise of stability. Applications use the main entry point.

export type { ChainResult } from './authenticators/authenticator-registry.js'
export type { ResolvedOptions } from './hono/create-auth.js'
export { LoginGate, setSessionCookie, startSession } from './hono/create-auth.js'
export type { SessionCookie, SessionState } from './session/session-manager.js'
export { SessionManager } from './session/session-manager.js'
export { TTLCache } from './internal/ttl-cache.js'
export { RequestRejectedError } from './errors.js'
export { audit, escapeLogText } from './audit.js'
export { STDERR_LOGGER } from './internal/logger.js'
export { errorResponse } from './hono/http-errors.js'
export { escapeHTML } from './hono/pages.js'
export { readCapped } from './hono/request-guards.js'
