import type { SQLStore } from '@gatehouse/store-sql'
import { openSQLStore } from '@gatehouse/store-sql'
import { createPostgresDatabase } from '@gatehouse/testkit'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest'
import type { PolicyDatabase, SQLPolicy, SQLPolicyOptions } from '../src/index.js'
import { casbinGuard, openSQLPolicy } from '../src/index.js'
import { RBAC_MODEL as MODEL, createApp } from './fixtures.js'

const SEED = `
p, User, /reports/:id, GET
g, Administrator, User
`

const directories: string[] = []
const opened: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  // Policies first (they listen on the store's database), then the stores.
  for (const item of opened.splice(0).reverse()) await item.close()
})
afterAll(() => {
  for (const dir of directories) rmSync(dir, { recursive: true, force: true })
})

async function store(uri: string): Promise<SQLStore> {
  const sql = await openSQLStore({ uri, hasher: { memoryCost: 1024, timeCost: 1, parallelism: 1, allowWeakParameters: true } })
  opened.push(sql)
  return sql
}

async function policy(sql: SQLStore, options: Partial<SQLPolicyOptions> = {}): Promise<SQLPolicy> {
  const result = await openSQLPolicy({ database: sql.database, model: MODEL, seed: SEED, ...options })
  opened.push(result)
  return result
}

/** An app instance with one guarded route, on its own store and enforcer. */
function instance(p: SQLPolicy) {
  const { app, request } = createApp()
  app.get('/reports/:id', casbinGuard(p.enforcer), (c) => c.text('report'))
  app.get('/audit', casbinGuard(p.enforcer), (c) => c.text('audit'))
  return request
}

async function within(timeoutMs: number, probe: () => Promise<boolean>): Promise<number> {
  const start = performance.now()
  for (;;) {
    if (await probe()) return performance.now() - start
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

it("the store's SQLDatabase is a PolicyDatabase (checked by the compiler)", () => {
  const fits = (sql: SQLStore): PolicyDatabase => sql.database
  expect(typeof fits).toBe('function')
})

for (const dialect of ['sqlite', 'postgres'] as const) {
  const newURI = async () => {
    if (dialect === 'postgres') return createPostgresDatabase(inject('postgresUrl'))
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-casbin-'))
    directories.push(dir)
    return `sqlite:${join(dir, 'gatehouse.db')}`
  }

  describe(`the SQL policy on ${dialect}`, () => {
    it("seeds an empty table once, enforces it, keeps it across restarts, and leaves the store's schema check content", async () => {
      const uri = await newURI()
      const sql = await store(uri)
      const first = await policy(sql)
      const request = instance(first)
      expect((await request('/reports/1', { sql: '1;User' })).status).toBe(200)
      expect((await request('/reports/1', { sql: '1;Administrator' })).status).toBe(200)
      expect((await request('/reports/1', { sql: '1;Viewer' })).status).toBe(403)
      await first.enforcer.addPolicy('ldap:bob', '/audit', 'GET')
      expect((await request('/audit', { ldap: 'bob' })).status).toBe(200)
      expect((await sql.schemaStatus()).current).toBe(true)
      await first.close()
      await sql.close()
      // A restart: the seed is not written again, and the rule added at run time is there.
      const again = await policy(await store(uri), { seed: 'p, nobody, /x, GET' })
      expect(await again.enforcer.getPolicy()).toEqual([
        ['User', '/reports/:id', 'GET'],
        ['ldap:bob', '/audit', 'GET'],
      ])
      expect(await again.enforcer.getGroupingPolicy()).toEqual([['Administrator', 'User']])
      const after = instance(again)
      expect((await after('/audit', { ldap: 'bob' })).status).toBe(200)
    })

    it('writes removePolicy, removeFilteredPolicy and savePolicy through to the table', async () => {
      const uri = await newURI()
      const sql = await store(uri)
      const p = await policy(sql)
      await p.enforcer.addPolicies([
        ['sql:1', '/a', 'GET'],
        ['sql:1', '/b', 'GET'],
        ['sql:2', '/a', 'GET'],
      ])
      await p.enforcer.removePolicy('sql:2', '/a', 'GET')
      await p.enforcer.removeFilteredPolicy(0, 'sql:1', '/b')
      const reread = await policy(await store(uri), { seed: undefined })
      expect(await reread.enforcer.getPolicy()).toEqual([
        ['User', '/reports/:id', 'GET'],
        ['sql:1', '/a', 'GET'],
      ])
      await p.enforcer.savePolicy()
      await reread.refresh()
      expect(await reread.enforcer.getPolicy()).toEqual([
        ['User', '/reports/:id', 'GET'],
        ['sql:1', '/a', 'GET'],
      ])
    })

    if (dialect === 'postgres') {
      it("a rule added in instance A is enforced by instance B within a second (LISTEN/NOTIFY; B's reload poll is a minute)", async () => {
        const uri = await newURI()
        const [a, b] = [await policy(await store(uri), { reloadIntervalMs: 60_000 }), await policy(await store(uri), { reloadIntervalMs: 60_000 })]
        const requestB = instance(b)
        expect((await requestB('/audit', { ldap: 'carol' })).status).toBe(403)
        const start = performance.now()
        await a.enforcer.addPolicy('ldap:carol', '/audit', 'GET')
        const elapsed = await within(1000, async () => (await requestB('/audit', { ldap: 'carol' })).status === 200)
        expect(elapsed).toBeLessThan(1000)
        // And removal, the same way; an SQL carol never had the rule.
        expect((await requestB('/audit', { sql: 'carol' })).status).toBe(403)
        await a.enforcer.removePolicy('ldap:carol', '/audit', 'GET')
        await within(1000, async () => (await requestB('/audit', { ldap: 'carol' })).status === 403)
        expect(performance.now() - start).toBeLessThan(2000)
        expect(b.revision).toBe(a.revision)
      })
    } else {
      it('a rule added in instance A is enforced by instance B on the same file within the reload interval', async () => {
        const uri = await newURI()
        const intervalMs = 200
        const [a, b] = [await policy(await store(uri), { reloadIntervalMs: intervalMs }), await policy(await store(uri), { reloadIntervalMs: intervalMs })]
        const requestB = instance(b)
        expect((await requestB('/audit', { ldap: 'carol' })).status).toBe(403)
        await a.enforcer.addPolicy('ldap:carol', '/audit', 'GET')
        // The bound is one interval plus a reload; allow for a loaded machine.
        const elapsed = await within(intervalMs * 5, async () => (await requestB('/audit', { ldap: 'carol' })).status === 200)
        expect(elapsed).toBeLessThan(intervalMs * 5)
        await a.enforcer.removePolicy('ldap:carol', '/audit', 'GET')
        await within(intervalMs * 5, async () => (await requestB('/audit', { ldap: 'carol' })).status === 403)
      })
    }

    it('keeps the loaded policy when the database goes away (a reload fails, nothing is emptied)', async () => {
      const sql = await store(await newURI())
      const p = await policy(sql, { reloadIntervalMs: 50 })
      const request = instance(p)
      await sql.close()
      await new Promise((resolve) => setTimeout(resolve, 150))
      expect((await request('/reports/1', { sql: '1;User' })).status).toBe(200)
    })

    it('refuses a bad reload interval or database with TypeError', async () => {
      const sql = await store(await newURI())
      await expect(openSQLPolicy({ database: sql.database, model: MODEL, reloadIntervalMs: 0 })).rejects.toThrow(TypeError)
      await expect(openSQLPolicy({ database: {} as never, model: MODEL })).rejects.toThrow(TypeError)
    })
  })
}
