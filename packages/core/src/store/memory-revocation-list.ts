import type { ProviderSessionRevocation, RevocationList, SessionHandle } from './user-store.js'

/**
 * A {@link RevocationList} in process memory: the default when the store keeps none. Logout is
 * then final in this process only; the SQL store shares revocations between instances.
 */
export class MemoryRevocationList implements RevocationList {
  // session id → when its cookie expires anyway (ms); entries past that are swept.
  readonly #revoked = new Map<string, number>()
  // `source \0 sid|sub \0 value` → when it was revoked and when the entry may go (ms).
  readonly #providerSessions = new Map<string, { revokedAt: number; expiresAt: number }>()

  async revoke({ sessionId, expiresAt }: { sessionId: string; expiresAt: Date }): Promise<void> {
    const now = Date.now()
    for (const [id, until] of this.#revoked) if (until <= now) this.#revoked.delete(id)
    this.#revoked.set(sessionId, expiresAt.getTime())
  }

  async revokeProviderSessions({ source, providerSessionId, subject, expiresAt }: ProviderSessionRevocation): Promise<void> {
    const now = Date.now()
    for (const [key, entry] of this.#providerSessions) if (entry.expiresAt <= now) this.#providerSessions.delete(key)
    if (providerSessionId !== undefined) this.#providerSessions.set(providerKey(source, 'sid', providerSessionId), { revokedAt: now, expiresAt: expiresAt.getTime() })
    if (subject !== undefined) this.#providerSessions.set(providerKey(source, 'sub', subject), { revokedAt: now, expiresAt: expiresAt.getTime() })
  }

  async isRevoked({ sessionId, source, providerSessionId, subject, issuedAt }: SessionHandle): Promise<boolean> {
    if (this.#revoked.has(sessionId)) return true
    if (source === undefined) return false
    const issued = issuedAt?.getTime() ?? 0
    const endedAfterIssue = (kind: 'sid' | 'sub', value: string | undefined) => {
      const entry = value === undefined ? undefined : this.#providerSessions.get(providerKey(source, kind, value))
      return entry !== undefined && entry.revokedAt >= issued
    }
    return endedAfterIssue('sid', providerSessionId) || endedAfterIssue('sub', subject)
  }
}

function providerKey(source: string, kind: 'sid' | 'sub', value: string): string {
  return `${source}\u0000${kind}\u0000${value}`
}
