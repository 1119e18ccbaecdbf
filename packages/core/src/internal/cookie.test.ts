import { parse } from 'hono/utils/cookie'
import { describe, expect, it } from 'vitest'
import { readCookie } from './cookie.js'

describe('readCookie', () => {
  it('finds the named cookie among others, first occurrence, without its surrounding space', () => {
    expect(readCookie('a=1; gatehouse=Fe26.2*1*abc~2; b=2', 'gatehouse')).toBe('Fe26.2*1*abc~2')
    expect(readCookie('gatehouse=first;gatehouse=second', 'gatehouse')).toBe('first')
    expect(readCookie('  gatehouse = spaced  ', 'gatehouse')).toBe('spaced')
    expect(readCookie('gatehouse=', 'gatehouse')).toBe('')
  })

  it('does not take a cookie whose name only contains the name', () => {
    expect(readCookie('xgatehouse=1; gatehouse-csrf=2', 'gatehouse')).toBeUndefined()
    expect(readCookie('gatehouse-csrf=2; gatehouse=3', 'gatehouse')).toBe('3')
    expect(readCookie('junk; gatehouse', 'gatehouse')).toBeUndefined()
    expect(readCookie(undefined, 'gatehouse')).toBeUndefined()
    expect(readCookie(null, 'gatehouse')).toBeUndefined()
  })

  it("agrees with Hono's parser on the cookies Gatehouse seals", () => {
    const seal = 'Fe26.2*1*5c1dAbc-_*Zx9_-Q*aGVsbG8*1700000000000*m4c-_x*yz_-~2'
    for (const header of [`gatehouse=${seal}`, `theme=dark; gatehouse=${seal}; lang=en`, `gatehouse-device=x; gatehouse=${seal}`]) {
      expect(readCookie(header, 'gatehouse')).toBe(parse(header, 'gatehouse').gatehouse)
    }
  })
})
