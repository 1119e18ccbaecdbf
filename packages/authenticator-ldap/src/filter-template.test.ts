import { AndFilter, BerReader, BerWriter, EqualityFilter, FilterParser, type SubstringFilter } from 'ldapts'
import type { Filter } from 'ldapts'
import { describe, expect, it } from 'vitest'
import { FilterTemplate } from './filter-template.js'

/** The filter as the server receives it: BER-encoded, then decoded again. */
function overTheWire(filter: Filter): Filter {
  const writer = new BerWriter()
  filter.write(writer)
  return FilterParser.parse(new BerReader(writer.buffer))
}

describe('FilterTemplate', () => {
  const template = new FilterTemplate('(&(objectClass=person)(uid={username}))', ['username'])

  it.each(['*', 'ali*', 'alice)(uid=*', '*)(|(uid=*', 'alice\0', 'a\\2a', '(uid=alice)', 'zoë ✓', ' '])('compares %j literally, as one equality value', (username) => {
    const filter = overTheWire(template.build({ username }))
    expect(filter).toBeInstanceOf(AndFilter)
    const clauses = (filter as AndFilter).filters
    expect(clauses).toHaveLength(2)
    expect(clauses[1]).toBeInstanceOf(EqualityFilter)
    expect((clauses[1] as EqualityFilter).attribute).toBe('uid')
    expect((clauses[1] as EqualityFilter).value).toBe(username)
  })

  it('substitutes inside substring and nested filters', () => {
    const filter = new FilterTemplate('(|(cn=*{username}*)(!(mail={username}@example.org)))', ['username']).build({ username: 'a*b' })
    expect(filter.toString()).toBe('(|(cn=*a\\2ab*)(!(mail=a\\2ab@example.org)))')
    expect(((filter as AndFilter).filters[0] as SubstringFilter).any).toEqual(['a*b'])
  })

  it('substitutes several placeholders', () => {
    const filter = new FilterTemplate('(|(member={dn})(memberUid={username}))', ['dn', 'username']).build({ dn: 'cn=Smith\\, John,dc=org', username: 'jsmith' })
    expect(filter.toString()).toBe('(|(member=cn=Smith\\5c, John,dc=org)(memberUid=jsmith))')
  })

  it('records which placeholders it uses', () => {
    expect([...new FilterTemplate('(member={dn})', ['dn', 'username']).uses]).toEqual(['dn'])
  })

  it.each([
    ['(uid={user})', /unknown placeholder \{user\}/],
    ['({username}=x)', /placeholders are allowed in values only/],
    ['(uid={username}', /invalid LDAP filter/],
    ['uid={username}', /must be parenthesized/],
    ['(uid=a(b)', /invalid LDAP filter/],
  ])('refuses %j at startup', (source, message) => {
    expect(() => new FilterTemplate(source, ['username'])).toThrow(message)
  })

  it('gives every build its own filter objects', () => {
    const a = template.build({ username: 'a' })
    const b = template.build({ username: 'b' })
    expect(a.toString()).toBe('(&(objectClass=person)(uid=a))')
    expect(b.toString()).toBe('(&(objectClass=person)(uid=b))')
  })
})
