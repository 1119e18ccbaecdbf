// The conformance suite itself must be able to fail: a fixture whose declarations disagree with
// its store fails the case that checks them, and one broken verb fails one case only, since every
// case gets a fresh store. Runs suite-checks/misdeclared.check.ts in a vitest of its own.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

interface Report {
  readonly testResults: ReadonlyArray<{ readonly assertionResults: ReadonlyArray<{ readonly ancestorTitles: readonly string[]; readonly title: string; readonly status: string }> }>
}

describe('describeUserStore', () => {
  it('fails fixtures whose declarations disagree with the store, and one broken verb in one case only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-suite-'))
    try {
      const output = join(dir, 'report.json')
      const code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(`${ROOT}node_modules/.bin/vitest`, ['run', '--config', 'packages/store-sql/test/suite-checks/vitest.config.ts', '--reporter=json', `--outputFile=${output}`], {
          cwd: ROOT,
          stdio: 'ignore',
        })
        child.on('error', reject)
        child.on('close', resolve)
      })
      expect(code).toBe(1)
      const report = JSON.parse(readFileSync(output, 'utf8')) as Report
      const failed = report.testResults.flatMap((file) => file.assertionResults.filter((test) => test.status === 'failed').map((test) => `${test.ancestorTitles.join(' > ')} > ${test.title}`))
      expect(failed.sort()).toEqual([
        'UserStore conformance: declared changes without subscribe > has subscribe exactly when the fixture declares reportsChanges',
        'UserStore conformance: declared changes without subscribe > reports changes that end sessions to subscribers',
        'UserStore conformance: one broken verb > records the last login',
        'UserStore conformance: undeclared changes > has subscribe exactly when the fixture declares reportsChanges',
      ])
      const passed = report.testResults.flatMap((file) => file.assertionResults.filter((test) => test.status === 'passed'))
      expect(passed.length).toBeGreaterThan(30)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
