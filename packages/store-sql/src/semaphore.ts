/**
 * A counting semaphore: at most `permits` holders at once, the others queue in arrival order.
 * With one permit it is the mutex that serializes SQLite write transactions; with a few it caps
 * argon2 work in flight.
 */
export class Semaphore {
  readonly #waiters: Array<() => void> = []
  #available: number

  constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) throw new TypeError('Semaphore: permits must be a positive integer')
    this.#available = permits
  }

  /** Resolves once a permit is held; pair every call with one {@link Semaphore.release}. */
  acquire(): Promise<void> {
    if (this.#available > 0) {
      this.#available -= 1
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  release(): void {
    const next = this.#waiters.shift()
    // The permit passes straight to the next waiter, so a newcomer cannot overtake the queue.
    if (next !== undefined) next()
    else this.#available += 1
  }

  /** Runs `task` holding a permit. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire()
    try {
      return await task()
    } finally {
      this.release()
    }
  }

  /** Callers waiting for a permit. */
  get waiting(): number {
    return this.#waiters.length
  }
}
