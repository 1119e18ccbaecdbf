import { PassThrough } from 'node:stream'
import type { CLIIO } from '../src/io.js'

/** An in-memory {@link CLIIO}: collects stdout and stderr, feeds stdin and prompt answers. */
export interface MemoryIO extends CLIIO {
  readonly out: () => string
  readonly err: () => string
  /** Questions the hidden prompt was asked. */
  readonly asked: string[]
}

export function memoryIO(options?: {
  stdin?: string
  env?: Record<string, string | undefined>
  cwd?: string
  /** Answers for the hidden prompt; having any makes stdin a terminal. */
  answers?: string[]
  isTTY?: boolean
}): MemoryIO {
  let out = ''
  let err = ''
  const asked: string[] = []
  const answers = [...(options?.answers ?? [])]
  const stdin = new PassThrough()
  if (options?.stdin !== undefined) stdin.end(options.stdin)
  return {
    stdout: { write: (chunk: string) => ((out += chunk), true) },
    stderr: { write: (chunk: string) => ((err += chunk), true) },
    stdin,
    env: options?.env ?? {},
    cwd: options?.cwd ?? process.cwd(),
    isTTY: options?.isTTY ?? options?.answers !== undefined,
    async prompt(question) {
      asked.push(question)
      const answer = answers.shift()
      if (answer === undefined) throw new Error(`unexpected prompt: ${question}`)
      return answer
    },
    out: () => out,
    err: () => err,
    asked,
  }
}
