/**
 * Distinguished names (RFC 4514): escaping values for DN templates, parsing what servers return,
 * and one canonical spelling per DN so that a user's id is stable.
 *
 * Servers spell the same DN in several ways (`cn=Smith\, John` and `CN=Smith\2C John` are one
 * entry), so DNs are never compared as raw strings here.
 */

/** One `type=value` pair of a relative distinguished name. */
export interface AttributeTypeAndValue {
  /** The attribute type as written (a name such as `cn`, or a numeric OID). */
  readonly type: string
  /** The value, unescaped; for a `#`-prefixed hex (BER) value, the hex as written, lower-cased. */
  readonly value: string
  /** `true` when the value was written as `#` + hex-encoded BER. */
  readonly ber?: boolean
}

/** A parsed DN: its RDNs from the leaf to the root, each one or more (multi-valued) pairs. */
export type ParsedDN = ReadonlyArray<ReadonlyArray<AttributeTypeAndValue>>

const TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)*)$/

/**
 * Escapes one attribute value for use inside a DN (RFC 4514 §2.4): `"` `+` `,` `;` `<` `>` `\`
 * anywhere, `#` and space at the start, space at the end, NUL as `\00`. What a user types can
 * then never add an RDN or move the DN to another branch of the directory.
 *
 * @example
 * ```ts
 * escapeDNValue('Smith, John') // 'Smith\\, John'
 * ```
 */
export function escapeDNValue(value: string): string {
  let out = ''
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!
    if (char === '\0') out += '\\00'
    else if ('"+,;<>\\'.includes(char)) out += `\\${char}`
    else if (i === 0 && (char === '#' || char === ' ')) out += `\\${char}`
    else if (i === value.length - 1 && char === ' ') out += '\\ '
    else out += char
  }
  return out
}

/**
 * Parses a DN string (RFC 4514, leniently accepting spaces around separators as RFC 2253 parsers
 * do). Hex escapes are decoded as UTF-8. Throws `TypeError` on a malformed DN.
 */
export function parseDN(dn: string): ParsedDN {
  const rdns: AttributeTypeAndValue[][] = []
  if (dn.trim() === '') return rdns
  let rdn: AttributeTypeAndValue[] = []
  let i = 0
  const fail = (why: string): never => {
    throw new TypeError(`invalid DN (${why}): ${JSON.stringify(dn)}`)
  }
  const skipSpaces = () => {
    while (dn[i] === ' ') i++
  }
  for (;;) {
    skipSpaces()
    const typeStart = i
    while (i < dn.length && dn[i] !== '=' && dn[i] !== ',' && dn[i] !== '+') i++
    const type = dn.slice(typeStart, i).trim()
    if (dn[i] !== '=' || !TYPE.test(type)) fail('attribute type')
    i++ // '='
    skipSpaces()
    let value: string
    let ber = false
    if (dn[i] === '#') {
      ber = true
      const start = i
      i++
      while (i < dn.length && /[0-9A-Fa-f]/.test(dn[i]!)) i++
      value = dn.slice(start, i).toLowerCase()
      if (value.length < 3 || value.length % 2 === 0) fail('hex value')
      skipSpaces()
    } else {
      ;({ value, end: i } = readStringValue(dn, i, fail))
    }
    rdn.push(ber ? { type, value, ber } : { type, value })
    if (i >= dn.length) break
    const separator = dn[i]
    i++
    if (separator === ',' || separator === ';') {
      rdns.push(rdn)
      rdn = []
    } else if (separator !== '+') {
      fail('separator')
    }
  }
  rdns.push(rdn)
  return rdns
}

/** Reads an RFC 4514 string value starting at `start`; returns it unescaped and where it ended. */
function readStringValue(dn: string, start: number, fail: (why: string) => never): { value: string; end: number } {
  let i = start
  // Escaped hex pairs are bytes of one UTF-8 sequence: collect them, decode per run.
  const parts: Array<string | number[]> = []
  let trailingSpaces = 0
  const pushChar = (char: string, escaped: boolean) => {
    const last = parts.at(-1)
    if (typeof last === 'string') parts[parts.length - 1] = last + char
    else parts.push(char)
    trailingSpaces = !escaped && char === ' ' ? trailingSpaces + 1 : 0
  }
  while (i < dn.length) {
    const char = dn[i]!
    if (char === ',' || char === '+' || char === ';') break
    if (char === '\\') {
      const next = dn.slice(i + 1, i + 3)
      if (/^[0-9A-Fa-f]{2}$/.test(next)) {
        const last = parts.at(-1)
        if (Array.isArray(last)) last.push(Number.parseInt(next, 16))
        else parts.push([Number.parseInt(next, 16)])
        trailingSpaces = 0
        i += 3
        continue
      }
      const escaped = dn[i + 1]
      if (escaped === undefined || !'"+,;<>\\ #='.includes(escaped)) fail('escape')
      pushChar(escaped!, true)
      i += 2
      continue
    }
    if (char === '"' || char === '<' || char === '>' || char === '\0') fail(`unescaped ${JSON.stringify(char)}`)
    pushChar(char, false)
    i++
  }
  let value = parts.map((part) => (typeof part === 'string' ? part : decodeUTF8(part, fail))).join('')
  // Unescaped trailing spaces are not part of the value (RFC 4514 requires them escaped).
  if (trailingSpaces > 0) value = value.slice(0, -trailingSpaces)
  return { value, end: i }
}

function decodeUTF8(bytes: number[], fail: (why: string) => never): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes))
  } catch {
    return fail('escaped bytes are not UTF-8')
  }
}

/**
 * The canonical spelling of a DN: attribute types lower-cased, no spaces around separators,
 * values unescaped then minimally re-escaped (RFC 4514), the pairs of a multi-valued RDN sorted
 * by type. Value case is kept: whether a value is case-sensitive depends on the server's schema.
 * The result is a valid DN for the same entry, so it can be sent back to the server.
 */
export function normalizeDN(dn: string): string {
  return formatDN(parseDN(dn))
}

/** Formats a parsed DN canonically (see {@link normalizeDN}). */
export function formatDN(dn: ParsedDN): string {
  return dn
    .map((rdn) =>
      [...rdn]
        .map(({ type, value, ber }) => ({ type: type.toLowerCase(), value: ber === true ? value : escapeDNValue(value) }))
        .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
        .map(({ type, value }) => `${type}=${value}`)
        .join('+'),
    )
    .join(',')
}

/**
 * A key for comparing DNs the way directories usually do (case-insensitively): the canonical
 * spelling, lower-cased. For lookups only, never sent to a server.
 */
export function dnKey(dn: string): string {
  return normalizeDN(dn).toLowerCase()
}
