// `npm test`: installs what the tests need, runs every test, prints "N passed, N failed".
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, installDependencies, installSystemPackages, run } from './lib.mjs'

installSystemPackages()
installDependencies()

const resultsDir = join(ROOT, '.test-results')
const resultsFile = join(resultsDir, 'vitest.json')
mkdirSync(resultsDir, { recursive: true })
rmSync(resultsFile, { force: true })

const status = run(
  join(ROOT, 'node_modules/.bin/vitest'),
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)],
  { allowFailure: true },
)

let passed = 0
let failed = 0
try {
  const report = JSON.parse(readFileSync(resultsFile, 'utf8'))
  passed = report.numPassedTests
  failed = report.numFailedTests + (report.numFailedTestSuites > 0 && report.numFailedTests === 0 ? report.numFailedTestSuites : 0)
} catch {
  failed = 1 // no report: vitest itself failed
}
if (status !== 0 && failed === 0) failed = 1
console.log(`${passed} passed, ${failed} failed`)
process.exit(status === 0 && failed === 0 ? 0 : 1)
