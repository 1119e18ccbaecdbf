/** Exit codes of `auth-user-admin`: 0 done, 1 failed, 2 usage. */
export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE

/**
 * An expected failure of a command (user not found, weak password, database down, ...).
 * `message` is the one line shown on stderr; `bin.ts` exits with `exitCode`.
 */
export class CLIError extends Error {
  readonly exitCode: ExitCode

  constructor(message: string, options?: { exitCode?: ExitCode; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.exitCode = options?.exitCode ?? EXIT_FAILED
  }
}

/** The command line itself is wrong (missing argument, conflicting options): exit 2. */
export class UsageError extends CLIError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { exitCode: EXIT_USAGE, ...options })
  }
}
