// `npm run demo`: installs the workspace, compiles the demo and the packages it uses when their
// build is missing or older than their sources (`tsc -b`, which type-checks), bundles the demo
// into one file when a source changed (examples/demo/build.mjs: about half the cold start), and
// starts it with plain node (no TypeScript loader at run time) on the embedded SQLite default
// (./gatehouse.db).
// Node built-ins only: this runs before anything is installed.
import { join } from 'node:path'
import { ROOT, buildIfStale, installDependencies, run } from './lib.mjs'

installDependencies()
buildIfStale('examples/demo')
run(process.execPath, [join(ROOT, 'examples/demo/build.mjs'), '--if-stale'])
// One malloc arena: argon2 allocates its 19 MiB per hash on libuv's worker threads, and with glibc's
// default of an arena per thread each of the four keeps one after its first login (peak RSS under
// load 173 MiB instead of 147 MiB, with no measured cost to logins/s). An operator's value wins.
run(process.execPath, [join(ROOT, 'examples/demo/dist/server.js')], { env: { MALLOC_ARENA_MAX: '1', ...process.env } })
