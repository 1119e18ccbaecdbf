// Test helpers shared by Gatehouse's packages (private).
export type { AuthenticatorFixture } from './describe-authenticator.js'
export { describeAuthenticator, principalOf } from './describe-authenticator.js'
export type { UserStoreFixture } from './describe-user-store.js'
export { describeUserStore } from './describe-user-store.js'
export { createTestHasher } from '@gatehouse/core/testing'
export { createPostgresDatabase, startPostgres, type PostgresServer } from './servers/postgres.js'
export { ldapadd, ldapmodify, ldifLine, startSlapd, type LDAPFixtureUser, type LDAPServerInfo, type SlapdServer, type StartSlapdOptions } from './servers/slapd.js'
export { startOIDCProvider, type OIDCFixtureClient, type OIDCFixtureUser, type OIDCServerInfo, type OIDCTestServer, type StartOIDCProviderOptions, type TokenResponse } from './servers/oidc.js'
