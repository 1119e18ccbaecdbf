import { StringDecoder } from 'node:string_decoder'
import { CLIError } from './errors.js'
import type { OutputStream } from './io.js'

/** Longest line `--password-stdin` accepts; far above any password policy, it only bounds memory. */
export const MAX_STDIN_PASSWORD_BYTES = 64 * 1024

/**
 * Reads the first line of a stream (without its `\n` or `\r\n`) and stops reading there, so
 * `printf 'secret\n' | auth-user-admin ... --password-stdin` and an open pipe both work.
 * Resolves with what came before EOF when there is no newline; `null` when nothing came at all.
 */
export function readFirstLine(input: NodeJS.ReadableStream, options?: { maxBytes?: number }): Promise<string | null> {
  const maxBytes = options?.maxBytes ?? MAX_STDIN_PASSWORD_BYTES
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8')
    let text = ''
    let bytes = 0
    let sawData = false
    const finish = (result: () => void): void => {
      input.off('data', onData)
      input.off('end', onEnd)
      input.off('error', onError)
      input.pause()
      result()
    }
    const onData = (chunk: Buffer | string): void => {
      sawData = true
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      const newline = buffer.indexOf(0x0a)
      const part = newline === -1 ? buffer : buffer.subarray(0, newline)
      bytes += part.length
      if (bytes > maxBytes) {
        finish(() => reject(new CLIError(`the password on stdin is longer than ${maxBytes} bytes`)))
        return
      }
      text += decoder.write(part)
      if (newline !== -1) finish(() => resolve(stripCR(text + decoder.end())))
    }
    const onEnd = (): void => finish(() => resolve(sawData ? stripCR(text + decoder.end()) : null))
    const onError = (error: Error): void => finish(() => reject(new CLIError(`cannot read stdin: ${error.message}`, { cause: error })))
    input.on('data', onData)
    input.once('end', onEnd)
    input.once('error', onError)
    input.resume()
  })
}

const stripCR = (line: string): string => (line.endsWith('\r') ? line.slice(0, -1) : line)

/** The subset of `tty.ReadStream` a hidden prompt needs. */
export interface TerminalInput extends NodeJS.ReadableStream {
  setRawMode(mode: boolean): unknown
}

/**
 * A prompt that reads a secret from a terminal without echoing it: the terminal goes into raw
 * mode (no echo, no line editing by the kernel) for the duration of one answer. Enter ends the
 * answer, Backspace deletes a character, Ctrl-U clears the line, Ctrl-C or Ctrl-D on an empty
 * line cancel, and escape sequences (arrow keys) are ignored instead of ending up in the secret.
 * What was typed ahead after Enter is kept for the next question ("Repeat password").
 */
export function createHiddenPrompt(input: TerminalInput, output: OutputStream): (question: string) => Promise<string> {
  const decoder = new StringDecoder('utf8')
  let typedAhead = ''
  let afterCR = false

  return async function hiddenPrompt(question) {
    // Raw mode first, the question second: keys typed as soon as the question shows must
    // already find the terminal's echo off.
    input.setRawMode(true)
    output.write(question)
    try {
      const answer = new KeyReader({ afterCR })
      const fromBuffer = answer.feed(typedAhead)
      if (fromBuffer !== null) {
        typedAhead = fromBuffer
      } else {
        typedAhead = await new Promise<string>((resolve, reject) => {
          const onData = (chunk: Buffer | string): void => {
            try {
              const rest = answer.feed(typeof chunk === 'string' ? chunk : decoder.write(chunk))
              if (rest === null) return
              cleanup()
              resolve(rest)
            } catch (error) {
              cleanup()
              reject(error)
            }
          }
          const onEnd = (): void => {
            cleanup()
            reject(new CLIError('cancelled: the terminal closed before a password was entered'))
          }
          const cleanup = (): void => {
            input.off('data', onData)
            input.off('end', onEnd)
            input.pause()
          }
          input.on('data', onData)
          input.once('end', onEnd)
          input.resume()
        })
      }
      afterCR = answer.endedWithCR
      return answer.value
    } finally {
      input.setRawMode(false)
      output.write('\n')
    }
  }
}

/** Turns raw terminal input into one line of text; exported for tests. */
export class KeyReader {
  #chars: string[] = []
  // 0 = text, 1 = after ESC, 2 = inside a CSI / SS3 sequence (until its final byte).
  #escape: 0 | 1 | 2 = 0
  // A CR that ended the previous line may be followed by the LF of a "\r\n" in the next chunk.
  #skipLF: boolean
  /** `true` when the line ended with a CR at the very end of the input (a LF may follow). */
  endedWithCR = false

  constructor(options?: { afterCR?: boolean }) {
    this.#skipLF = options?.afterCR ?? false
  }

  get value(): string {
    return this.#chars.join('')
  }

  /**
   * Consumes input. Returns what follows the Enter key once the line is complete, or `null`
   * while more input is needed. Throws a `CLIError` on Ctrl-C, or on Ctrl-D with an empty line.
   */
  feed(text: string): string | null {
    const chars = [...text]
    for (let i = 0; i < chars.length; i++) {
      const char = chars[i] as string
      if (this.#skipLF) {
        this.#skipLF = false
        if (char === '\n') continue
      }
      if (this.#escape === 1) {
        this.#escape = char === '[' || char === 'O' ? 2 : 0
        continue
      }
      if (this.#escape === 2) {
        const code = char.charCodeAt(0)
        if (code >= 0x40 && code <= 0x7e) this.#escape = 0
        continue
      }
      switch (char) {
        case '\r':
        case '\n': {
          let rest = chars.slice(i + 1).join('')
          // A terminal sends CR for Enter; "\r\n" from a pasted or scripted line is one Enter.
          if (char === '\r' && rest.startsWith('\n')) rest = rest.slice(1)
          this.endedWithCR = char === '\r' && rest === '' && i === chars.length - 1
          return rest
        }
        case '\u0003':
          throw new CLIError('cancelled')
        case '\u0004':
          if (this.#chars.length === 0) throw new CLIError('cancelled')
          break
        case '\u007f':
        case '\b':
          this.#chars.pop()
          break
        case '\u0015':
          this.#chars = []
          break
        case '\u001b':
          this.#escape = 1
          break
        default:
          if (char.charCodeAt(0) >= 0x20) this.#chars.push(char)
      }
    }
    return null
  }
}
