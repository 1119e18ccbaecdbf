import { describe, expect, it } from 'vitest'
import { resolveDbURI } from './store.js'

describe('resolveDbURI', () => {
  it('resolves relative SQLite paths against the given directory', () => {
    expect(resolveDbURI('./gatehouse.db', '/home/me/app')).toBe('/home/me/app/gatehouse.db')
    expect(resolveDbURI('data/users.db', '/srv')).toBe('/srv/data/users.db')
    expect(resolveDbURI('sqlite:./x.db', '/srv')).toBe('sqlite:/srv/x.db')
    expect(resolveDbURI('file:x.db', '/srv')).toBe('file:/srv/x.db')
  })

  it('leaves absolute paths, :memory: and other schemes alone', () => {
    expect(resolveDbURI('/var/lib/gatehouse.db', '/srv')).toBe('/var/lib/gatehouse.db')
    expect(resolveDbURI('sqlite:/var/x.db', '/srv')).toBe('sqlite:/var/x.db')
    expect(resolveDbURI('sqlite::memory:', '/srv')).toBe('sqlite::memory:')
    expect(resolveDbURI('postgres://u:p@127.0.0.1:5432/db', '/srv')).toBe('postgres://u:p@127.0.0.1:5432/db')
  })
})
