import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { COMMON_PASSWORD_COUNT, TARGET, commonPasswordList, readCorpus } from '../test/generate-common-passwords.js'
import { openTestStore, removeTempDirectories, tempSQLiteURI } from '../test/fixtures.js'
import { commonPasswords, commonPasswordsLoaded } from './common-passwords.js'

describe('the shipped common-password list', () => {
  // First in this file: nothing here has checked a password yet.
  it('is not read when the store is imported and opened, only by the first password check', async () => {
    const sql = await openTestStore(tempSQLiteURI())
    try {
      expect(commonPasswordsLoaded()).toBe(false)
      await sql.accounts.add({ username: 'opal', password: 'opal passphrase of hers' })
      expect(commonPasswordsLoaded()).toBe(true)
    } finally {
      await sql.close()
      removeTempDirectories()
    }
  })

  it('is the 100 000 most common passwords of the corpus, folded, most common first, as generated', () => {
    const shipped = readFileSync(TARGET, 'utf8')
    expect(shipped).toBe(`${commonPasswordList(readCorpus()).join('\n')}\n`)
    const lines = shipped.trimEnd().split('\n')
    expect(lines.slice(0, 4)).toEqual(['123456', 'password', '12345678', 'qwerty'])
    expect(lines.length).toBeGreaterThan(0.95 * COMMON_PASSWORD_COUNT)
    expect(lines.every((line) => line === line.normalize('NFKC').toLowerCase() && line.trim() !== '' && !line.includes('\r'))).toBe(true)
  })

  it('holds the list and the built-in additions, loaded once', () => {
    const list = commonPasswords()
    expect(list.size).toBeGreaterThan(95_000)
    for (const password of ['password', 'iloveyou', 'trustno1', 'gatehouse', 'correcthorsebatterystaple']) expect(list.has(password)).toBe(true)
    expect(commonPasswords()).toBe(list)
  })
})
