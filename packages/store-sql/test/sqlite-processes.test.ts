import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { SQLDatabase } from '../src/index.js'
import { createSQLApp, failuresOf, openTestStore, removeTempDirectories, tempSQLiteURI, within } from './fixtures.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const CHILD = fileURLToPath(new URL('./sqlite-child.ts', import.meta.url))

afterAll(removeTempDirectories)

/** Starts the child script; `messages` yields its JSON lines. */
function child(...args: string[]) {
  const process: ChildProcessWithoutNullStreams = spawn(`${ROOT}node_modules/.bin/tsx`, ['--conditions=gatehouse-source', CHILD, ...args], { cwd: ROOT })
  let stderr = ''
  process.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const lines = createInterface({ input: process.stdout })[Symbol.asyncIterator]()
  const exited = new Promise<number>((resolve) => process.on('close', (code) => resolve(code ?? -1)))
  return {
    process,
    async next(): Promise<Record<string, unknown>> {
      const line = await lines.next()
      if (line.done) throw new Error(`child ended without answering (exit ${await exited}): ${stderr}`)
      return JSON.parse(line.value) as Record<string, unknown>
    },
    async exit(): Promise<number> {
      const code = await exited
      if (code !== 0) throw new Error(`child failed (${code}): ${stderr}`)
      return code
    },
  }
}

describe('several processes on one SQLite file', () => {
  it('writes from two processes at once without SQLITE_BUSY or lost counts', async () => {
    const uri = tempSQLiteURI()
    const sql = await openTestStore(uri, { throttle: { username: { freeFailures: 10_000 } } })
    const other = child(uri, 'write', 'child', '150')
    expect(await other.next()).toEqual({ ready: true })
    const hash = await sql.hasher.hash('shared parent passphrase')
    other.process.stdin.end('go\n')
    const errors: unknown[] = []
    await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        try {
          await sql.store.createUser({ username: `parent-${i}`, passwordHash: hash, roles: ['User'] })
          await sql.throttle.begin({ username: 'shared-target', address: undefined })
        } catch (error) {
          errors.push(error)
        }
      }),
    )
    expect(await other.next()).toEqual({ done: true, errors: [] })
    await other.exit()
    expect(errors).toEqual([])
    expect(await sql.accounts.count()).toBe(300)
    const database = await SQLDatabase.open({ uri })
    expect(await failuresOf(database, 'u:shared-target')).toBe(300)
    await database.close()
    await sql.close()
  }, 60_000)

  it('migrates one new file from two processes at once', async () => {
    const uri = tempSQLiteURI()
    const [first, second] = [child(uri, 'migrate'), child(uri, 'migrate')]
    for (const process of [first, second]) {
      expect(await process.next()).toEqual({ status: { current: true, applied: ['0001-initial', '0002-provider-sessions'], pending: [], unknown: [] } })
      await process.exit()
    }
  }, 60_000)

  it('ends a session in the running app within a second when a CLI process deletes the user', async () => {
    const uri = tempSQLiteURI()
    const sql = await openTestStore(uri)
    // A long cache TTL: only the data_version poll can explain a refusal within a second.
    const app = createSQLApp(sql, { session: { secret: 'a-test-secret-that-is-long-enough-0123456789', secure: false, cache: { ttlMs: 60_000 } } })
    await sql.accounts.add({ username: 'olivia', password: 'olivia passphrase' })
    const { cookie } = await app.login('olivia', 'olivia passphrase')
    expect((await app.get('/any', cookie)).status).toBe(200) // now cached
    const cli = child(uri, 'delete', 'olivia')
    const { deletedAt } = (await cli.next()) as { deletedAt: number }
    await within(1000, async () => (await app.get('/any', cookie)).status === 401)
    expect(Date.now() - deletedAt).toBeLessThan(1000)
    await cli.exit()
    await sql.close()
  }, 60_000)

  it('ends a session at once when another store instance in this process changes the password', async () => {
    const uri = tempSQLiteURI()
    const [appStore, cliStore] = await Promise.all([openTestStore(uri), openTestStore(uri)])
    const app = createSQLApp(appStore, { session: { secret: 'a-test-secret-that-is-long-enough-0123456789', secure: false, cache: { ttlMs: 60_000 } } })
    await appStore.accounts.add({ username: 'pat', password: 'pat passphrase' })
    const { cookie } = await app.login('pat', 'pat passphrase')
    expect((await app.get('/any', cookie)).status).toBe(200)
    await cliStore.accounts.setPassword({ username: 'pat', password: 'pat new passphrase' })
    const elapsed = await within(1000, async () => (await app.get('/any', cookie)).status === 401)
    expect(elapsed).toBeLessThan(1000)
    await Promise.all([appStore.close(), cliStore.close()])
  })
})
