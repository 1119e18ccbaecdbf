// The public API of @gatehouse/authenticator-ldap. What is not exported here is free to change.

export type { LDAPAuthenticatorOptions, LDAPGroupsOptions, LDAPTLSOptions } from './ldap-options.js'
export { ldapOptionsSchema } from './ldap-options.js'
export { LDAPAuthenticator } from './ldap-authenticator.js'
export type { AttributeTypeAndValue, ParsedDN } from './distinguished-name.js'
export { escapeDNValue, normalizeDN, parseDN } from './distinguished-name.js'
export { FilterTemplate } from './filter-template.js'
