import { describe, expect, it } from 'vitest'
import { dnKey, escapeDNValue, normalizeDN, parseDN } from './distinguished-name.js'

describe('escapeDNValue', () => {
  it.each([
    ['Smith, John', 'Smith\\, John'],
    ['a+b', 'a\\+b'],
    ['say "hi"', 'say \\"hi\\"'],
    ['x;y<z>', 'x\\;y\\<z\\>'],
    ['back\\slash', 'back\\\\slash'],
    ['#hash', '\\#hash'],
    [' padded ', '\\ padded\\ '],
    ['nul\0byte', 'nul\\00byte'],
    ['zoë', 'zoë'],
    ['in#side = fine', 'in#side = fine'],
  ])('escapes %j as %j', (value, escaped) => {
    expect(escapeDNValue(value)).toBe(escaped)
  })

  it.each(['Smith, John', 'alice,ou=admins', 'x+uid=root', '"', '\\', '#', ' ', '  two  ', '\0', 'ünïcödé ✓', 'a=b', 'uid=*)(|(uid=*'])(
    'round-trips %j through a DN as one value of one RDN',
    (value) => {
      const parsed = parseDN(`cn=${escapeDNValue(value)},dc=example,dc=org`)
      expect(parsed).toHaveLength(3)
      expect(parsed[0]).toEqual([{ type: 'cn', value }])
    },
  )
})

describe('parseDN', () => {
  it('decodes hex escapes as UTF-8 and splits multi-valued RDNs', () => {
    expect(parseDN('cn=Jos\\C3\\A9 \\2B Co+uid=jose,ou=people,dc=example,dc=org')).toEqual([
      [
        { type: 'cn', value: 'José + Co' },
        { type: 'uid', value: 'jose' },
      ],
      [{ type: 'ou', value: 'people' }],
      [{ type: 'dc', value: 'example' }],
      [{ type: 'dc', value: 'org' }],
    ])
  })

  it('accepts spaces around separators, as RFC 2253 parsers do', () => {
    expect(parseDN('CN = Smith\\, John , OU=People')).toEqual([[{ type: 'CN', value: 'Smith, John' }], [{ type: 'OU', value: 'People' }]])
  })

  it('keeps #-hex (BER) values and numeric OIDs', () => {
    expect(parseDN('2.5.4.3=#04024869,dc=org')).toEqual([[{ type: '2.5.4.3', value: '#04024869', ber: true }], [{ type: 'dc', value: 'org' }]])
  })

  it.each(['cn', 'cn=a,', '=a', 'cn=a"b', 'cn=a\\x', 'c n=a', 'cn=a\\C3', 'cn=#zz'])('refuses %j', (dn) => {
    expect(() => parseDN(dn)).toThrow(TypeError)
  })
})

describe('normalizeDN', () => {
  it('gives one spelling per DN: lower-case types, minimal escapes, sorted multi-valued RDNs', () => {
    expect(normalizeDN('CN=Smith\\2C John,OU=People,DC=Example,DC=org')).toBe('cn=Smith\\, John,ou=People,dc=Example,dc=org')
    expect(normalizeDN('uid=eve+cn=Eve \\22Q\\22 Doe,dc=org')).toBe('cn=Eve \\"Q\\" Doe+uid=eve,dc=org')
    expect(normalizeDN('cn=Eve \\"Q\\" Doe+uid=eve,dc=org')).toBe(normalizeDN('uid=eve + cn=Eve \\22Q\\22 Doe, dc=org'))
  })

  it('produces DNs that parse back to the same value', () => {
    for (const dn of ['cn=\\#x\\ ,dc=org', 'cn=a\\\\b\\+c,dc=org', 'uid=zo\\C3\\AB,dc=org', 'cn=\\00,dc=org']) {
      expect(parseDN(normalizeDN(dn))).toEqual(parseDN(dn))
    }
  })

  it('dnKey compares case-insensitively', () => {
    expect(dnKey('CN=Admins,OU=Groups,DC=example,DC=org')).toBe(dnKey('cn=admins,ou=groups,dc=Example,dc=ORG'))
  })
})
