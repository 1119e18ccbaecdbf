import type { AuthMetrics, PasswordHasher } from '@gatehouse/core'
import { NOOP_METRICS, WeakPasswordError } from '@gatehouse/core'
import { availableParallelism } from 'node:os'
import argon2 from 'argon2'
import { Semaphore } from './semaphore.js'

/** Options of {@link Argon2Hasher}. */
export interface Argon2HasherOptions {
  /** Memory per hash in KiB. OWASP's minimum for argon2id is 19456 (19 MiB). @default 19456 */
  readonly memoryCost?: number
  /** Passes over memory. @default 2 */
  readonly timeCost?: number
  /** Lanes. @default 1 */
  readonly parallelism?: number
  /**
   * Hashes and verifies in flight at once; the rest wait in a queue. argon2 runs in Node's
   * 4-thread worker pool, the same pool WebCrypto uses for every session cookie, so an uncapped
   * login storm makes every logged-in request wait. @default 2
   */
  readonly maxConcurrency?: number
  /** Longer passwords are refused before any hashing (argon2 denial of service). @default 1024 (UTF-8 bytes) */
  readonly maxPasswordBytes?: number
  /**
   * Accept parameters weaker than every argon2id configuration OWASP lists as its minimum
   * (m=47104 t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5).
   * Only for tests, where argon2's cost would only slow the suite. @default false
   */
  readonly allowWeakParameters?: boolean
  /**
   * Leave the event loop a core while it is busy. On a machine with no core to spare
   * (`availableParallelism()` ≤ `maxConcurrency`), argon2 would take every core from the event
   * loop, and every signed-in request would wait for CPU behind password hashing. So while the
   * event loop was busy more than {@link BUSY_EVENT_LOOP} of two {@link BUSY_SAMPLE_MS} ms in a row,
   * at most `availableParallelism() - 1` (at least 1) hashes and verifies run at once; while it is
   * not (only logins, an idle machine), `maxConcurrency` do. `false` always allows `maxConcurrency`.
   * @default true
   */
  readonly yieldToBusyEventLoop?: boolean
}

/** Event-loop utilization above which argon2 leaves the event loop a core (see `yieldToBusyEventLoop`). */
export const BUSY_EVENT_LOOP = 0.75
/** How often the event loop's utilization is looked at (at a hash or verify, never on a timer). */
export const BUSY_SAMPLE_MS = 100

/** OWASP Password Storage Cheat Sheet, argon2id: m=19456 KiB, t=2, p=1. */
export const ARGON2_DEFAULTS = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1 })

// OWASP Password Storage Cheat Sheet: equally strong argon2id (memory KiB, passes) pairs, p=1.
const OWASP_MINIMUMS: ReadonlyArray<readonly [number, number]> = [
  [47_104, 1],
  [19_456, 2],
  [12_288, 3],
  [9_216, 4],
  [7_168, 5],
]

// Limits on what a stored hash may ask of us: a corrupt or planted hash with absurd parameters
// must not make one verify allocate gigabytes or spin for minutes.
const MAX_STORED_MEMORY_KIB = 1_048_576
const MAX_STORED_TIME_COST = 64
const MAX_STORED_PARALLELISM = 64
const PHC = /^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,10})(?:,[^$]*)?\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/

/**
 * argon2id {@link PasswordHasher} (the `argon2` package, pinned to 0.44.0: later releases crash on
 * Node 20). Hashes are PHC strings with a fresh random salt. `verify` returns `false` — never
 * throws — for a wrong password, a corrupt or foreign hash, or an oversized password.
 * `needsRehash` asks argon2 itself whether a hash was made with other parameters than the
 * current ones (or another variant than argon2id), so that raising the parameters upgrades every
 * account at its next login.
 *
 * @example
 * ```ts
 * const hasher = new Argon2Hasher({ memoryCost: 65536, timeCost: 3 })
 * const hash = await hasher.hash('correct horse battery staple')
 * await hasher.verify({ hash, password: 'correct horse battery staple' }) // true
 * ```
 */
export class Argon2Hasher implements PasswordHasher {
  /** The parameters new hashes are made with. */
  readonly parameters: { readonly memoryCost: number; readonly timeCost: number; readonly parallelism: number }
  readonly maxPasswordBytes: number
  readonly #slots: Semaphore
  readonly #maxConcurrency: number
  /** Hashes at once while the event loop is busy; `maxConcurrency` when there is a core to spare. */
  readonly #busyConcurrency: number
  #utilization = performance.eventLoopUtilization()
  #sampledAt = performance.now()
  /** Busy samples in a row. */
  #busy = 0
  #metrics: Pick<AuthMetrics, 'hasherQueue'> = NOOP_METRICS

  constructor(options: Argon2HasherOptions = {}) {
    const memoryCost = options.memoryCost ?? ARGON2_DEFAULTS.memoryCost
    const timeCost = options.timeCost ?? ARGON2_DEFAULTS.timeCost
    const parallelism = options.parallelism ?? ARGON2_DEFAULTS.parallelism
    const maxConcurrency = options.maxConcurrency ?? 2
    const maxPasswordBytes = options.maxPasswordBytes ?? 1024
    for (const [name, value] of Object.entries({ memoryCost, timeCost, parallelism, maxConcurrency, maxPasswordBytes })) {
      if (!Number.isInteger(value) || value < 1) throw new TypeError(`Argon2Hasher: ${name} must be a positive integer`)
    }
    if (memoryCost < 8 * parallelism) throw new TypeError('Argon2Hasher: memoryCost must be at least 8 KiB per lane')
    if (memoryCost > MAX_STORED_MEMORY_KIB || timeCost > MAX_STORED_TIME_COST || parallelism > MAX_STORED_PARALLELISM) {
      throw new TypeError('Argon2Hasher: parameters too large (memoryCost ≤ 1 GiB, timeCost ≤ 64, parallelism ≤ 64)')
    }
    // Strong enough = at least one of OWASP's equivalent argon2id configurations in both memory and passes.
    const weak = !OWASP_MINIMUMS.some(([m, t]) => memoryCost >= m && timeCost >= t)
    if (weak && options.allowWeakParameters !== true) {
      throw new TypeError("Argon2Hasher: parameters below OWASP's argon2id minimum (m=19456 KiB, t=2, p=1); allowWeakParameters is for tests only")
    }
    if (maxPasswordBytes < 256) throw new TypeError('Argon2Hasher: maxPasswordBytes must allow at least 64 characters (256 bytes)')
    this.parameters = Object.freeze({ memoryCost, timeCost, parallelism })
    this.maxPasswordBytes = maxPasswordBytes
    this.#slots = new Semaphore(maxConcurrency)
    this.#maxConcurrency = maxConcurrency
    this.#busyConcurrency = options.yieldToBusyEventLoop === false ? maxConcurrency : Math.max(1, Math.min(maxConcurrency, availableParallelism() - 1))
  }

  /** Hashes and verifies that may run at once right now (see `yieldToBusyEventLoop`). */
  get concurrency(): number {
    return this.#slots.permits
  }

  /** Throws `WeakPasswordError` for a password over `maxPasswordBytes`, before hashing anything. */
  async hash(password: string): Promise<string> {
    if (typeof password !== 'string') throw new TypeError('Argon2Hasher.hash: password must be a string')
    if (Buffer.byteLength(password) > this.maxPasswordBytes) throw new WeakPasswordError([`longer than ${this.maxPasswordBytes} bytes`])
    return this.#run(() => argon2.hash(password, { type: argon2.argon2id, ...this.parameters }))
  }

  async verify({ hash, password }: { readonly hash: string; readonly password: string }): Promise<boolean> {
    if (typeof password !== 'string' || typeof hash !== 'string') return false
    if (Buffer.byteLength(password) > this.maxPasswordBytes) return false
    if (!plausibleHash(hash)) return false
    try {
      return await this.#run(() => argon2.verify(hash, password))
    } catch {
      // A hash argon2 cannot parse is a failed login, not a server error.
      return false
    }
  }

  needsRehash(hash: string): boolean {
    if (typeof hash !== 'string' || !hash.startsWith('$argon2id$') || !plausibleHash(hash)) return true
    try {
      return argon2.needsRehash(hash, { ...this.parameters, version: 0x13 })
    } catch {
      return true
    }
  }

  /**
   * Reports every hash and verify to `metrics.hasherQueue`: how many were waiting ahead of it and
   * how long it waited for a slot. `SQLPasswordAuthenticator.attach` forwards the app's metrics here.
   */
  attach({ metrics }: { readonly metrics: Pick<AuthMetrics, 'hasherQueue'> }): void {
    this.#metrics = metrics
  }

  async #run<T>(task: () => Promise<T>): Promise<T> {
    this.#yieldIfBusy()
    const depth = this.#slots.waiting
    const started = performance.now()
    try {
      return await this.#slots.run(() => {
        this.#metrics.hasherQueue({ depth, waitSeconds: (performance.now() - started) / 1000 })
        return task()
      })
    } finally {
      this.#yieldIfBusy()
    }
  }

  /** At most every BUSY_SAMPLE_MS: fewer slots while the event loop was busy, all of them again once it is not. */
  #yieldIfBusy(): void {
    if (this.#busyConcurrency === this.#maxConcurrency) return
    const now = performance.now()
    if (now - this.#sampledAt < BUSY_SAMPLE_MS) return
    const { utilization } = performance.eventLoopUtilization(this.#utilization)
    this.#utilization = performance.eventLoopUtilization()
    this.#sampledAt = now
    this.#busy = utilization > BUSY_EVENT_LOOP ? this.#busy + 1 : 0
    // Two busy samples in a row: logins alone keep the loop busy now and then (a burst of them,
    // or the loop waiting for a core behind argon2 itself), requests of signed-in users keep it busy.
    this.#slots.resize(this.#busy >= 2 ? this.#busyConcurrency : this.#maxConcurrency)
  }

  /** Hashes and verifies waiting for a slot (for metrics and tests). */
  get queued(): number {
    return this.#slots.waiting
  }
}

function plausibleHash(hash: string): boolean {
  if (hash.length > 1024) return false
  const match = PHC.exec(hash)
  if (match === null) return false
  const [m, t, p] = [Number(match[1]), Number(match[2]), Number(match[3])]
  return m <= MAX_STORED_MEMORY_KIB && t >= 1 && t <= MAX_STORED_TIME_COST && p >= 1 && p <= MAX_STORED_PARALLELISM
}
