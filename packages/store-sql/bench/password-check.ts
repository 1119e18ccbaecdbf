// What the password blocklist costs: loading the shipped list (first check) and one check after.
//   node --expose-gc --import tsx packages/store-sql/bench/password-check.ts   (from the repository root)
import { commonPasswords, commonPasswordsLoaded } from '../src/common-passwords.js'
import { checkPasswordPolicy } from '../src/password-policy.js'

const gc = (globalThis as { gc?: () => void }).gc
const heapMB = () => {
  gc?.()
  return process.memoryUsage().heapUsed / 2 ** 20
}
if (commonPasswordsLoaded()) throw new Error('the list was loaded at import')
const before = heapMB()
const rssBefore = process.memoryUsage().rss / 2 ** 20
const start = performance.now()
checkPasswordPolicy('violet cormorant at dawn')
const loadMs = performance.now() - start
const after = heapMB()
console.log(
  `first check (loads ${commonPasswords().size} entries): ${loadMs.toFixed(1)} ms; heap +${(after - before).toFixed(1)} MB, RSS +${(process.memoryUsage().rss / 2 ** 20 - rssBefore).toFixed(1)} MB${gc ? '' : ' (run with --expose-gc for a steady heap figure)'}`,
)
for (const [label, password] of [
  ['accepted passphrase', 'violet cormorant at dawn'],
  ['refused variant', 'Password1!'],
  ['refused, 1 KiB', `${'x'.repeat(1000)}abc`],
] as const) {
  const rounds = 20_000
  const t = performance.now()
  for (let i = 0; i < rounds; i++) checkPasswordPolicy(password, {}, { username: 'alice' })
  console.log(`one check, ${label}: ${(((performance.now() - t) / rounds) * 1000).toFixed(1)} µs`)
}
