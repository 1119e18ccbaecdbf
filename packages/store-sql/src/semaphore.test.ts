import { describe, expect, it } from 'vitest'
import { Semaphore } from './semaphore.js'

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

  it('releases the permit when the task throws', async () => {
    const mutex = new Semaphore(1)
    await expect(mutex.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(mutex.run(async () => 'next')).resolves.toBe('next')
  })

  it('refuses a non-positive permit count', () => {
    expect(() => new Semaphore(0)).toThrow(TypeError)
  })
})
