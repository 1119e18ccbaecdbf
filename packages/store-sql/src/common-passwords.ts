import { readFileSync } from 'node:fs'

// Passwords that top every published list of leaked and guessed passwords, and the obvious
// ones for this product, kept in code next to the shipped list (data/common-passwords.txt) because
// some are not in that corpus ('gatehouse', 'correcthorsebatterystaple', recent years). Compared
// after NFKC and lower-casing. Operators extend the blocklist with `passwordPolicy.blocklist` and
// `passwordPolicy.contextWords`.
export const COMMON_PASSWORDS: readonly string[] = Object.freeze([
  '00000000', '0000000000', '11111111', '1111111111', '11223344', '112233445566', '12121212', '121212121',
  '123123123', '1234512345', '12341234', '123412341234', '12345678', '123456789', '1234567890', '12345678910',
  '123456789a', '1234567891', '1234567899', '123456abc', '123456qwerty', '123qweasd', '123qweasdzxc', '147258369',
  '159753456', '1q2w3e4r', '1q2w3e4r5t', '1q2w3e4r5t6y', '1qaz2wsx', '1qaz2wsx3edc', '1qazxsw2', '22222222',
  '321654987', '55555555', '66666666', '77777777', '87654321', '88888888', '963852741', '987654321',
  '9876543210', '99999999', 'a1234567', 'a12345678', 'a123456789', 'aa123456', 'aa12345678', 'abc12345',
  'abc123456', 'abcd1234', 'abcdefgh', 'abcdefg1', 'access14', 'admin123', 'admin1234', 'administrator',
  'alexander', 'asdf1234', 'asdfasdf', 'asdfghjk', 'asdfghjkl', 'babygirl', 'baseball', 'basketball',
  'batman123', 'blink182', 'butterfly', 'changeme', 'changeme123', 'charlie1', 'chocolate', 'computer',
  'corvette', 'correcthorsebatterystaple', 'dearbook', 'default1', 'dragon123', 'elephant', 'everton1', 'football',
  'football1', 'freedom1', 'gatehouse', 'gatehouse1', 'gatehouse123', 'gateway1', 'hello123', 'hellohello',
  'helloworld', 'iloveyou', 'iloveyou1', 'iloveyou2', 'internet', 'jennifer', 'jessica1', 'jordan23',
  'letmein1', 'letmein123', 'liverpool', 'lovelove', 'loveyou1', 'manchester', 'master12', 'matthew1',
  'mercedes', 'michael1', 'michelle', 'midnight', 'minecraft', 'monkey123', 'mustang1', 'mypassword',
  'newpassword', 'nicole12', 'oooooooo', 'p@ssw0rd', 'p@ssword', 'p@ssword1', 'pa$$w0rd', 'pa$$word',
  'passw0rd', 'passw0rd1', 'password', 'password!', 'password01', 'password1', 'password12', 'password123',
  'password1234', 'password2', 'password3', 'passwort', 'pokemon1', 'princess', 'princess1', 'q1w2e3r4',
  'q1w2e3r4t5', 'q1w2e3r4t5y6', 'qazwsxedc', 'qwer1234', 'qwerasdf', 'qwerty12', 'qwerty123', 'qwerty1234',
  'qwertyui', 'qwertyuiop', 'rockyou1', 'samsung1', 'secret123', 'shadow12', 'starwars', 'summer2024',
  'summer2025', 'sunshine', 'sunshine1', 'superman', 'superman1', 'test1234', 'testtest', 'thomas12',
  'trustno1', 'twilight', 'welcome1', 'welcome123', 'whatever', 'winter2024', 'winter2025', 'xxxxxxxx',
  'zaq12wsx', 'zaq1zaq1', 'zxcvbnm1', 'zxcvbnm123', 'zxcvbnmasd',
])

/** The shipped list: see data/README.md. Resolved from this file, so it works from `src/` and `dist/`. */
const LIST_URL = new URL('../data/common-passwords.txt', import.meta.url)

let loaded: ReadonlySet<string> | undefined

/**
 * The blocklist: the ~96 500 most common leaked passwords (folded: NFKC, lower case) plus
 * {@link COMMON_PASSWORDS}. Read from disk on the first call, not at import, so an application that
 * never sets a password (most requests, every login) never pays for it; later calls return the
 * same set. The read is synchronous (a few tens of ms, once): password changes are rare, and the
 * policy check stays a plain function.
 */
export function commonPasswords(): ReadonlySet<string> {
  if (loaded !== undefined) return loaded
  const set = new Set(readFileSync(LIST_URL, 'utf8').split('\n'))
  set.delete('')
  for (const password of COMMON_PASSWORDS) set.add(password)
  loaded = set
  return set
}

/** `true` once {@link commonPasswords} has loaded the list (for tests of the lazy load). */
export function commonPasswordsLoaded(): boolean {
  return loaded !== undefined
}
