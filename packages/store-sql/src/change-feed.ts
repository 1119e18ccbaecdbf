import type { Logger, UserChange } from '@gatehouse/core'

/** Fan-out of {@link UserChange}s to subscribers (the session caches of `createAuth`). */
export class ChangeFeed {
  readonly #listeners = new Set<(change: UserChange) => void>()
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  subscribe(listener: (change: UserChange) => void): () => void {
    // A wrapper per subscription, so subscribing one function twice needs two unsubscribes.
    const entry = (change: UserChange) => listener(change)
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }

  emit(change: UserChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change)
      } catch (error) {
        // One broken subscriber must not keep the others from dropping stale sessions.
        this.#logger.error({ err: String(error) }, 'store change listener failed')
      }
    }
  }
}
