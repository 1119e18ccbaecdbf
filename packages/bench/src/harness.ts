// Processes of the benchmark: servers, load generators and raw argon2, each in its own process,
// every wait bounded in time.
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { LoadConfig, LoadResult, ServerConfig } from './scenarios.js'
import type { ServerReady } from './server.js'

/** How child processes are started. */
export interface ProcessOptions {
  /**
   * Arguments before the script: empty for the compiled packages (production's way); the smoke
   * test runs the sources through tsx instead (`['--import', 'tsx', '--conditions=gatehouse-source']`).
   * @default []
   */
  readonly nodeArgs?: readonly string[]
}

// The harness runs from dist/*.js (compiled) or src/*.ts (smoke test): its siblings have its extension.
const OWN_EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js'

/** Path of a sibling script of this module (`server`, `load`, `argon2-raw`). */
export function siblingScript(name: string): string {
  return fileURLToPath(new URL(`./${name}${OWN_EXTENSION}`, import.meta.url))
}

/** A benchmark server process that reported it listens. */
export interface RunningServer {
  readonly ready: ServerReady
  readonly url: string
  readonly child: ChildProcess
  /** Peak resident memory of the process so far (Linux `VmHWM`), in MiB; null elsewhere. */
  peakRSSMiB(): number | null
  /** CPU seconds the process has used so far; null where /proc is missing. */
  cpuSeconds(): number | null
  stop(): Promise<void>
}

/** Resident-memory high-water mark of a process in MiB, from /proc (null when unreadable). */
export function peakRSSMiB(pid: number): number | null {
  try {
    const kib = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kib === undefined ? null : Number(kib) / 1024
  } catch {
    return null
  }
}

/** CPU time (user + system) a process has used so far, in seconds, from /proc (null when unreadable). */
export function cpuSeconds(pid: number): number | null {
  try {
    // Fields 14 and 15 (utime, stime) in clock ticks, counted after the parenthesised command name.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return null
  }
}

/** Ends a child process (SIGTERM, then SIGKILL after `graceMs`) and waits for it. */
export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/** Starts one benchmark server and waits (at most `timeoutMs`) for its ready line. */
export function startServer(config: ServerConfig, options: ProcessOptions & { timeoutMs?: number } = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), siblingScript('server'), JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child)
      reject(new Error(`${config.kind} server did not start within ${options.timeoutMs ?? 60_000} ms: ${stderr}`))
    }, options.timeoutMs ?? 60_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const line = stdout.split('\n').find((l) => l.startsWith('{"ready"'))
      if (line === undefined) return
      clearTimeout(timer)
      const ready = JSON.parse(line) as ServerReady
      resolve({ ready, url: `http://127.0.0.1:${ready.port}`, child, peakRSSMiB: () => peakRSSMiB(child.pid!), cpuSeconds: () => cpuSeconds(child.pid!), stop: () => stopChild(child) })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${config.kind} server exited with ${code}: ${stderr.trim().split('\n').slice(0, 3).join(' / ')}`))
    })
  })
}

/** Runs a node script to completion (bounded) and parses the JSON line it prints last. */
export function runJSONScript<T>(script: string, arg: unknown, options: ProcessOptions & { timeoutMs: number }): Promise<T> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), siblingScript(script), JSON.stringify(arg)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => void (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child, 500)
      reject(new Error(`${script} did not finish within ${options.timeoutMs} ms`))
    }, options.timeoutMs)
    child.once('exit', (code) => {
      clearTimeout(timer)
      const last = stdout.trim().split('\n').pop()
      if (code !== 0 || last === undefined || last === '') return reject(new Error(`${script} exited with ${code}: ${stderr.trim()}`))
      resolve(JSON.parse(last) as T)
    })
  })
}

/** One autocannon run in a load-generator process of its own. */
export function load(config: LoadConfig, options: ProcessOptions = {}): Promise<LoadResult> {
  return runJSONScript<LoadResult>('load', config, { ...options, timeoutMs: ((config.warmupSeconds ?? 0) + config.seconds) * 1000 + 30_000 })
}

/** Raw argon2id verifies per second at `concurrency` (no HTTP, no Gatehouse), in its own process. */
export async function rawArgon2(args: { concurrency: number; seconds: number; warmupSeconds: number }, options: ProcessOptions = {}): Promise<number> {
  const result = await runJSONScript<{ verifiesPerSecond: number }>('argon2-raw', args, { ...options, timeoutMs: (args.seconds + args.warmupSeconds) * 1000 + 30_000 })
  return result.verifiesPerSecond
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** p-th percentile (nearest rank) of a non-empty list. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
