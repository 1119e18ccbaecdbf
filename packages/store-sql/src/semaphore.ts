/**
 * A counting semaphore: at most `permits` holders at once, the others queue in arrival order.
 * With one permit it is the mutex that serializes SQLite write transactions; with a few it caps
 * argon2 work in flight.
 */
export class Semaphore {
  readonly #waiters: Waiter[] = []
  #available: number
  #permits: number

  constructor(permits: number) {
    if (!Number.isInteger(permits) || permits < 1) throw new TypeError('Semaphore: permits must be a positive integer')
    this.#available = permits
    this.#permits = permits
  }

  /** How many may hold a permit at once. */
  get permits(): number {
    return this.#permits
  }

  /**
   * Changes how many may hold a permit at once. Fewer: holders keep theirs, and releases go to
   * paying back the difference before anyone waiting gets one. More: waiters get the new permits now.
   */
  resize(permits: number): void {
    if (!Number.isInteger(permits) || permits < 1) throw new TypeError('Semaphore: permits must be a positive integer')
    this.#available += permits - this.#permits
    this.#permits = permits
    while (this.#available > 0 && this.#waiters.length > 0) {
      this.#available -= 1
      this.release()
    }
  }

  /**
   * Resolves once a permit is held; pair every successful call with one {@link Semaphore.release}.
   * With `timeoutMs`, rejects with a {@link SemaphoreTimeoutError} (holding nothing) when no permit
   * came within that long. The deadline is also checked when a permit is handed over, because a
   * holder that blocks the event loop (SQLite's busy wait) keeps the timer from firing in time.
   */
  acquire(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    if (this.#available > 0) {
      this.#available -= 1
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const { timeoutMs } = options
      const waiter: Waiter = { resolve, reject, timeoutMs: timeoutMs ?? Infinity, deadline: timeoutMs === undefined ? Infinity : performance.now() + timeoutMs, timer: undefined }
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          const index = this.#waiters.indexOf(waiter)
          if (index >= 0) this.#waiters.splice(index, 1)
          reject(new SemaphoreTimeoutError(timeoutMs))
        }, timeoutMs)
        waiter.timer.unref?.()
      }
      this.#waiters.push(waiter)
    })
  }

  release(): void {
    // Shrunk while held: this permit is one too many.
    if (this.#available < 0) {
      this.#available += 1
      return
    }
    for (;;) {
      const next = this.#waiters.shift()
      if (next === undefined) {
        this.#available += 1
        return
      }
      clearTimeout(next.timer)
      if (performance.now() > next.deadline) {
        next.reject(new SemaphoreTimeoutError(next.timeoutMs))
        continue
      }
      // The permit passes straight to the next waiter, so a newcomer cannot overtake the queue.
      next.resolve()
      return
    }
  }

  /** Runs `task` holding a permit (see {@link Semaphore.acquire} for `timeoutMs`). */
  async run<T>(task: () => Promise<T>, options?: { readonly timeoutMs?: number }): Promise<T> {
    await this.acquire(options)
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

interface Waiter {
  readonly resolve: () => void
  readonly reject: (error: Error) => void
  readonly timeoutMs: number
  readonly deadline: number
  timer: ReturnType<typeof setTimeout> | undefined
}

/** {@link Semaphore.acquire} waited longer than its `timeoutMs`. */
export class SemaphoreTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`no permit within ${timeoutMs} ms`)
    this.name = 'SemaphoreTimeoutError'
  }
}
