// @gatehouse/core/testing: helpers for the tests of applications, custom stores and authenticators.

import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'
import type { PasswordHasher } from './store/user-store.js'

/**
 * A fast scrypt {@link PasswordHasher} for tests of core and of custom stores, where argon2's
 * cost would only slow the suite. `cost` in the hash lets tests exercise rehash-on-login.
 * Not for production: use the argon2id hasher of `@gatehouse/store-sql`.
 */
export function createTestHasher(options: { cost?: number } = {}): PasswordHasher {
  const cost = options.cost ?? 16
  const derive = (password: string, salt: Buffer, n: number) => new Promise<Buffer>((resolve, reject) => scrypt(password, salt, 32, { N: n }, (err, key) => (err ? reject(err) : resolve(key))))
  return {
    async hash(password) {
      const salt = randomBytes(16)
      return `$test$${cost}$${salt.toString('base64url')}$${(await derive(password, salt, cost)).toString('base64url')}`
    },
    async verify({ hash, password }) {
      const [, kind, n, salt, key] = hash.split('$')
      if (kind !== 'test' || !n || !salt || !key) return false
      const expected = Buffer.from(key, 'base64url')
      const actual = await derive(password, Buffer.from(salt, 'base64url'), Number(n))
      return expected.length === actual.length && timingSafeEqual(expected, actual)
    },
    needsRehash(hash) {
      return Number(hash.split('$')[2]) < cost
    },
  }
}
