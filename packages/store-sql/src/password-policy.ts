import { COMMON_PASSWORDS } from './common-passwords.js'

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
  /** More passwords to refuse (compared case-insensitively), added to the built-in list. @default [] */
  readonly blocklist?: Iterable<string>
}

/** NIST SP 800-63B's recommended minimum for single-factor passwords. */
export const RECOMMENDED_MIN_PASSWORD_LENGTH = 15

const BUILT_IN = new Set(COMMON_PASSWORDS)

/**
 * Checks a new password against Gatehouse's policy (OWASP ASVS 5 §6.2, NIST SP 800-63B): a
 * length between `minLength` and `maxLength`, not a common password, not the username, not one
 * character repeated. No composition rules (they make passwords weaker and users unhappier), no
 * truncation, no normalization of what is stored: the password is hashed exactly as received.
 * Returns the problems, phrased for the user; `[]` means acceptable.
 *
 * @example
 * ```ts
 * checkPasswordPolicy('password123')                  // ['a commonly used password']
 * checkPasswordPolicy('violet cormorant at dawn')     // []
 * checkPasswordPolicy('x', { minLength: 15 })         // ['shorter than 15 characters']
 * ```
 */
export function checkPasswordPolicy(password: string, options: PasswordPolicyOptions = {}, context: { readonly username?: string } = {}): string[] {
  const { minLength, maxLength } = resolvePasswordPolicy(options)
  if (typeof password !== 'string') return ['not a string']
  // The byte limit comes first and alone, so an oversized input costs nothing more.
  if (Buffer.byteLength(password) > maxLength) return [`longer than ${maxLength} bytes`]
  const problems: string[] = []
  const characters = [...password]
  if (characters.length < minLength) problems.push(`shorter than ${minLength} characters`)
  const folded = password.normalize('NFKC').toLowerCase()
  if (BUILT_IN.has(folded) || blocked(options.blocklist, folded)) problems.push('a commonly used password')
  const username = context.username?.normalize('NFKC').toLowerCase().trim()
  if (username && folded.trim() === username) problems.push('the same as the username')
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
  return { minLength, maxLength }
}

function blocked(extra: Iterable<string> | undefined, folded: string): boolean {
  if (extra === undefined) return false
  for (const entry of extra) if (entry.normalize('NFKC').toLowerCase() === folded) return true
  return false
}
