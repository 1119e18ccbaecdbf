// `npm run bench`: installs the workspace (and PostgreSQL, as `npm test` does), builds every
// package (`pnpm build`: the servers run the compiled packages, as production does), then runs the
// benchmark alone: packages/bench/dist/cli.js prints a Markdown table and writes
// .bench-results/bench.json. Extra arguments go to it (`npm run bench -- --sections throughput`).
// Node built-ins only: this runs before anything is installed.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT, installDependencies, installSystemPackages, pnpm, run } from './lib.mjs'

installSystemPackages({ only: ['postgresql'] })
installDependencies()
if (pnpm(['run', 'build'], { allowFailure: true }) !== 0) {
  // Another package's type errors must not hide the figures of the ones that compiled.
  if (!existsSync(join(ROOT, 'packages/bench/dist/cli.js'))) process.exit(1)
  console.error('The build reported errors (above); benchmarking what was built.')
}
process.exit(run(process.execPath, [join(ROOT, 'packages/bench/dist/cli.js'), ...process.argv.slice(2)], { allowFailure: true }))
