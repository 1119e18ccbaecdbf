import { Role, RoleRegistry } from '@gatehouse/core'
import { describe, expect, it } from 'vitest'
import { CLIError, EXIT_FAILED, EXIT_USAGE } from './errors.js'
import { assertKnownRoles, catalogFromModule, loadRoleCatalog, parseRoleList } from './roles.js'

const fixtures = new URL('../test/fixtures/', import.meta.url).pathname

describe('parseRoleList', () => {
  it('splits on commas, trims, drops empties and duplicates', () => {
    expect(parseRoleList('Administrator, User,,User ')).toEqual(['Administrator', 'User'])
    expect(parseRoleList('')).toEqual([])
    expect(parseRoleList(' , ')).toEqual([])
  })
})

describe('catalogFromModule', () => {
  it('accepts a RoleRegistry, an array of roles, or a default export with roles', () => {
    const registry = new RoleRegistry([new Role({ name: 'A' })])
    expect(catalogFromModule({ roles: registry }, 'm')?.names).toEqual(['A'])
    expect(catalogFromModule({ roles: [new Role({ name: 'B' })] }, 'm')?.names).toEqual(['B'])
    expect(catalogFromModule({ default: registry }, 'm')?.names).toEqual(['A'])
    expect(catalogFromModule({ default: { roles: [{ name: 'C' }] } }, 'm')?.names).toEqual(['C'])
  })

  it('finds nothing in modules without roles', () => {
    expect(catalogFromModule({}, 'm')).toBeNull()
    expect(catalogFromModule({ roles: 'Administrator' }, 'm')).toBeNull()
    expect(catalogFromModule({ roles: [{ title: 'x' }] }, 'm')).toBeNull()
  })

  it('is not fooled by role names like __proto__', () => {
    const catalog = catalogFromModule({ roles: [{ name: 'User' }] }, 'm')
    expect(catalog?.has('__proto__')).toBe(false)
    expect(catalog?.has('constructor')).toBe(false)
  })
})

describe('loadRoleCatalog', () => {
  it('loads a TypeScript module that imports @gatehouse/core', async () => {
    const catalog = await loadRoleCatalog({ module: 'app-roles.ts', baseDir: fixtures })
    expect(catalog.names).toEqual(['Administrator', 'User', 'Viewer'])
    expect([...catalog.permissionsOf(['User', 'Nope'])].sort()).toEqual(['edit', 'view'])
  })

  it('loads a JavaScript module by absolute path', async () => {
    const catalog = await loadRoleCatalog({ module: `${fixtures}default-export.mjs`, baseDir: '/' })
    expect(catalog.names).toEqual(['Operator', 'Auditor'])
  })

  it('refuses a missing module and one without roles (usage), and reports one that throws (failure)', async () => {
    await expect(loadRoleCatalog({ module: 'missing.ts', baseDir: fixtures })).rejects.toMatchObject({ exitCode: EXIT_USAGE, message: expect.stringContaining('not found') })
    await expect(loadRoleCatalog({ module: 'no-roles.ts', baseDir: fixtures })).rejects.toMatchObject({ exitCode: EXIT_USAGE, message: expect.stringContaining('exports no roles') })
    const failure = loadRoleCatalog({ module: 'throws.ts', baseDir: fixtures })
    await expect(failure).rejects.toMatchObject({ exitCode: EXIT_FAILED, message: expect.stringContaining('AUTH_SECRET is not set') })
    await expect(failure).rejects.not.toMatchObject({ message: expect.stringContaining('second line') })
  })
})

describe('assertKnownRoles', () => {
  it('names the unknown roles and lists the known ones', () => {
    const catalog = catalogFromModule({ roles: [{ name: 'Administrator' }, { name: 'User' }] }, 'm')!
    expect(() => assertKnownRoles(catalog, ['User'])).not.toThrow()
    let error: unknown
    try {
      assertKnownRoles(catalog, ['User', 'Root', 'admin'])
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(CLIError)
    expect((error as CLIError).exitCode).toBe(EXIT_FAILED)
    expect((error as CLIError).message).toBe('unknown roles "Root", "admin"; known roles: Administrator, User')
  })
})
