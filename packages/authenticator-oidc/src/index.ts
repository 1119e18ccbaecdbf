// The public API of @gatehouse/authenticator-oidc. What is not exported here is free to change.

export type {
  KeycloakOptions,
  OIDCAuthenticatorOptions,
  OIDCBrowserLoginOptions,
  OIDCEndpoints,
  OIDCIntrospectionOptions,
  OIDCKeySetOptions,
  OIDCRoleOptions,
  OIDCSignatureAlgorithm,
} from './oidc-options.js'
export { keycloak, oidcOptionsSchema } from './oidc-options.js'
export type { OIDCTokens, ProviderContext } from './oidc-authenticator.js'
export { OIDCAuthenticator } from './oidc-authenticator.js'
