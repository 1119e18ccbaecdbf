import { commonPasswords } from './common-passwords.js'

/** Options of {@link checkPasswordPolicy}. */
export interface PasswordPolicyOptions {
  /**
   * Fewest characters (Unicode code points). NIST SP 800-63B and OWASP ASVS require at least 8
   * and recommend 15 for passwords that are the only factor; lower values are refused. @default 8
   */
  readonly minLength?: number
  /**
   * Hard maximum in UTF-8 bytes, refused before any hashing (argon2 denial of service). At least
   * 256, so that any 64 characters fit. @default 1024
   */
  readonly maxLength?: number
  /** More passwords to refuse (compared like the built-in list), added to it. @default [] */
  readonly blocklist?: Iterable<string>
  /**
   * Words specific to this service that a password must not be built on (NIST SP 800-63B
   * "context-specific words"): the application's name, the organisation's, the product's. Give
   * each on its own (`['Acme', 'Acme Notes']`): a password is refused when it is one of them once
   * case, spaces, dots, dashes and a few digits or symbols at either end are set aside
   * (`acme-notes-2025!`). The username is always such a word. @default []
   */
  readonly contextWords?: Iterable<string>
}

/** NIST SP 800-63B's recommended minimum for single-factor passwords. */
export const RECOMMENDED_MIN_PASSWORD_LENGTH = 15

/**
 * At most this many digits, symbols, punctuation or spaces are taken off either end of a password
 * before it is looked up. People meet "add a digit and a symbol" habits (and old composition rules)
 * with `Password1!`, `Summer2024!!` or `!Welcome1`, and attackers' guessing rules try exactly those
 * first, so the word underneath is what counts. The bound keeps a long, really random tail
 * (`horse 4729 8812!`) from being judged by its first word alone.
 */
const MAX_AFFIX = 6
const LEADING = /^[\p{N}\p{P}\p{S}\s]+/u
const TRAILING = /[\p{N}\p{P}\p{S}\s]+$/u
// Separators inside a phrase: `pass word`, `pass.word` and `pass-word` are `password`.
const SEPARATORS = /[\s._-]+/gu

const COMMON = 'a commonly used password'
const COMMON_VARIANT = 'a commonly used password with a few characters added'
const USERNAME = 'the same as the username'
const USERNAME_VARIANT = 'the username with a few characters added'
const CONTEXT = 'based on the name of this service'

/**
 * Checks a new password against Gatehouse's policy (OWASP ASVS 5 §6.2, NIST SP 800-63B): a length
 * between `minLength` and `maxLength`; not one of the ~96 500 most common leaked passwords (shipped
 * with the package, loaded on the first check), nor `blocklist`; not the username or a
 * `contextWords` entry; not one character repeated — each also after case folding and with up to 6
 * digits or symbols taken off either end (`Password1!` is `password`). No composition rules (they
 * make passwords weaker and users unhappier), no truncation, no normalization of what is stored:
 * the password is hashed exactly as received. Returns the problems, phrased for the user and never
 * quoting the password; `[]` means acceptable.
 *
 * @example
 * ```ts
 * checkPasswordPolicy('password123')                  // ['a commonly used password']
 * checkPasswordPolicy('Password1!')                   // ['a commonly used password with a few characters added']
 * checkPasswordPolicy('violet cormorant at dawn')     // []
 * checkPasswordPolicy('x', { minLength: 15 })         // ['shorter than 15 characters']
 * checkPasswordPolicy('AcmeNotes2025', { contextWords: ['Acme Notes'] }) // ['based on the name of this service']
 * ```
 */
export function checkPasswordPolicy(password: string, options: PasswordPolicyOptions = {}, context: { readonly username?: string } = {}): string[] {
  const { minLength, maxLength } = resolvePasswordPolicy(options)
  if (typeof password !== 'string') return ['not a string']
  // The byte limit comes first and alone, so an oversized input costs nothing more.
  if (Buffer.byteLength(password) > maxLength) return [`longer than ${maxLength} bytes`]
  const problems: string[] = []
  const characters = [...password]
  const tooShort = characters.length < minLength
  if (tooShort) problems.push(`shorter than ${minLength} characters`)
  const folded = fold(password)
  const forms = lookupForms(folded)

  // A password too short is refused for that alone: one reason to act on, and no list to load.
  if (!tooShort) {
    const extra = new Set<string>()
    for (const entry of options.blocklist ?? []) extra.add(fold(entry))
    const listed = (form: string) => commonPasswords().has(form) || extra.has(form)
    if (listed(folded)) problems.push(COMMON)
    else if ([...forms].some(listed)) problems.push(COMMON_VARIANT)
  }

  const username = context.username === undefined ? '' : fold(context.username).trim()
  if (username !== '') {
    if (folded.trim() === username) problems.push(USERNAME)
    else if (sharesForm(forms, username)) problems.push(USERNAME_VARIANT)
  }
  for (const word of options.contextWords ?? []) {
    const folder = fold(word).trim()
    if (folder !== '' && sharesForm(forms, folder)) {
      problems.push(CONTEXT)
      break
    }
  }
  if (characters.length > 1 && characters.every((c) => c === characters[0])) problems.push('one character repeated')
  return problems
}

/** Validates policy options (`TypeError` at startup for a policy weaker than the rules allow). */
export function resolvePasswordPolicy(options: PasswordPolicyOptions = {}): { minLength: number; maxLength: number } {
  const minLength = options.minLength ?? 8
  const maxLength = options.maxLength ?? 1024
  if (!Number.isInteger(minLength) || minLength < 8) throw new TypeError('passwordPolicy.minLength must be an integer of at least 8')
  if (!Number.isInteger(maxLength) || maxLength < 256) throw new TypeError('passwordPolicy.maxLength must be an integer of at least 256 (bytes)')
  if (maxLength < minLength * 4) throw new TypeError('passwordPolicy.maxLength must fit minLength characters of 4 bytes each')
  for (const [name, list] of [
    ['blocklist', options.blocklist],
    ['contextWords', options.contextWords],
  ] as const) {
    if (list === undefined) continue
    if (typeof list === 'string' || typeof (list as Iterable<unknown>)[Symbol.iterator] !== 'function') throw new TypeError(`passwordPolicy.${name} must be an array (or iterable) of strings`)
  }
  return { minLength, maxLength }
}

const fold = (value: string): string => value.normalize('NFKC').toLowerCase()

/**
 * What a folded password is looked up as: itself, without separators, and each of those with up
 * to {@link MAX_AFFIX} digits, symbols or spaces taken off the end, the start, or both.
 */
function lookupForms(folded: string): Set<string> {
  const forms = new Set<string>()
  for (const base of [folded, folded.replace(SEPARATORS, '')]) {
    const end = stripAffix(base, TRAILING)
    for (const form of [base, end, stripAffix(base, LEADING), stripAffix(end, LEADING)]) if (form !== '') forms.add(form)
  }
  return forms
}

function stripAffix(value: string, affix: RegExp): string {
  const match = affix.exec(value)
  if (match === null || [...match[0]].length > MAX_AFFIX) return value
  return match.index === 0 ? value.slice(match[0].length) : value.slice(0, match.index)
}

/** `true` when the password, in any of its lookup forms, is `word` (itself or without separators). */
function sharesForm(forms: ReadonlySet<string>, word: string): boolean {
  return forms.has(word) || forms.has(word.replace(SEPARATORS, ''))
}
