// Raw argon2id verifies, in a process of their own: `node dist/argon2-raw.js '{"concurrency":4,"seconds":3}'`
// keeps `concurrency` verifies of one hash (Gatehouse's default parameters) in flight and prints
// `{"verifiesPerSecond":…}`: the ceiling a login route can reach at that concurrency.
import argon2 from 'argon2'
import { BENCH_PASSWORD } from './scenarios.js'

const { concurrency = 2, seconds = 3, warmupSeconds = 0.5 } = JSON.parse(process.argv[2] ?? '{}') as { concurrency?: number; seconds?: number; warmupSeconds?: number }
const hash = await argon2.hash(BENCH_PASSWORD, { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 })

async function verifyFor(ms: number): Promise<number> {
  const end = performance.now() + ms
  let count = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        if (!(await argon2.verify(hash, BENCH_PASSWORD))) throw new Error('argon2 verify failed')
        count++
      }
    }),
  )
  return count
}

await verifyFor(warmupSeconds * 1000)
const start = performance.now()
const count = await verifyFor(seconds * 1000)
process.stdout.write(`${JSON.stringify({ verifiesPerSecond: count / ((performance.now() - start) / 1000) })}\n`)
