import { randomBytes } from 'node:crypto'
import type { Filter } from 'ldapts'
import {
  AndFilter,
  ApproximateFilter,
  EqualityFilter,
  ExtensibleFilter,
  FilterParser,
  GreaterThanEqualsFilter,
  LessThanEqualsFilter,
  NotFilter,
  OrFilter,
  PresenceFilter,
  SubstringFilter,
} from 'ldapts'

/**
 * A search filter with `{placeholders}`, parsed once at startup into ldapts filter objects.
 *
 * Why not escape and splice strings at login time: a value then never passes through a filter
 * parser at all. The template is parsed with an inert random token in place of each placeholder,
 * and at login the token is replaced by the raw value inside the parsed assertion values, which
 * are sent as BER octet strings. `*`, `(`, `)`, `\`, NUL or any Unicode in a username can only
 * ever be compared literally; no input can add a clause. (String escaping would also have to
 * survive ldapts' parser, which decodes `\xx` escapes byte by byte and so mangles UTF-8.)
 *
 * @example
 * ```ts
 * const filter = new FilterTemplate('(&(objectClass=person)(uid={username}))', ['username'])
 * client.search(base, { filter: filter.build({ username: 'alice)(uid=*' }) }) // matches nobody
 * ```
 */
export class FilterTemplate {
  /** The template as configured. */
  readonly source: string
  /** The placeholders the template uses. */
  readonly uses: ReadonlySet<string>
  readonly #parsed: Filter
  readonly #tokens: ReadonlyMap<string, string>

  /**
   * Parses `template`. Throws `TypeError` when it does not parse, uses a placeholder outside
   * `allowed`, or puts one anywhere but in an assertion value (an attribute name or matching rule
   * taken from user input would let the user choose what is compared).
   */
  constructor(template: string, allowed: readonly string[]) {
    this.source = template
    const nonce = randomBytes(8).toString('hex')
    const tokens = new Map<string, string>()
    const uses = new Set<string>()
    const withTokens = template.replace(/\{([^{}]*)\}/g, (_, name: string) => {
      if (!allowed.includes(name)) {
        throw new TypeError(`unknown placeholder {${name}} in filter ${JSON.stringify(template)} (allowed: ${allowed.map((a) => `{${a}}`).join(', ')})`)
      }
      uses.add(name)
      const token = `gatehouse${nonce}${name.replace(/[^A-Za-z0-9]/g, '')}${allowed.indexOf(name)}x`
      tokens.set(name, token)
      return token
    })
    try {
      this.#parsed = FilterParser.parseString(withTokens)
    } catch (error) {
      throw new TypeError(`invalid LDAP filter ${JSON.stringify(template)}: ${(error as Error).message.replaceAll(nonce, '')}`, { cause: error })
    }
    if (!template.trim().startsWith('(')) throw new TypeError(`LDAP filter ${JSON.stringify(template)} must be parenthesized, e.g. "(uid={username})"`)
    this.uses = uses
    this.#tokens = tokens
    visit(this.#parsed, (name) => {
      for (const token of tokens.values()) {
        if (name.includes(token)) throw new TypeError(`filter ${JSON.stringify(template)}: placeholders are allowed in values only`)
      }
    })
  }

  /** A new filter object with every placeholder replaced by its raw (unescaped) value. */
  build(values: Readonly<Record<string, string>>): Filter {
    const substitute = (text: string): string => {
      let out = text
      for (const [name, token] of this.#tokens) {
        if (!out.includes(token)) continue
        const value = values[name]
        if (value === undefined) throw new TypeError(`no value for {${name}}`)
        out = out.split(token).join(value)
      }
      return out
    }
    return clone(this.#parsed, substitute)
  }
}

/** Calls `names` with every attribute name and matching rule in the filter. */
function visit(filter: Filter, names: (name: string) => void): void {
  if (filter instanceof AndFilter || filter instanceof OrFilter) {
    for (const child of filter.filters) visit(child, names)
  } else if (filter instanceof NotFilter) {
    visit(filter.filter, names)
  } else if (filter instanceof ExtensibleFilter) {
    names(filter.matchType)
    names(filter.rule)
  } else {
    names((filter as { attribute?: string }).attribute ?? '')
  }
}

/** Deep copy of a parsed filter with `substitute` applied to every assertion value. */
function clone(filter: Filter, substitute: (text: string) => string): Filter {
  const value = (v: Buffer | string): string => substitute(typeof v === 'string' ? v : v.toString('utf8'))
  if (filter instanceof AndFilter) return new AndFilter({ filters: filter.filters.map((f) => clone(f, substitute)) })
  if (filter instanceof OrFilter) return new OrFilter({ filters: filter.filters.map((f) => clone(f, substitute)) })
  if (filter instanceof NotFilter) return new NotFilter({ filter: clone(filter.filter, substitute) })
  if (filter instanceof EqualityFilter) return new EqualityFilter({ attribute: filter.attribute, value: value(filter.value) })
  if (filter instanceof ApproximateFilter) return new ApproximateFilter({ attribute: filter.attribute, value: value(filter.value) })
  if (filter instanceof GreaterThanEqualsFilter) return new GreaterThanEqualsFilter({ attribute: filter.attribute, value: value(filter.value) })
  if (filter instanceof LessThanEqualsFilter) return new LessThanEqualsFilter({ attribute: filter.attribute, value: value(filter.value) })
  if (filter instanceof PresenceFilter) return new PresenceFilter({ attribute: filter.attribute })
  if (filter instanceof SubstringFilter) {
    return new SubstringFilter({
      attribute: filter.attribute,
      initial: substitute(filter.initial),
      any: filter.any.map(substitute),
      final: substitute(filter.final),
    })
  }
  if (filter instanceof ExtensibleFilter) {
    return new ExtensibleFilter({ matchType: filter.matchType, rule: filter.rule, dnAttributes: filter.dnAttributes, value: substitute(filter.value) })
  }
  // Fail closed on a filter kind this code does not know rather than send it unsubstituted.
  throw new TypeError(`unsupported LDAP filter type ${filter.constructor.name}`)
}
