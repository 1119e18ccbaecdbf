// Fixtures that are wrong on purpose: the conformance suite must fail them (see
// ../conformance-suite.test.ts, which runs this file in a vitest of its own).
import type { UserStore } from '@gatehouse/core'
import { describeUserStore } from '@gatehouse/testkit'
import type { SQLUserStore } from '../../src/index.js'
import { afterAll } from 'vitest'
import { openTestStore, removeTempDirectories, tempSQLiteURI } from '../fixtures.js'

afterAll(removeTempDirectories)

const VERBS = ['getUserById', 'getUserByUsername', 'createUser', 'setPassword', 'replacePasswordHash', 'setRoles', 'setDisabled', 'endSessions', 'deleteUser', 'recordLogin', 'listUsers'] as const

/** A plain object that forwards the store's verbs (and `subscribe` when asked to) to a real SQL store. */
function forward(store: SQLUserStore, withSubscribe: boolean): UserStore {
  const verbs = Object.fromEntries(VERBS.map((name) => [name, store[name].bind(store)])) as unknown as UserStore
  return withSubscribe ? { ...verbs, subscribe: store.subscribe.bind(store) } : verbs
}

// Reports changes but does not declare it.
describeUserStore('undeclared changes', async () => {
  const sql = await openTestStore(tempSQLiteURI())
  return { store: sql.store, close: () => sql.close() }
})

// Declares changes it cannot report.
describeUserStore('declared changes without subscribe', async () => {
  const sql = await openTestStore(tempSQLiteURI())
  return { store: forward(sql.store, false), reportsChanges: true, close: () => sql.close() }
})

// Correctly declared, but its recordLogin does nothing: one case fails, and only that one.
describeUserStore('one broken verb', async () => {
  const sql = await openTestStore(tempSQLiteURI())
  return { store: { ...forward(sql.store, true), recordLogin: async () => {} }, reportsChanges: true, close: () => sql.close() }
})
