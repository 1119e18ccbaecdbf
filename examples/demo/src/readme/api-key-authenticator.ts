import { createHash } from 'node:crypto'
import type { AuthResult, Authenticator } from '@gatehouse/core'

/** Lets machines in with an `X-API-Key` header. Keys are kept as SHA-256 digests only. */
export class APIKeyAuthenticator implements Authenticator {
  readonly id = 'api-key'
  readonly #clients: ReadonlyMap<string, { name: string; roles: string[] }>

  constructor(clients: Record<string, { keySHA256: string; roles: string[] }>) {
    this.#clients = new Map(Object.entries(clients).map(([name, c]) => [c.keySHA256, { name, roles: c.roles }]))
  }

  async identify({ request }: { request: Request }): Promise<AuthResult> {
    const key = request.headers.get('x-api-key')
    if (key === null) return { outcome: 'skipped' } // not mine: the next authenticator may know
    const client = this.#clients.get(createHash('sha256').update(key).digest('hex'))
    if (client === undefined) return { outcome: 'rejected', reason: 'invalid-credentials' }
    return { outcome: 'authenticated', user: { id: client.name, username: client.name, roles: client.roles, source: this.id } }
  }
}
