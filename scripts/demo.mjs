// `npm run demo` (or `pnpm demo`): installs the workspace and starts the demo on the embedded
// SQLite default (./gatehouse.db). Node built-ins only: this runs before anything is installed.
import { join } from 'node:path'
import { ROOT, installDependencies, run } from './lib.mjs'

installDependencies()
run(join(ROOT, 'node_modules/.bin/tsx'), ['--conditions=gatehouse-source', 'examples/demo/src/server.ts'])
