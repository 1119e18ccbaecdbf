import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SQLStore } from '@gatehouse/store-sql'
import { openSQLStore } from '@gatehouse/store-sql'
import { runCLI } from '../src/program.js'
import type { StoreOpener } from '../src/store.js'
import type { MemoryIO } from './memory-io.js'
import { memoryIO } from './memory-io.js'

/** The repository root: the binary is spawned from there, as `pnpm auth-user-admin` runs it. */
export const ROOT = new URL('../../../', import.meta.url).pathname

/** The demo's roles module: Administrator, User, Viewer. */
export const DEMO_ROLES = join(ROOT, 'examples/demo/src/roles.ts')
export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname

/** argon2id at a cost that keeps in-process tests fast (the spawned binary uses the defaults). */
export const LIGHT_HASHER = Object.freeze({ memoryCost: 1024, timeCost: 1, parallelism: 1, allowWeakParameters: true })

const directories: string[] = []

/** A fresh directory, removed by {@link removeTempDirectories}. */
export function tempDirectory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'))
  directories.push(dir)
  return dir
}

/** The path of a new SQLite file in a fresh directory. */
export const tempDatabase = (name = 'gatehouse.db'): string => join(tempDirectory(), name)

export function removeTempDirectories(): void {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** The real SQL store with the light hasher. */
export const lightOpener: StoreOpener = ({ uri, migrate, logger, passwordPolicy }) => openSQLStore({ uri, migrate, logger, hasher: LIGHT_HASHER, ...(passwordPolicy ? { passwordPolicy } : {}) })

export interface CLIRun {
  readonly code: number
  readonly out: string
  readonly err: string
  readonly io: MemoryIO
}

/** Runs the CLI in process against the real store. */
export async function cli(argv: string[], options?: Parameters<typeof memoryIO>[0]): Promise<CLIRun> {
  const io = memoryIO(options)
  const code = await runCLI(argv, io, { openStore: lightOpener })
  return { code, out: io.out(), err: io.err(), io }
}

/** Opens the store directly (to look behind the CLI's back). */
export const openStore = (uri: string): Promise<SQLStore> => openSQLStore({ uri, hasher: LIGHT_HASHER })
