import { describe, expect, it } from 'vitest'
import { escapeMessage, escapeText } from './escape.js'

describe('escapeText', () => {
  it('turns terminal escapes and line breaks into visible \\u escapes', () => {
    expect(escapeText('evil\u001b[2Jname')).toBe('evil\\u001b[2Jname')
    expect(escapeText('a\r\nb\tc\u0000d\u007f')).toBe('a\\u000d\\u000ab\\u0009c\\u0000d\\u007f')
  })

  it('escapes C1 controls, bidirectional overrides and invisible characters', () => {
    expect(escapeText('\u009bx')).toBe('\\u009bx')
    expect(escapeText('admin\u202egnp.exe')).toBe('admin\\u202egnp.exe')
    expect(escapeText('ali\u200bce\ufeff')).toBe('ali\\u200bce\\ufeff')
    expect(escapeText('line\u2028sep')).toBe('line\\u2028sep')
  })

  it('doubles backslashes so the output reads back unambiguously', () => {
    expect(escapeText('DOMAIN\\user')).toBe('DOMAIN\\\\user')
    expect(escapeText('x\\u001b')).toBe('x\\\\u001b')
  })

  it('leaves ordinary text, including non-Latin letters and emoji, alone', () => {
    expect(escapeText('Zoë Ōtani 名前 🙂')).toBe('Zoë Ōtani 名前 🙂')
  })
})

describe('escapeMessage', () => {
  it('keeps backslashes but never lets a message span lines', () => {
    expect(escapeMessage('C:\\db\nnext')).toBe('C:\\db\\u000anext')
  })
})
