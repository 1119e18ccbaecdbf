import { connect } from 'node:tls'
import type { AuthenticatorHealth } from '@gatehouse/core'
import { boundedFetch, describeURL } from './bounded-fetch.js'
import type { ProviderContext } from './oidc-authenticator.js'
import type { ResolvedOIDCOptions } from './oidc-options.js'

type Check = AuthenticatorHealth['checks'][number]

const MAX_HEALTH_BYTES = 1024 * 1024

/**
 * Asks the provider: discovery (or the explicit configuration), the JWKS, and whether the token
 * endpoint answers at all (any HTTP answer below 500). For https endpoints, the TLS certificate's
 * expiry. Each call has the configured deadline; never throws.
 */
export async function checkHealth(options: ResolvedOIDCOptions, provider: () => Promise<ProviderContext>): Promise<AuthenticatorHealth> {
  const checks: Check[] = []
  const started = performance.now()
  let context: ProviderContext | null = null
  try {
    context = await provider()
    const discovery = options.endpoints === undefined ? `${options.issuer.replace(/\/$/, '')}/.well-known/openid-configuration` : null
    checks.push(discovery === null ? { name: 'configuration', ok: true, durationMs: elapsed(started) } : await probe('discovery', discovery, options, (status) => status === 200))
  } catch (error) {
    checks.push({ name: options.endpoints === undefined ? 'discovery' : 'configuration', ok: false, durationMs: elapsed(started), error: (error as Error).message })
  }
  if (context !== null) {
    const { metadata } = context
    const probes: Array<Promise<Check>> = [probe('jwks', String(metadata.jwks_uri), options, (status) => status === 200)]
    if (typeof metadata.token_endpoint === 'string') probes.push(probe('token endpoint', metadata.token_endpoint, options, (status) => status < 500))
    checks.push(...(await Promise.all(probes)))
  }
  return { ok: checks.every((check) => check.ok), checks }
}

async function probe(name: string, url: string, options: ResolvedOIDCOptions, healthy: (status: number) => boolean): Promise<Check> {
  const started = performance.now()
  const certificate = new URL(url).protocol === 'https:' ? certificateExpiry(url, options.timeoutMs) : Promise.resolve(undefined)
  try {
    const response = await boundedFetch(url, { headers: { accept: 'application/json' } }, { timeoutMs: options.timeoutMs, maxBytes: MAX_HEALTH_BYTES })
    const expires = await certificate.catch(() => undefined)
    const ok = healthy(response.status)
    return {
      name,
      ok,
      durationMs: elapsed(started),
      ...(!ok && { error: `${describeURL(url)}: HTTP ${response.status}` }),
      ...(expires !== undefined && { certificateExpiresAt: expires }),
    }
  } catch (error) {
    const expires = await certificate.catch(() => undefined)
    return { name, ok: false, durationMs: elapsed(started), error: (error as Error).message, ...(expires !== undefined && { certificateExpiresAt: expires }) }
  }
}

/** The expiry (ISO) of the certificate the host presents, within the deadline. */
function certificateExpiry(url: string, timeoutMs: number): Promise<string | undefined> {
  const { hostname, port } = new URL(url)
  const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  return new Promise((resolve) => {
    // Only reads the certificate; trust is checked by the real requests.
    const socket = connect({ host, port: Number(port || 443), servername: /^[\d.:]+$/.test(host) ? undefined : host, rejectUnauthorized: false })
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(undefined)
    }, timeoutMs)
    socket.once('secureConnect', () => {
      clearTimeout(timer)
      const validTo = socket.getPeerCertificate().valid_to
      socket.end()
      resolve(validTo ? new Date(validTo).toISOString() : undefined)
    })
    socket.once('error', () => {
      clearTimeout(timer)
      resolve(undefined)
    })
  })
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10
}
