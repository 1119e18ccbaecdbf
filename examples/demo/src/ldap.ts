import { LDAPAuthenticator } from '@gatehouse/authenticator-ldap'
import type { Logger } from '@gatehouse/core'
import type { LDAPConfig } from './config.js'

/** The LDAP authenticator the demo puts after the SQL one when `LDAP_URL` is set. */
export function ldapAuthenticator(ldap: LDAPConfig, logger: Logger): LDAPAuthenticator {
  const urls = ldap.url.split(/[\s,]+/)
  return new LDAPAuthenticator({
    url: urls,
    searchBase: ldap.searchBase,
    searchFilter: ldap.searchFilter,
    groupRoles: ldap.groupRoles,
    groups: ldap.groupBase !== undefined ? { strategy: 'search', base: ldap.groupBase } : { strategy: 'memberOf' },
    logger,
    // With a service account, sessions re-read the account every 5 minutes (deleted → refused).
    ...(ldap.bindDN !== undefined && { bindDN: ldap.bindDN, bindPassword: ldap.bindPassword, revalidateAfterSeconds: 300 }),
    // A CA file means TLS: ldaps:// as given, ldap:// upgraded with StartTLS (never plaintext).
    ...(ldap.ca !== undefined && { tls: { ca: ldap.ca, startTLS: urls.every((url) => url.startsWith('ldap://')) } }),
  })
}
