// Characters that would let a stored name rewrite the operator's terminal (ANSI escapes, carriage
// return, backspace) or disguise itself (bidirectional overrides, zero-width characters, line
// separators): C0 and C1 controls, DEL, U+200B–U+200F, U+2028–U+202E, U+2060–U+2069, U+FEFF.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g
const UNSAFE_OR_BACKSLASH = /[\\\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g

const hex = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`

/**
 * Makes a stored value safe to print in a table or a message: control and invisible formatting
 * characters become visible `\uXXXX` escapes and a backslash becomes `\\`, so what is printed
 * reads back unambiguously. `"evil\x1b[2J"` prints as `evil\u001b[2J`.
 */
export function escapeText(value: string): string {
  return value.replace(UNSAFE_OR_BACKSLASH, (char) => (char === '\\' ? '\\\\' : hex(char)))
}

/**
 * Like {@link escapeText} but leaves backslashes alone: for messages that are not meant to be
 * read back (file paths on Windows keep their look). Still guarantees a single line.
 */
export function escapeMessage(value: string): string {
  return value.replace(UNSAFE, hex)
}
