// list-users streams: 100 000 users list under a heap limit that holding them all would break.
import { spawn } from 'node:child_process'
import { SQLDatabase } from '@gatehouse/store-sql'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ROOT, removeTempDirectories, tempDatabase } from './helpers.js'
import { BIN_ARGS, CLI_COMMAND, cleanEnv, spawnCLI } from './spawn-cli.js'

const USERS = 100_000
// Enough for the CLI (it lists 100 000 users in about 24 MB of heap), too little to hold the
// listing: collecting the same users in an array and serializing them dies at this limit.
const HEAP_LIMIT = '--max-old-space-size=48'

let db: string

beforeAll(async () => {
  db = tempDatabase()
  const database = await SQLDatabase.open({ uri: db })
  try {
    await database.migrate()
    // Written directly, in one transaction: hashing 100 000 passwords would take an hour.
    await database.kysely.transaction().execute(async (trx) => {
      for (let start = 0; start < USERS; start += 1000) {
        const rows = Array.from({ length: Math.min(1000, USERS - start) }, (_, j) => {
          const i = start + j
          return {
            id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
            username_normalized: `user${String(i).padStart(6, '0')}`,
            display_name: `User Number ${i}`,
            email: `user${i}@example.org`,
            password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
            disabled: i % 7 === 0 ? 1 : 0,
            session_version: 1,
            created_at: 1_700_000_000_000 + i * 1000,
            updated_at: 1_700_000_000_000 + i * 1000,
            last_login_at: i % 3 === 0 ? 1_750_000_000_000 + i : null,
          }
        })
        await trx.insertInto('gatehouse_users').values(rows).execute()
        await trx
          .insertInto('gatehouse_user_roles')
          .values(rows.map((row) => ({ user_id: row.id, role: 'User' })))
          .execute()
      }
    })
  } finally {
    await database.close()
  }
}, 120_000)
afterAll(removeTempDirectories)

describe('list-users with 100 000 users', () => {
  it('streams the table and the JSON document under a 48 MB heap', async () => {
    const env = { NODE_OPTIONS: HEAP_LIMIT }
    const [json, table] = await Promise.all([spawnCLI(['list-users', '--json', '--db', db], { env, timeoutMs: 60_000 }), spawnCLI(['list-users', '--db', db], { env, timeoutMs: 60_000 })])

    expect(json.code).toBe(0)
    expect(json.stderr).toBe('')
    const users = JSON.parse(json.stdout) as Array<{ username: string; roles: string[]; disabled: boolean }>
    expect(users).toHaveLength(USERS)
    expect(users[0]).toMatchObject({ username: 'user000000', roles: ['User'], disabled: true })
    expect(users.at(-1)!.username).toBe('user099999')
    expect(json.stdout).not.toContain('argon2')

    expect(table.code).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines).toHaveLength(USERS + 1)
    expect(lines[1]).toMatch(/^user000000 +User +yes +2023-11-14 22:13:20 +2025-06-15 15:06:40$/)
    expect(lines.at(-1)).toMatch(/^user099999 +User +no +\S+ \S+ +2025-06-15 15:08:19$/)
  }, 120_000)
})

describe('list-users into a reader that stops early (`| head`)', () => {
  it('stops quietly with exit 0, no EPIPE stack trace', async () => {
    const result = await new Promise<{ code: number | null; stderr: string; firstChunk: string }>((resolve, reject) => {
      const child = spawn(CLI_COMMAND, [...BIN_ARGS, 'list-users', '--db', db], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      let firstChunk = ''
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
      child.stdout.setEncoding('utf8').once('data', (chunk: string) => {
        firstChunk = chunk
        child.stdout.destroy()
      })
      child.once('error', reject)
      child.once('close', (code) => resolve({ code, stderr, firstChunk }))
    })
    expect(result.firstChunk).toMatch(/^USERNAME /)
    expect(result).toMatchObject({ code: 0, stderr: '' })
  }, 60_000)
})
