import { describe, expect, it } from 'vitest'
import { RECOMMENDED_MIN_PASSWORD_LENGTH, checkPasswordPolicy, resolvePasswordPolicy } from './password-policy.js'

describe('checkPasswordPolicy', () => {
  it('asks for 8 characters by default, counting code points, and allows the recommended 15 to be required', () => {
    expect(checkPasswordPolicy('violet7')).toEqual(['shorter than 8 characters'])
    expect(checkPasswordPolicy('vi0let7q')).toEqual([])
    // 8 emoji are 8 characters (16 UTF-16 units, 32 bytes).
    expect(checkPasswordPolicy('🦊🐢🦉🐙🦋🐝🦀🐌')).toEqual([])
    expect(RECOMMENDED_MIN_PASSWORD_LENGTH).toBe(15)
    expect(checkPasswordPolicy('violet cormorant', { minLength: 15 })).toEqual([])
    expect(checkPasswordPolicy('vi0let7q', { minLength: 15 })).toEqual(['shorter than 15 characters'])
    // Too short is the one reason given, even for a common password.
    expect(checkPasswordPolicy('password', { minLength: 15 })).toEqual(['shorter than 15 characters'])
  })

  it('has no composition rules and accepts long passphrases (64 characters and far more)', () => {
    expect(checkPasswordPolicy('all lower case words here')).toEqual([])
    expect(checkPasswordPolicy(`${'x'.repeat(63)}y`)).toEqual([])
    expect(checkPasswordPolicy(`${'ж'.repeat(255)}q`)).toEqual([])
    expect(checkPasswordPolicy(`${'a'.repeat(1000)}b`)).toEqual([])
  })

  it('refuses a password over the hard byte maximum, and only says that', () => {
    expect(checkPasswordPolicy('a'.repeat(1025))).toEqual(['longer than 1024 bytes'])
    expect(checkPasswordPolicy('€'.repeat(342))).toEqual(['longer than 1024 bytes']) // 1026 bytes
    expect(checkPasswordPolicy('x'.repeat(1 << 20))).toEqual(['longer than 1024 bytes'])
  })

  it('refuses common passwords whatever their case, and operator additions', () => {
    expect(checkPasswordPolicy('Password123')).toEqual(['a commonly used password'])
    expect(checkPasswordPolicy('QWERTYUIOP')).toEqual(['a commonly used password'])
    expect(checkPasswordPolicy('ａｄｍｉｎ１２３')).toEqual(['a commonly used password']) // fullwidth folds by NFKC
    expect(checkPasswordPolicy('acme-corp-2025', { blocklist: ['ACME-Corp-2025'] })).toEqual(['a commonly used password'])
  })

  it('refuses the 100 000 most common leaked passwords, not only the built-in ones', () => {
    // From the shipped list, far down it, and none of them in the built-in list.
    for (const password of ['zimmerman', 'mustang69', 'marlboro1', 'truelove1', 'bigdaddy1', 'jellybean']) {
      expect(checkPasswordPolicy(password)).toEqual(['a commonly used password'])
    }
  })

  it('refuses a common password with digits or symbols added at either end or spaces inside, without quoting it', () => {
    for (const password of ['Password1!', 'PASSWORD2024!!', '!Welcome1', 'Dragon#99', 'pass word 1', 'Sunshine 2025', 'Monkey123?']) {
      expect(checkPasswordPolicy(password)).toEqual(['a commonly used password with a few characters added'])
    }
    // A long random-looking tail is not "a few characters": the word alone does not decide.
    expect(checkPasswordPolicy('monkey 4729 8812!')).toEqual([])
    for (const problem of checkPasswordPolicy('Password1!')) expect(problem.toLowerCase()).not.toContain('password1')
  })

  it('accepts good passphrases and random passwords', () => {
    for (const password of ['violet cormorant at dawn', 'quietly folding maps in Tromsø', 'qT7vZ!93xw', 'Tr0ub4dor&3x']) {
      expect(checkPasswordPolicy(password, {}, { username: 'alice' })).toEqual([])
    }
  })

  it('refuses the username, also with a few characters added, and one repeated character', () => {
    expect(checkPasswordPolicy('Margaret.Hamilton', {}, { username: 'margaret.hamilton' })).toEqual(['the same as the username'])
    expect(checkPasswordPolicy('margaret hamilton 1969!', {}, { username: 'Margaret.Hamilton' })).toEqual(['the username with a few characters added'])
    expect(checkPasswordPolicy('MargaretHamilton', {}, { username: 'margaret-hamilton' })).toEqual(['the username with a few characters added'])
    expect(checkPasswordPolicy('zzzzzzzzzzzz')).toEqual(['one character repeated'])
  })

  it("refuses passwords built on the context words (the application's name), only when given", () => {
    const options = { contextWords: ['Acme Notes', 'Acme'] }
    for (const password of ['acme notes', 'AcmeNotes2025', 'acme-notes-2025!', '#Acme1234']) {
      expect(checkPasswordPolicy(password, options)).toContain('based on the name of this service')
    }
    expect(checkPasswordPolicy('AcmeNotes2025')).toEqual([])
    expect(checkPasswordPolicy('acme notes for the whole team', options)).toEqual([])
    expect(() => resolvePasswordPolicy({ contextWords: 'Acme' as unknown as string[] })).toThrow(TypeError)
  })

  it('refuses a policy weaker than the rules allow', () => {
    expect(() => resolvePasswordPolicy({ minLength: 6 })).toThrow(TypeError)
    expect(() => resolvePasswordPolicy({ maxLength: 64 })).toThrow(TypeError)
    expect(resolvePasswordPolicy()).toEqual({ minLength: 8, maxLength: 1024 })
  })
})
