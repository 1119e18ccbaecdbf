import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { CLIError } from './errors.js'
import { KeyReader, createHiddenPrompt, readFirstLine } from './password.js'

/** A stand-in terminal: a stream with raw mode, recording the mode changes. */
function terminal(): PassThrough & { setRawMode(mode: boolean): void; modes: boolean[] } {
  const stream = new PassThrough() as PassThrough & { setRawMode(mode: boolean): void; modes: boolean[] }
  stream.modes = []
  stream.setRawMode = (mode) => void stream.modes.push(mode)
  return stream
}

const collector = (): { write(chunk: string): boolean; text: string } => {
  const out = {
    text: '',
    write(chunk: string) {
      out.text += chunk
      return true
    },
  }
  return out
}

describe('readFirstLine', () => {
  it('returns the first line without its line ending', async () => {
    const input = new PassThrough()
    input.end('correct horse battery\r\nsecond line\n')
    await expect(readFirstLine(input)).resolves.toBe('correct horse battery')
  })

  it('stops at the newline without waiting for the end of the stream', async () => {
    const input = new PassThrough()
    input.write('pass')
    input.write('word\nmore')
    await expect(readFirstLine(input)).resolves.toBe('password')
  })

  it('keeps a password without a trailing newline, and multibyte characters split across chunks', async () => {
    const input = new PassThrough()
    const bytes = Buffer.from('pässwörd🙂')
    input.write(bytes.subarray(0, 2))
    input.end(bytes.subarray(2))
    await expect(readFirstLine(input)).resolves.toBe('pässwörd🙂')
  })

  it('keeps leading and inner spaces: the password is used exactly as given', async () => {
    const input = new PassThrough()
    input.end('  two  spaces \n')
    await expect(readFirstLine(input)).resolves.toBe('  two  spaces ')
  })

  it('is null for an empty stream and fails for an endless line', async () => {
    const empty = new PassThrough()
    empty.end()
    await expect(readFirstLine(empty)).resolves.toBeNull()
    const long = new PassThrough()
    long.end('x'.repeat(100))
    await expect(readFirstLine(long, { maxBytes: 10 })).rejects.toThrow(CLIError)
  })
})

describe('KeyReader', () => {
  it('ends at Enter and returns what was typed ahead', () => {
    const reader = new KeyReader()
    expect(reader.feed('sec')).toBeNull()
    expect(reader.feed('ret\rnext\r')).toBe('next\r')
    expect(reader.value).toBe('secret')
  })

  it('handles backspace, Ctrl-U and ignores arrow keys and other controls', () => {
    const reader = new KeyReader()
    expect(reader.feed('abX\u007fc\u001b[D\u001bOA\t\u0015pw\u0008d🙂\n')).toBe('')
    expect(reader.value).toBe('pd🙂')
  })

  it('treats CR LF as one Enter, even across chunks', () => {
    const first = new KeyReader()
    expect(first.feed('one\r\ntwo\r\n')).toBe('two\r\n')
    const split = new KeyReader()
    expect(split.feed('one\r')).toBe('')
    expect(split.endedWithCR).toBe(true)
    const next = new KeyReader({ afterCR: true })
    expect(next.feed('\ntwo\r')).toBe('')
    expect(next.value).toBe('two')
  })

  it('cancels on Ctrl-C, and on Ctrl-D with nothing typed', () => {
    expect(() => new KeyReader().feed('abc\u0003')).toThrow('cancelled')
    expect(() => new KeyReader().feed('\u0004')).toThrow('cancelled')
    const reader = new KeyReader()
    expect(reader.feed('ab\u0004c\r')).toBe('')
    expect(reader.value).toBe('abc')
  })
})

describe('createHiddenPrompt', () => {
  it('asks on the output, reads in raw mode, and restores the terminal', async () => {
    const input = terminal()
    const output = collector()
    const prompt = createHiddenPrompt(input, output)
    const answer = prompt('New password: ')
    input.write('hunter2-is-')
    input.write('long\r')
    await expect(answer).resolves.toBe('hunter2-is-long')
    expect(input.modes).toEqual([true, false])
    expect(output.text).toBe('New password: \n')
  })

  it('turns echo off before the question shows, so keys typed at once are never echoed', async () => {
    const input = terminal()
    const modeWhenAsked: boolean[] = []
    const output = { write: (chunk: string) => (chunk.includes('?') && modeWhenAsked.push(input.modes.at(-1) ?? false), true) }
    const prompt = createHiddenPrompt(input, output)
    const first = prompt('First? ')
    input.write('one\r')
    await first
    const second = prompt('Second? ')
    input.write('two\r')
    await second
    expect(modeWhenAsked).toEqual([true, true])
  })

  it('keeps input typed ahead for the next question', async () => {
    const input = terminal()
    const prompt = createHiddenPrompt(input, collector())
    const first = prompt('New password: ')
    input.write('first\rsecond\r')
    await expect(first).resolves.toBe('first')
    await expect(prompt('Repeat password: ')).resolves.toBe('second')
  })

  it('rejects when the user cancels, and restores the terminal', async () => {
    const input = terminal()
    const prompt = createHiddenPrompt(input, collector())
    const answer = prompt('New password: ')
    input.write('abc\u0003')
    await expect(answer).rejects.toThrow('cancelled')
    expect(input.modes).toEqual([true, false])
  })
})
