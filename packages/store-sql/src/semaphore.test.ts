import { describe, expect, it } from 'vitest'
import { Semaphore, SemaphoreTimeoutError } from './semaphore.js'

describe('Semaphore', () => {
  it('admits at most `permits` tasks at once, the rest in arrival order', async () => {
    const semaphore = new Semaphore(2)
    let inFlight = 0
    let peak = 0
    const order: number[] = []
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        semaphore.run(async () => {
          inFlight += 1
          peak = Math.max(peak, inFlight)
          order.push(i)
          await new Promise((resolve) => setTimeout(resolve, 5))
          inFlight -= 1
        }),
      ),
    )
    expect(peak).toBe(2)
    expect(order).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('resizes: fewer permits are paid back by releases before a waiter gets one; more go to waiters at once', async () => {
    const semaphore = new Semaphore(2)
    await semaphore.acquire()
    await semaphore.acquire()
    semaphore.resize(1)
    expect(semaphore.permits).toBe(1)
    let third = false
    const waiting = semaphore.acquire().then(() => {
      third = true
    })
    semaphore.release()
    await Promise.resolve()
    // Two held, one permit now: the first release pays the difference back.
    expect(third).toBe(false)
    semaphore.release()
    await waiting
    expect(third).toBe(true)
    // Growing hands the new permits to those waiting, now.
    let fourth = false
    let fifth = false
    const more = [
      semaphore.acquire().then(() => {
        fourth = true
      }),
      semaphore.acquire().then(() => {
        fifth = true
      }),
    ]
    await Promise.resolve()
    expect([fourth, fifth]).toEqual([false, false])
    semaphore.resize(3)
    await Promise.all(more)
    expect([fourth, fifth]).toEqual([true, true])
    expect(() => semaphore.resize(0)).toThrow(TypeError)
  })

  it('releases the permit when the task throws', async () => {
    const mutex = new Semaphore(1)
    await expect(mutex.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(mutex.run(async () => 'next')).resolves.toBe('next')
  })

  it('gives up on a permit after timeoutMs, holding nothing, and the queue goes on', async () => {
    const mutex = new Semaphore(1)
    await mutex.acquire()
    await expect(mutex.acquire({ timeoutMs: 20 })).rejects.toBeInstanceOf(SemaphoreTimeoutError)
    const next = mutex.acquire({ timeoutMs: 1000 })
    mutex.release()
    await expect(next).resolves.toBeUndefined()
    mutex.release()
    await expect(mutex.run(async () => 'free')).resolves.toBe('free')
  })

  it('checks the deadline when the permit is handed over, even if a blocked event loop kept the timer from firing', async () => {
    const mutex = new Semaphore(1)
    await mutex.acquire()
    const late = mutex.acquire({ timeoutMs: 10 })
    const patient = mutex.acquire()
    // A holder that blocks the loop past the waiter's deadline (as SQLite's busy wait does).
    const until = performance.now() + 30
    while (performance.now() < until) {}
    mutex.release()
    await expect(late).rejects.toBeInstanceOf(SemaphoreTimeoutError)
    await expect(patient).resolves.toBeUndefined()
  })

  it('refuses a non-positive permit count', () => {
    expect(() => new Semaphore(0)).toThrow(TypeError)
  })
})
