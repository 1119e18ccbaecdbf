import type { StoredUser } from '@gatehouse/core'
import { describe, expect, it } from 'vitest'
import { JSONArrayWriter, TableWriter, USER_COLUMNS, describeUser, formatDate, userRow, userView } from './format.js'

const user = (overrides: Partial<StoredUser> = {}): StoredUser => ({
  id: '7',
  username: 'alice',
  displayName: 'Alice',
  email: 'alice@example.org',
  roles: ['Administrator', 'User'],
  disabled: false,
  sessionVersion: 3,
  passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
  createdAt: new Date('2025-11-26T06:23:45.123Z'),
  updatedAt: new Date('2025-11-27T00:00:00Z'),
  lastLoginAt: null,
  ...overrides,
})

/** A stream that accepts a limited number of writes before asking the writer to wait. */
function slowStream(): { write(chunk: string): boolean; once(event: 'drain', fn: () => void): void; text: () => string; waits: number } {
  let text = ''
  const stream = {
    waits: 0,
    write(chunk: string) {
      text += chunk
      return false
    },
    once(_event: 'drain', fn: () => void) {
      stream.waits++
      setImmediate(fn)
    },
    text: () => text,
  }
  return stream
}

describe('userView', () => {
  it('never carries the password hash or the session version', () => {
    const view = userView(user())
    const json = JSON.stringify(view)
    expect(json).not.toContain('argon2')
    expect(view).not.toHaveProperty('passwordHash')
    expect(view).not.toHaveProperty('sessionVersion')
    expect(view).toEqual({
      id: '7',
      username: 'alice',
      displayName: 'Alice',
      email: 'alice@example.org',
      roles: ['Administrator', 'User'],
      disabled: false,
      createdAt: '2025-11-26T06:23:45.123Z',
      updatedAt: '2025-11-27T00:00:00.000Z',
      lastLoginAt: null,
    })
  })

  it('lists permissions, sorted, only when they are known', () => {
    expect(userView(user(), ['edit', 'delete']).permissions).toEqual(['delete', 'edit'])
  })
})

describe('table rows', () => {
  it('escapes control characters in names and roles', () => {
    const row = userRow(user({ username: 'evil\u001b[2J', roles: ['A\nB'], disabled: true, lastLoginAt: new Date('2025-01-02T03:04:05Z') }))
    expect(row).toEqual(['evil\\u001b[2J', 'A\\u000aB', 'yes', '2025-11-26 06:23:45', '2025-01-02 03:04:05'])
    expect(formatDate(null)).toBe('never')
  })

  it('describes one user on aligned lines, escaped', () => {
    const text = describeUser(userView(user({ displayName: 'Eve\r\u001b[1m' }), ['view']))
    expect(text).toContain('display name: Eve\\u000d\\u001b[1m\n')
    expect(text).toContain('permissions:  view\n')
    expect(text).toContain('last login:   never\n')
    expect(text).not.toContain('\u001b')
  })
})

describe('TableWriter', () => {
  it('aligns columns on the header and the first rows', async () => {
    const out = slowStream()
    const table = new TableWriter(out, USER_COLUMNS)
    await table.row(userRow(user()))
    await table.row(userRow(user({ username: 'bob', roles: [] })))
    await table.end()
    expect(out.text().split('\n')).toEqual([
      'USERNAME  ROLES               DISABLED  CREATED (UTC)        LAST LOGIN (UTC)',
      'alice     Administrator,User  no        2025-11-26 06:23:45  never',
      'bob       -                   no        2025-11-26 06:23:45  never',
      '',
    ])
  })

  it('streams past the sample without buffering everything, waiting for the stream to drain', async () => {
    const out = slowStream()
    const table = new TableWriter(out, ['N'], { sample: 10 })
    for (let i = 0; i < 20_000; i++) await table.row([String(i)])
    await table.end()
    const lines = out.text().trimEnd().split('\n')
    expect(lines).toHaveLength(20_001)
    expect(lines[20_000]).toBe('19999')
    // Many chunks, each waited for: the writer never holds the whole listing.
    expect(out.waits).toBeGreaterThan(1)
  })

  it('writes nothing for an empty table', async () => {
    const out = slowStream()
    const table = new TableWriter(out, USER_COLUMNS)
    await table.end()
    expect(out.text()).toBe('')
    expect(table.rows).toBe(0)
  })
})

describe('JSONArrayWriter', () => {
  it('writes one parseable array, item by item', async () => {
    const out = slowStream()
    const writer = new JSONArrayWriter(out)
    for (let i = 0; i < 5000; i++) await writer.item({ i, name: `u\u001b${i}` })
    await writer.end()
    const parsed = JSON.parse(out.text()) as Array<{ i: number; name: string }>
    expect(parsed).toHaveLength(5000)
    expect(parsed[4999]).toEqual({ i: 4999, name: 'u\u001b4999' })
    expect(out.text()).not.toContain('\u001b')
  })

  it('writes [] for no items', async () => {
    const out = slowStream()
    const writer = new JSONArrayWriter(out)
    await writer.end()
    expect(JSON.parse(out.text())).toEqual([])
  })
})
