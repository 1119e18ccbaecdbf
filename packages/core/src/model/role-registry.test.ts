import { describe, expect, it } from 'vitest'
import { Permission } from './permission.js'
import { Role } from './role.js'
import { RoleRegistry } from './role-registry.js'
import { normalizeUsername } from './user.js'

const VIEW = new Permission({ name: 'view', description: 'Read entries' })
const EDIT = new Permission({ name: 'edit' })
const DELETE = new Permission({ name: 'delete' })

describe('RoleRegistry', () => {
  it('accepts the seed-compatible role definitions and derives permissions', () => {
    const roles = new RoleRegistry([
      new Role({ name: 'Administrator', permissions: [VIEW, EDIT, DELETE] }),
      new Role({ name: 'User', permissions: [VIEW, EDIT] }),
      new Role({ name: 'Viewer', permissions: [VIEW] }),
    ])
    expect(roles.get('Administrator')?.permissions.map((p) => p.name)).toEqual(['view', 'edit', 'delete'])
    expect([...roles.permissionsOf(['User'])].sort()).toEqual(['edit', 'view'])
    expect([...roles.permissionsOf(['Viewer', 'User'])].sort()).toEqual(['edit', 'view'])
    expect(roles.get('Nobody')).toBeNull()
  })

  it('grants nothing for unknown roles, including prototype names', () => {
    const roles = new RoleRegistry([new Role({ name: 'Viewer', permissions: [VIEW] })])
    expect(roles.permissionsOf(['__proto__', 'constructor', 'toString', 'hasOwnProperty']).size).toBe(0)
    expect(roles.has('__proto__')).toBe(false)
    expect(roles.get('constructor')).toBeNull()
  })

  it('throws on duplicate names at startup', () => {
    const roles = new RoleRegistry([new Role({ name: 'User' })])
    expect(() => roles.register(new Role({ name: 'User' }))).toThrow(TypeError)
  })

  it('is read-only once frozen', () => {
    const roles = new RoleRegistry().freeze()
    expect(() => roles.register(new Role({ name: 'Late' }))).toThrow(/after startup/)
  })

  it('rejects nameless roles and permissions', () => {
    expect(() => new Role({ name: '' })).toThrow(TypeError)
    expect(() => new Permission({ name: '  ' })).toThrow(TypeError)
  })

  it('keeps a private copy of the permission list', () => {
    const list: Permission[] = [VIEW]
    const role = new Role({ name: 'R', permissions: list })
    list.push(DELETE)
    expect(role.permissions).toHaveLength(1)
  })
})

describe('normalizeUsername', () => {
  it('folds case and compatibility forms into one name', () => {
    expect(normalizeUsername('Alice')).toBe('alice')
    expect(normalizeUsername('ａｌｉｃｅ')).toBe('alice')
    expect(normalizeUsername('  ALICE ')).toBe('alice')
    expect(normalizeUsername('Ǆemal')).toBe(normalizeUsername('ǆemal'))
  })
})
