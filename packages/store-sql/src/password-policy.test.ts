import { describe, expect, it } from 'vitest'
import { RECOMMENDED_MIN_PASSWORD_LENGTH, checkPasswordPolicy, resolvePasswordPolicy } from './password-policy.js'

describe('checkPasswordPolicy', () => {
  it('asks for 8 characters by default, counting code points, and allows the recommended 15 to be required', () => {
    expect(checkPasswordPolicy('violet7')).toEqual(['shorter than 8 characters'])
    expect(checkPasswordPolicy('violet77')).toEqual([])
    // 8 emoji are 8 characters (16 UTF-16 units, 32 bytes).
    expect(checkPasswordPolicy('🦊🐢🦉🐙🦋🐝🦀🐌')).toEqual([])
    expect(RECOMMENDED_MIN_PASSWORD_LENGTH).toBe(15)
    expect(checkPasswordPolicy('violet cormorant', { minLength: 15 })).toEqual([])
    expect(checkPasswordPolicy('violet77', { minLength: 15 })).toEqual(['shorter than 15 characters'])
  })

  it('has no composition rules and accepts long passphrases (64 characters and far more)', () => {
    expect(checkPasswordPolicy('all lower case words here')).toEqual([])
    expect(checkPasswordPolicy('x'.repeat(63) + 'y')).toEqual([])
    expect(checkPasswordPolicy('ж'.repeat(255) + 'q')).toEqual([])
    expect(checkPasswordPolicy('a'.repeat(1000) + 'b')).toEqual([])
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

  it('refuses the username and one repeated character', () => {
    expect(checkPasswordPolicy('Margaret.Hamilton', {}, { username: 'margaret.hamilton' })).toEqual(['the same as the username'])
    expect(checkPasswordPolicy('zzzzzzzzzzzz')).toEqual(['one character repeated'])
  })

  it('refuses a policy weaker than the rules allow', () => {
    expect(() => resolvePasswordPolicy({ minLength: 6 })).toThrow(TypeError)
    expect(() => resolvePasswordPolicy({ maxLength: 64 })).toThrow(TypeError)
    expect(resolvePasswordPolicy()).toEqual({ minLength: 8, maxLength: 1024 })
  })
})
