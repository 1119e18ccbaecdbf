// Bundles the demo into dist/server.js (plain JavaScript for plain `node`, no TypeScript loader at
// run time): `node examples/demo/build.mjs` (`--if-stale`: only when a source it was built from
// changed; `--outdir DIR`: elsewhere than dist/, for the tests). It bundles the TypeScript sources
// and needs no tsc output: the root `pnpm build` runs it before `tsc -b` (which type-checks), so a
// type error elsewhere never leaves a stale bundle behind; `npm run demo` runs it after.
//
// Why a bundle: the demo is built from about 700 modules (kysely alone 263, zod 95), and Node
// resolves, reads and compiles each one at start; as one minified file plus lazily loaded chunks
// it starts in half the time (the benchmark's cold start to the first answer: 0.77 s -> 0.36 s).
//
// What stays outside the bundle, loaded from node_modules at run time (so the demo's package.json
// lists them): the native modules (argon2, libsql find their binaries next to their own files),
// pino and pino-pretty (pino runs a transport in a worker thread by file name), swagger-ui-dist
// (its files are served as they are).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const DEMO = dirname(fileURLToPath(import.meta.url))
const ROOT = resolve(DEMO, '../..')
/** Kept out of the bundle; see the comment at the top. */
export const EXTERNAL = ['argon2', 'libsql', 'pino', 'pino-pretty', 'swagger-ui-dist']
const BLOCKLIST = 'common-passwords.txt'
const BLOCKLIST_SOURCE = join(ROOT, 'packages/store-sql/data', BLOCKLIST)

/**
 * store-sql reads its password blocklist next to its own module (`../data/` from `src/`). In the
 * bundle that module lives in the output directory, so the file is copied to `<outdir>/data/` and
 * the URL rewritten to match. A different URL in the source fails the build instead of a login.
 */
const blocklistPlugin = {
  name: 'gatehouse-blocklist',
  setup(build) {
    build.onLoad({ filter: /[\\/]store-sql[\\/]src[\\/]common-passwords\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8')
      const original = `new URL('../data/${BLOCKLIST}', import.meta.url)`
      if (!source.includes(original)) return { errors: [{ text: `${args.path} no longer reads ${original}: update examples/demo/build.mjs` }] }
      return { contents: source.replace(original, `new URL('./data/${BLOCKLIST}', import.meta.url)`), loader: 'ts' }
    })
  },
}

/**
 * Bundles src/server.ts into `outdir` (default dist/): `server.js`, chunks that load only when
 * used (`ldap-*.js`, `oidc-*.js`, PostgreSQL's `esm-*.js`), `data/`, and `meta.json` (esbuild's
 * metafile: which sources went where). Returns the metafile.
 */
export async function bundleDemo({ outdir = join(DEMO, 'dist'), minify = true } = {}) {
  // esbuild is a dev dependency of the demo: resolved from here, not from the caller.
  const esbuild = createRequire(join(DEMO, 'package.json'))('esbuild')
  removePreviousBundle(outdir)
  const result = await esbuild.build({
    absWorkingDir: DEMO,
    entryPoints: { server: join(DEMO, 'src/server.ts') },
    outdir,
    bundle: true,
    // Dynamic imports (LDAP, OIDC, PostgreSQL, the SQLite driver) become chunks loaded on demand.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The workspace packages from their TypeScript sources, as tsc type-checked them.
    conditions: ['gatehouse-source'],
    external: EXTERNAL,
    // Less to read and compile at every start; names kept for error classes and stack traces.
    minify,
    keepNames: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    // Bundled CommonJS modules (prom-client, casbin, ...) call require() for Node's built-ins.
    banner: { js: "import { createRequire as __gatehouseRequire } from 'node:module'; const require = __gatehouseRequire(import.meta.url);" },
    plugins: [blocklistPlugin],
  })
  mkdirSync(join(outdir, 'data'), { recursive: true })
  copyFileSync(BLOCKLIST_SOURCE, join(outdir, 'data', BLOCKLIST))
  writeFileSync(join(outdir, 'meta.json'), JSON.stringify(result.metafile))
  return result.metafile
}

/** Deletes what the last bundle wrote to `outdir` (chunk names change with their contents). */
function removePreviousBundle(outdir) {
  const meta = join(outdir, 'meta.json')
  if (!existsSync(meta)) return
  for (const file of Object.keys(JSON.parse(readFileSync(meta, 'utf8')).outputs)) rmSync(resolve(DEMO, file), { force: true })
  rmSync(meta)
}

/** True when dist/server.js is missing or older than a source (or the lockfile) it was built from. */
export function bundleIsStale(outdir = join(DEMO, 'dist')) {
  const meta = join(outdir, 'meta.json')
  const server = join(outdir, 'server.js')
  if (!existsSync(meta) || !existsSync(server)) return true
  const built = statSync(server).mtimeMs
  const inputs = Object.keys(JSON.parse(readFileSync(meta, 'utf8')).inputs).map((file) => resolve(DEMO, file))
  return [...inputs, join(ROOT, 'pnpm-lock.yaml'), BLOCKLIST_SOURCE, fileURLToPath(import.meta.url)].some((file) => !existsSync(file) || statSync(file).mtimeMs > built)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { 'if-stale': { type: 'boolean' }, outdir: { type: 'string' } } })
  const outdir = resolve(values.outdir ?? join(DEMO, 'dist'))
  if (values['if-stale'] && !bundleIsStale(outdir)) process.exit(0)
  const started = performance.now()
  const meta = await bundleDemo({ outdir })
  const outputs = Object.entries(meta.outputs).filter(([file]) => file.endsWith('.js'))
  const size = outputs.reduce((sum, [, output]) => sum + output.bytes, 0)
  console.error(
    `Bundled the demo into ${relative(process.cwd(), join(outdir, 'server.js'))} (${outputs.length} files, ${(size / 1024).toFixed(0)} KiB) in ${Math.round(performance.now() - started)} ms`,
  )
}
