// The real binary against a real PostgreSQL (started on loopback by the testkit's global setup),
// and against a PostgreSQL that is down.
import { createPostgresDatabase } from '@gatehouse/testkit'
import { describe, expect, inject, it } from 'vitest'
import { binaryScenario } from './binary-scenario.js'
import { errorLines, spawnCLI } from './spawn-cli.js'

describe('auth-user-admin on PostgreSQL', () => {
  binaryScenario(() => createPostgresDatabase(inject('postgresUrl')), { full: false })
})

describe('auth-user-admin with the database down', () => {
  // Port 1 on loopback: nothing listens, the connection is refused at once.
  const DOWN = 'postgres://postgres:s3cret-pw@127.0.0.1:1/gatehouse'

  it('fails every command with exit 1 and one line naming the database, password masked; a stack trace only with --verbose', async () => {
    const [verbose, ...results] = await Promise.all([
      spawnCLI(['show', 'alice', '--db', DOWN, '--verbose']),
      spawnCLI(['list-users', '--db', DOWN]),
      spawnCLI(['add', 'alice', '--password-stdin', '--db', DOWN], { input: 'violet cormorant at dawn\n' }),
      spawnCLI(['delete', 'alice'], { env: { AUTH_DB_URI: DOWN } }),
      spawnCLI(['check', '--db', DOWN, '--json']),
    ])
    for (const result of results) {
      expect(result.code).toBe(1)
      expect(errorLines(result.stderr)).toEqual(['error: cannot reach the database postgres://postgres:***@127.0.0.1:1/gatehouse: connect ECONNREFUSED 127.0.0.1:1'])
      expect(result.stderr + result.stdout).not.toContain('s3cret-pw')
      expect(result.stderr).not.toContain('    at ')
    }
    // check --json still prints its report, for monitoring.
    expect(JSON.parse(results[3]!.stdout)).toEqual({
      database: 'postgres://postgres:***@127.0.0.1:1/gatehouse',
      dialect: null,
      reachable: false,
      schema: null,
      users: null,
      error: 'cannot reach the database postgres://postgres:***@127.0.0.1:1/gatehouse: connect ECONNREFUSED 127.0.0.1:1',
    })
    expect(results[0]!.stdout).toBe('')
    expect(verbose.code).toBe(1)
    expect(verbose.stderr).toMatch(/^error: cannot reach the database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/gatehouse: connect ECONNREFUSED 127\.0\.0\.1:1\n/)
    expect(verbose.stderr).toContain('    at ')
    expect(verbose.stderr).toContain('Caused by: ')
    expect(verbose.stderr).not.toContain('s3cret-pw')
  })

  it('refuses a URI it cannot use with exit 2', async () => {
    const result = await spawnCLI(['list-users', '--db', 'mysql://root:pw@127.0.0.1/x'])
    expect(result).toMatchObject({ code: 2, stdout: '' })
    expect(errorLines(result.stderr)).toEqual(['error: unsupported database URI "mysql://root:***@127.0.0.1/x": use postgres://…, postgresql://…, sqlite:<path> or a file path'])
  })
})
