import type { TestProject } from 'vitest/node'

/**
 * Starts the real servers the integration tests talk to (on loopback, in temporary directories)
 * once per test run, and hands their addresses to the tests through `inject(...)`.
 * Each server module exports `start()` → `{ provide, stop }`.
 */
const servers: Array<() => Promise<{ provide: Record<string, unknown>; stop(): Promise<void> }>> = [
  async () => {
    const { startPostgres } = await import('./servers/postgres.js')
    const pg = await startPostgres()
    return { provide: { postgresUrl: pg.url }, stop: pg.stop }
  },
  () => import('./servers/slapd.js').then((slapd) => slapd.start()),
]

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await Promise.all(servers.map((start) => start()))
  for (const server of started) {
    for (const [key, value] of Object.entries(server.provide)) project.provide(key as never, value as never)
  }
  return async () => {
    await Promise.allSettled(started.map((server) => server.stop()))
  }
}
