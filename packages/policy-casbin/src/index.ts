// The public API of @gatehouse/policy-casbin. What is not exported here is free to change.

export type { CasbinGuardOptions, RequestValue } from './casbin-guard.js'
export { casbinGuard, keycloakRealm } from './casbin-guard.js'
export type { CasbinSubject } from './casbin-subject.js'
export { casbinSubject, principalOf } from './casbin-subject.js'
export { GatehouseRoleManager } from './gatehouse-role-manager.js'
export type { CasbinEnforcerOptions, TextSource } from './casbin-enforcer.js'
export { newCasbinEnforcer } from './casbin-enforcer.js'
export type { PolicyDatabase, PolicySchema, SQLPolicy, SQLPolicyOptions } from './sql-policy.js'
export { KyselyPolicyAdapter, POLICY_CHANNEL, POLICY_MIGRATIONS, openSQLPolicy } from './sql-policy.js'
