// `npm run bench` (after building): node packages/bench/dist/cli.js [options]
//   --seconds N      measured seconds per run (default 3)
//   --warmup N       warm-up seconds thrown away before each run (default 1)
//   --rounds N       A/B pairs per scenario (default 3)
//   --sections a,b   throughput, logins, storms, revocation, demo (default all)
//   --rows a,b       throughput and storm rows by id (default all), e.g. casbin,warm,bare or health-logins
//   --out FILE       the JSON report (default .bench-results/bench.json)
//   --no-postgres    skip the revocation section instead of starting PostgreSQL
// Prints progress on stderr, the Markdown table on stdout.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Section } from './bench.js'
import { SECTIONS, runBench } from './bench.js'
import { formatReport } from './report.js'

const ROOT = resolve(import.meta.dirname, '../../..')

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      sections: { type: 'string' },
      rows: { type: 'string' },
      out: { type: 'string' },
      'no-postgres': { type: 'boolean' },
    },
  })
  const number = (value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback
    const n = Number(value)
    if (!Number.isFinite(n) || n <= 0) throw new TypeError(`not a positive number: ${value}`)
    return n
  }
  const sections = values.sections?.split(',').map((s) => s.trim()) ?? [...SECTIONS]
  for (const s of sections) if (!SECTIONS.includes(s as Section)) throw new TypeError(`unknown section ${s} (known: ${SECTIONS.join(', ')})`)
  const out = resolve(values.out ?? join(ROOT, '.bench-results/bench.json'))
  const demoScript = join(ROOT, 'examples/demo/dist/server.js')

  let postgres: { url: string; createDatabase(): Promise<string>; stop(): Promise<void> } | undefined
  if (sections.includes('revocation') && values['no-postgres'] !== true) {
    // The same private server the tests start (testkit, compiled): loopback only, removed at exit.
    const { startPostgres } = await import('@gatehouse/testkit')
    process.stderr.write('starting PostgreSQL on loopback ...\n')
    postgres = await startPostgres()
  }
  try {
    const report = await runBench({
      seconds: number(values.seconds, 3),
      warmupSeconds: number(values.warmup, 1),
      rounds: number(values.rounds, 3),
      sections: sections as Section[],
      ...(values.rows === undefined ? {} : { rows: values.rows.split(',').map((r) => r.trim()) }),
      ...(postgres === undefined ? {} : { postgresURL: await postgres.createDatabase() }),
      ...(existsSync(demoScript) ? { demoScript } : {}),
      log: (line) => process.stderr.write(`${line}\n`),
    })
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`)
    process.stdout.write(`${formatReport(report)}\n`)
    process.stderr.write(`wrote ${out}\n`)
  } finally {
    await postgres?.stop()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
