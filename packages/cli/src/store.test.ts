import { describe, expect, it } from 'vitest'
import { maskURI } from '@gatehouse/store-sql/uri'
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

describe('maskURI', () => {
  it('hides a password in a URI', () => {
    expect(maskURI('postgres://gatehouse:s3cret@db.internal:5432/gatehouse')).toBe('postgres://gatehouse:***@db.internal:5432/gatehouse')
    expect(maskURI('postgres://gatehouse@127.0.0.1/x')).toBe('postgres://gatehouse@127.0.0.1/x')
    expect(maskURI('./gatehouse.db')).toBe('./gatehouse.db')
    expect(maskURI('postgres://app:s3cr@t-Pa55@127.0.0.1:1/auth')).toBe('postgres://app:***@127.0.0.1:1/auth')
    expect(maskURI('postgres://db.internal/x?user=u&password=s3cret&sslmode=require')).toBe('postgres://db.internal/x?user=u&password=***&sslmode=require')
  })
})
