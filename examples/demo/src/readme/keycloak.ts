import { OIDCAuthenticator, keycloak } from '@gatehouse/authenticator-oidc'

/** Bearer tokens of a Keycloak realm, and its browser login ("Sign in with Keycloak"). */
export function keycloakAuthenticator(env: { KEYCLOAK_URL: string; KEYCLOAK_CLIENT_ID: string; KEYCLOAK_CLIENT_SECRET: string; OIDC_LOGIN_SECRET: string; APP_URL: string }) {
  return new OIDCAuthenticator(
    keycloak({
      serverUrl: env.KEYCLOAK_URL, // the issuer is <serverUrl>/realms/acme
      realm: 'acme',
      clientId: env.KEYCLOAK_CLIENT_ID, // access tokens must name it in aud
      clientSecret: env.KEYCLOAK_CLIENT_SECRET,
      // Realm roles and this client's roles → Gatehouse roles; other clients' roles never count.
      roles: { map: { admin: 'Administrator', user: 'Viewer' } },
      browserLogin: { redirectUri: `${env.APP_URL}/auth/oidc/callback`, secret: env.OIDC_LOGIN_SECRET },
    }),
  )
}
