#!/usr/bin/env node
// The only place that touches the process: it builds the CLI's IO from stdin/stdout/stderr,
// runs the program and exits with its code (0 done, 1 failed, 2 usage).
import type { ReadStream } from 'node:tty'
import { createHiddenPrompt } from './password.js'
import { runCLI } from './program.js'

// The reader of stdout went away (`auth-user-admin list-users | head`): it has what it wanted,
// so stop quietly instead of dying on an unhandled EPIPE with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0)
  throw error
})

const stdin = process.stdin as NodeJS.ReadStream & Partial<Pick<ReadStream, 'setRawMode'>>
const isTTY = stdin.isTTY === true && typeof stdin.setRawMode === 'function'

const prompt = isTTY ? createHiddenPrompt(stdin as NodeJS.ReadStream & Pick<ReadStream, 'setRawMode'>, process.stderr) : () => Promise.reject(new Error('stdin is not a terminal'))

const code = await runCLI(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  isTTY,
  prompt,
})

// Exit explicitly (a loaded application module may hold timers or sockets open), but only once
// stdout and stderr have handed their last bytes to the OS, so piped output is never cut short.
const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => stream.write('', () => resolve()))
await Promise.all([flushed(process.stdout), flushed(process.stderr)])
process.exit(code)
