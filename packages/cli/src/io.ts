/**
 * What the CLI needs from the process it runs in. `bin.ts` builds it from `process`; tests build
 * one from in-memory streams. Nothing else in the package touches `process`.
 */
export interface CLIIO {
  /** Results: a table, a confirmation, or (with `--json`) exactly one JSON document. */
  readonly stdout: OutputStream
  /** Everything else: prompts, warnings, errors. */
  readonly stderr: OutputStream
  /** Where `--password-stdin` reads its line. */
  readonly stdin: NodeJS.ReadableStream
  readonly env: Readonly<Record<string, string | undefined>>
  /** The working directory: the default database and environment paths are relative to it. */
  readonly cwd: string
  /** `true` when stdin is a terminal, so a hidden prompt can be shown. */
  readonly isTTY: boolean
  /**
   * Asks for a secret without echoing it (the question goes to the terminal, not stdout).
   * Rejects with a `CLIError` when the user cancels (Ctrl-C, Ctrl-D).
   */
  prompt(question: string): Promise<string>
}

/** The subset of a Node `Writable` the CLI writes to. */
export interface OutputStream {
  write(chunk: string): boolean
  once?(event: 'drain', listener: () => void): unknown
}

/**
 * Writes and, when the stream's buffer is full, waits for it to drain: a 100 000-user listing
 * piped into a slow reader then holds one page in memory, not the whole listing.
 */
export async function writeOut(stream: OutputStream, chunk: string): Promise<void> {
  if (stream.write(chunk) || stream.once === undefined) return
  const once = stream.once.bind(stream)
  await new Promise<void>((resolve) => once('drain', resolve))
}
