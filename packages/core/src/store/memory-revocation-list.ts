import type { RevocationList } from './user-store.js'

/**
 * A {@link RevocationList} in process memory: the default when the store keeps none. Logout is
 * then final in this process only; the SQL store shares revocations between instances.
 */
export class MemoryRevocationList implements RevocationList {
  // session id → when its cookie expires anyway (ms); entries past that are swept.
  readonly #revoked = new Map<string, number>()

  async revoke({ sessionId, expiresAt }: { sessionId: string; expiresAt: Date }): Promise<void> {
    const now = Date.now()
    for (const [id, until] of this.#revoked) if (until <= now) this.#revoked.delete(id)
    this.#revoked.set(sessionId, expiresAt.getTime())
  }

  async isRevoked({ sessionId }: { sessionId: string }): Promise<boolean> {
    return this.#revoked.has(sessionId)
  }
}
