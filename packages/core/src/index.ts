// The public API of @gatehouse/core. What is not exported here is free to change.

export type { AuthErrorCode, OutageCode } from './errors.js'
export {
  AUTH_ERROR_CODES,
  AuthError,
  AuthenticatorUnavailableError,
  StoreUnavailableError,
  UserExistsError,
  UserNotFoundError,
  WeakPasswordError,
  isAuthError,
  outageOf,
} from './errors.js'

export { Permission } from './model/permission.js'
export type { PermissionNameOf, RoleNameOf } from './model/role.js'
export { Role } from './model/role.js'
export { RoleRegistry } from './model/role-registry.js'
export type { User } from './model/user.js'
export { ANONYMOUS_USER, isAuthenticated, normalizeUsername } from './model/user.js'

export type { AuthResult, Authenticator, AuthenticatorHealth, Credentials, ProviderSession, RejectReason, SessionPrincipal } from './authenticators/authenticator.js'
export { AuthenticatorRegistry } from './authenticators/authenticator-registry.js'

export type { NewUser, PasswordHasher, ProviderSessionRevocation, RevocationList, SessionHandle, StoredUser, UserChange, UserStore } from './store/user-store.js'
export { MemoryUserStore } from './store/memory-user-store.js'
export { MemoryRevocationList } from './store/memory-revocation-list.js'
export type { PasswordAuthenticatorOptions } from './store/password-authenticator.js'
export { PasswordAuthenticator } from './store/password-authenticator.js'

export type { BackoffPolicy, LoginAttempt, LoginThrottle, ThrottleDecision } from './throttle/login-throttle.js'
export { ADDRESS_BACKOFF, USERNAME_BACKOFF, backoffSeconds, throttleKeys } from './throttle/login-throttle.js'
export { MemoryLoginThrottle } from './throttle/memory-login-throttle.js'

export type { SessionOptions } from './session/session-manager.js'

export type { AuditEvent } from './audit.js'
export { AUDIT_EVENTS } from './audit.js'

export type { AuthMetrics } from './metrics.js'
export { NOOP_METRICS } from './metrics.js'

export type { Logger } from './internal/logger.js'
export { NOOP_LOGGER } from './internal/logger.js'

export type { Auth, AuthEnv, AuthHooks, AuthVariables, CreateAuthOptions, LoginLimits, RequestAuth } from './hono/create-auth.js'
export { createAuth } from './hono/create-auth.js'
export type { LoginFailureDelay } from './hono/failure-delay.js'
export type { ProtectedOptions } from './hono/protected.js'
export { Protected } from './hono/protected.js'
export { safeNextPath } from './hono/request-guards.js'
export type { LoginPageArgs } from './hono/pages.js'
