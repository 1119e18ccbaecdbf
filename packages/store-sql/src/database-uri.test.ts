import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEFAULT_DB_URI, libsqlFileURL, maskURI, parseDatabaseURI } from './database-uri.js'

describe('parseDatabaseURI', () => {
  it('defaults to ./gatehouse.db resolved against the working directory', () => {
    expect(DEFAULT_DB_URI).toBe('./gatehouse.db')
    expect(parseDatabaseURI()).toEqual({ dialect: 'sqlite', path: resolve('gatehouse.db'), displayURI: './gatehouse.db' })
  })

  it('reads postgres:// and postgresql:// as PostgreSQL, keeping the password for the driver only', () => {
    for (const uri of ['postgres://app:s3cret@db.internal:5432/auth', 'postgresql://app:s3cret@db.internal/auth?sslmode=require']) {
      const target = parseDatabaseURI(uri)
      expect(target.dialect).toBe('postgres')
      expect(target.displayURI).not.toContain('s3cret')
      expect(target.displayURI).toContain('app:***@db.internal')
      if (target.dialect === 'postgres') expect(target.connectionString).toBe(uri)
    }
  })

  it('reads sqlite:, file: and bare paths as SQLite files', () => {
    expect(parseDatabaseURI('sqlite:/var/lib/auth.db')).toMatchObject({ dialect: 'sqlite', path: '/var/lib/auth.db' })
    expect(parseDatabaseURI('sqlite:///var/lib/auth.db')).toMatchObject({ dialect: 'sqlite', path: '/var/lib/auth.db' })
    expect(parseDatabaseURI('sqlite:data/auth.db')).toMatchObject({ dialect: 'sqlite', path: resolve('data/auth.db') })
    expect(parseDatabaseURI('file:/tmp/a%20b.db')).toMatchObject({ dialect: 'sqlite', path: '/tmp/a b.db' })
    expect(parseDatabaseURI('/srv/auth.db')).toMatchObject({ dialect: 'sqlite', path: '/srv/auth.db' })
    expect(parseDatabaseURI('auth.db')).toMatchObject({ dialect: 'sqlite', path: resolve('auth.db') })
  })

  it('refuses unsupported schemes with a TypeError naming the URI without its password', () => {
    for (const uri of ['mysql://root:hunter2@localhost/auth', 'libsql://db.example:8080?authToken=x', 'http://user:hunter2@example.org/']) {
      let error: unknown
      try {
        parseDatabaseURI(uri)
      } catch (e) {
        error = e
      }
      expect(error).toBeInstanceOf(TypeError)
      expect((error as Error).message).toContain('unsupported database URI')
      expect((error as Error).message).not.toContain('hunter2')
    }
  })

  it('answers bad percent-encoding in a SQLite path with a TypeError (a usage error)', () => {
    expect(() => parseDatabaseURI('sqlite:%zz.db')).toThrow(TypeError)
    expect(() => parseDatabaseURI('sqlite:%zz.db')).toThrow(/percent-encoding/)
  })

  it('refuses in-memory SQLite (each connection would see its own database) and empty URIs', () => {
    expect(() => parseDatabaseURI('sqlite::memory:')).toThrow(/in-memory/)
    expect(() => parseDatabaseURI(':memory:')).toThrow(/in-memory/)
    expect(() => parseDatabaseURI('  ')).toThrow(TypeError)
    expect(() => parseDatabaseURI('postgres://')).toThrow(TypeError)
  })
})

describe('maskURI', () => {
  it('masks passwords in user info and in query parameters', () => {
    expect(maskURI('postgres://app:p%40ss@db/auth')).toBe('postgres://app:***@db/auth')
    expect(maskURI('postgres://db/auth?user=app&password=secret&sslmode=require')).toBe('postgres://db/auth?user=app&password=***&sslmode=require')
    expect(maskURI('postgres://app@db/auth')).toBe('postgres://app@db/auth')
    // An unencoded "@" inside the password (the URL parser and pg accept it).
    expect(maskURI('postgres://app:s3cr@t-Pa55@db/auth')).toBe('postgres://app:***@db/auth')
    expect(maskURI('sqlite:./gatehouse.db')).toBe('sqlite:./gatehouse.db')
  })
})

describe('libsqlFileURL', () => {
  it('percent-encodes path segments', () => {
    expect(libsqlFileURL('/tmp/a b%#?.db')).toBe('file:/tmp/a%20b%25%23%3F.db')
  })
})
