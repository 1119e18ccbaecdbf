/**
 * The logging interface Gatehouse needs: a pino logger fits as is. Gatehouse never logs
 * passwords, hashes, cookies or tokens; user-supplied text is passed as a field, never spliced
 * into the message, so a JSON logger escapes it.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

const noop = (): void => {}

/** A logger that drops everything. */
export const NOOP_LOGGER: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop })

/**
 * The default logger of `createAuth`: warnings and errors as JSON lines on stderr, so that a
 * misconfiguration or an unavailable backend is never silent. Pass a pino logger to replace it.
 */
export const STDERR_LOGGER: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: (fields: Record<string, unknown>, message: string) => writeLine('warn', fields, message),
  error: (fields: Record<string, unknown>, message: string) => writeLine('error', fields, message),
})

function writeLine(level: string, fields: Record<string, unknown>, message: string): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), name: 'gatehouse', msg: message, ...fields })
  globalThis.console.error(line)
}
