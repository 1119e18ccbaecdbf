import { readCapped } from '@gatehouse/core/internals'

/** Why a call to the provider failed (network, deadline, size, content type, redirect, status). */
export class ProviderRequestError extends Error {
  override name = 'ProviderRequestError'
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304])

/** Limits of one call to the provider. */
export interface FetchLimits {
  /** The whole exchange (connect, headers, body) must finish within this. */
  readonly timeoutMs: number
  /** A larger body is refused (read no further than this). */
  readonly maxBytes: number
}

/**
 * `fetch` with a deadline over the whole exchange, no redirects followed, and a body that is
 * read no further than `maxBytes`. Returns a fresh `Response` holding the (bounded) body, so
 * callers such as openid-client can read it as usual.
 */
export async function boundedFetch(url: string, init: RequestInit, limits: FetchLimits): Promise<Response> {
  const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(limits.timeoutMs)]) : AbortSignal.timeout(limits.timeoutMs)
  let response: Response
  try {
    // A redirect could lead anywhere (another host, plain http): never followed.
    response = await fetch(url, { ...init, redirect: 'manual', signal })
  } catch (error) {
    throw new ProviderRequestError(`${describeURL(url)}: ${isTimeout(error) ? `no answer within ${limits.timeoutMs} ms` : 'cannot connect'}`, { cause: error })
  }
  try {
    const declared = Number(response.headers.get('content-length') ?? NaN)
    if (declared > limits.maxBytes) throw new ProviderRequestError(`${describeURL(url)}: answer larger than ${limits.maxBytes} bytes`)
    const body = await readCapped(response.body, limits.maxBytes)
    if (body === null) throw new ProviderRequestError(`${describeURL(url)}: answer larger than ${limits.maxBytes} bytes`)
    return new Response(NULL_BODY_STATUS.has(response.status) ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers })
  } catch (error) {
    if (error instanceof ProviderRequestError) throw error
    throw new ProviderRequestError(`${describeURL(url)}: ${isTimeout(error) ? `no answer within ${limits.timeoutMs} ms` : 'the answer was cut'}`, { cause: error })
  } finally {
    // Whatever was not read is dropped (a huge answer stops here).
    await response.body?.cancel().catch(() => {})
  }
}

/** Fetches a JSON document: 200, a JSON content type, bounded size and time. */
export async function fetchJSON(url: string, limits: FetchLimits, accept = 'application/json'): Promise<unknown> {
  const response = await boundedFetch(url, { headers: { accept } }, limits)
  if (response.status >= 300 && response.status < 400) throw new ProviderRequestError(`${describeURL(url)}: redirects are not followed (HTTP ${response.status})`)
  if (response.status !== 200) throw new ProviderRequestError(`${describeURL(url)}: HTTP ${response.status}`)
  const type = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/json' && !/^application\/[a-z0-9.+-]*\+json$/.test(type)) {
    throw new ProviderRequestError(`${describeURL(url)}: not JSON (content-type ${JSON.stringify(type)})`)
  }
  try {
    return await response.json()
  } catch (error) {
    throw new ProviderRequestError(`${describeURL(url)}: invalid JSON`, { cause: error })
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || (error.cause instanceof Error && error.cause.name === 'TimeoutError'))
}

/** The URL without query (a token could sit there in a misconfigured endpoint). */
export function describeURL(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return 'invalid URL'
  }
}
