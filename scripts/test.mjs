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

// The packages are built first, always: the end-to-end tests run the compiled CLI and demo, as
// users do. Static checks count as tests: the type tests (a misspelled role must not compile) live
// in the type check of the tests, and the linter keeps the code base formatted. A filtered run
// (`npm test -- <filter>`) builds, then runs only vitest.
const checks = [
  ['build and type check of the packages', join(ROOT, 'node_modules/.bin/tsc'), ['-b']],
  ...(process.argv.length > 2
    ? []
    : [
        ['type check of the tests and examples', join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.tests.json']],
        ['formatting and lint (Biome)', join(ROOT, 'node_modules/.bin/biome'), ['check', '.']],
      ]),
]
let checksFailed = 0
for (const [name, command, args] of checks) {
  const checkStatus = run(command, args, { allowFailure: true })
  if (checkStatus !== 0) {
    checksFailed++
    console.error(`FAILED: ${name} (${command} ${args.join(' ')})`)
  }
}

const status = run(join(ROOT, 'node_modules/.bin/vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)], { allowFailure: true })

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
passed += checks.length - checksFailed
failed += checksFailed
console.log(`${passed} passed, ${failed} failed`)
process.exit(status === 0 && failed === 0 ? 0 : 1)
