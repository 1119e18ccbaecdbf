// The public API of @gatehouse/observability. What is not exported here is free to change.

export type { PrometheusMetrics, PrometheusMetricsOptions } from './prometheus-metrics.js'
export { createPrometheusMetrics } from './prometheus-metrics.js'

export type { GatehouseScheme, OIDCSchemeOptions, OpenAPIGuard, OpenAPIGuardsOptions, SecurityRequirement, SecuritySchemeObject, SecuritySchemesOptions } from './openapi.js'
export { SECURITY_SCHEME_NAMES, gatehouseSecuritySchemes, openAPIGuards } from './openapi.js'
