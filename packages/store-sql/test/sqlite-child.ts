// A second process on the same SQLite file, as the auth-user-admin CLI or another app instance
// would be. Driven by test/sqlite-processes.test.ts:
//   tsx --conditions=gatehouse-source sqlite-child.ts <uri> write <prefix> <count>   (waits for "go" on stdin)
//   tsx --conditions=gatehouse-source sqlite-child.ts <uri> delete <username>
//   tsx --conditions=gatehouse-source sqlite-child.ts <uri> migrate
import { createInterface } from 'node:readline'
import { openSQLStore } from '../src/index.js'
import { LIGHT_HASHER } from './fixtures.js'

const [uri, command, ...args] = process.argv.slice(2)
// Limits high enough that every attempt of the test is let through and counted.
const sql = await openSQLStore({ uri, hasher: LIGHT_HASHER, throttle: { username: { freeFailures: 10_000 } } })
const say = (message: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(message)}\n`)

if (command === 'write') {
  const [prefix, count] = [args[0]!, Number(args[1])]
  say({ ready: true })
  const input = createInterface({ input: process.stdin })
  await new Promise<void>((resolve) => input.once('line', () => resolve()))
  input.close()
  process.stdin.destroy()
  const hash = await sql.hasher.hash('shared child passphrase')
  const errors: string[] = []
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      try {
        await sql.store.createUser({ username: `${prefix}-${i}`, passwordHash: hash, roles: ['User'] })
        await sql.throttle.begin({ username: 'shared-target', address: undefined })
      } catch (error) {
        errors.push(String((error as { cause?: unknown }).cause ?? error))
      }
    }),
  )
  say({ done: true, errors })
} else if (command === 'delete') {
  await sql.accounts.delete({ username: args[0]! })
  say({ deletedAt: Date.now() })
} else if (command === 'migrate') {
  say({ status: await sql.schemaStatus() })
} else {
  throw new Error(`unknown command ${command}`)
}
await sql.close()
