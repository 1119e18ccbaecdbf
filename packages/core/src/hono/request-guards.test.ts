import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { OFF_SITE_TARGETS } from '../../test/fixtures.js'
import { safeNextPath } from './request-guards.js'

const ORIGIN = 'http://app.test'

describe('safeNextPath', () => {
  it('keeps same-origin paths with their query and fragment', () => {
    expect(safeNextPath('/admin?tab=1#top')).toBe('/admin?tab=1#top')
    expect(safeNextPath('/a/./b/../c')).toBe('/a/c')
    expect(safeNextPath('/%2F%2Fevil.example')).toBe('/%2F%2Fevil.example') // an encoded slash is one path segment
  })

  it.each(OFF_SITE_TARGETS)('sends %j to the fallback or to a same-origin path', (next) => {
    const result = safeNextPath(next, '/home')
    expect(isSameOriginPath(result), `${JSON.stringify(next)} → ${JSON.stringify(result)}`).toBe(true)
  })

  it('answers the fallback for the dot-segment tricks that collapse into //', () => {
    for (const next of ['/.//evil.example', '/..//evil.example', '/a/..//evil.example', '/%2e%2e//evil.example', '/.%2e//evil.example']) {
      expect(safeNextPath(next, '/home'), next).toBe('/home')
    }
  })

  it('answers the fallback for anything that is not a string path', () => {
    for (const next of [undefined, null, 42, ['/admin'], { toString: () => '/admin' }, '/'.padEnd(2049, 'a')]) {
      expect(safeNextPath(next, '/home')).toBe('/home')
    }
  })

  it('never returns a protocol-relative or off-site target, for generated input', () => {
    // Pieces that URL parsing treats specially, mixed at random with ordinary text.
    const piece = fc.constantFrom(
      '/',
      '//',
      '\\',
      '.',
      '..',
      '%2e',
      '%2E',
      '%2f',
      '%5c',
      '%09',
      '\t',
      '\n',
      '\r',
      ' ',
      ':',
      '@',
      '?',
      '#',
      'evil.example',
      'http:',
      'a',
      '%',
      '\u3000',
      '\uff0f',
      '\u2215',
    )
    const target = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''))
    fc.assert(
      fc.property(
        fc.oneof(
          target,
          target.map((t) => `/${t}`),
          fc.string(),
        ),
        (next) => {
          const result = safeNextPath(next, '/home')
          return isSameOriginPath(result)
        },
      ),
      { numRuns: 20_000 },
    )
  })
})

function isSameOriginPath(path: string): boolean {
  return path.startsWith('/') && !path.startsWith('//') && !path.startsWith('/\\') && new URL(path, ORIGIN).origin === ORIGIN
}
