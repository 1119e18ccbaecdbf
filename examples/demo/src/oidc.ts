import { hkdfSync } from 'node:crypto'
import { OIDCAuthenticator } from '@gatehouse/authenticator-oidc'
import type { Logger } from '@gatehouse/core'
import type { OIDCConfig } from './config.js'

/**
 * The OpenID Connect authenticator the demo adds when `OIDC_ISSUER` is set: bearer tokens of that
 * issuer on every route, and (with `OIDC_CLIENT_SECRET`) the browser login at /auth/oidc/login.
 * A wrong option throws a `TypeError` here, at startup.
 */
export function oidcAuthenticator(oidc: OIDCConfig, options: { sessionSecret: string; logger: Logger }): OIDCAuthenticator {
  return new OIDCAuthenticator({
    issuer: oidc.issuer,
    clientId: oidc.clientId,
    clientSecret: oidc.clientSecret,
    audience: oidc.audience,
    name: oidc.name,
    roles: { map: oidc.roleMap },
    logger: options.logger,
    ...(oidc.clientSecret !== undefined && {
      browserLogin: {
        redirectUri: oidc.redirectUri,
        // A key of its own for the login-in-progress cookie, derived from the session secret.
        secret: Buffer.from(hkdfSync('sha256', options.sessionSecret, 'gatehouse-demo', 'oidc-login-transaction', 32)).toString('base64url'),
        ...(oidc.postLogoutRedirectUri !== undefined && { postLogoutRedirectUri: oidc.postLogoutRedirectUri }),
      },
    }),
  })
}
