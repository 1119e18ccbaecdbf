import type { User } from '@gatehouse/core'
import { describe, expect, it } from 'vitest'
import { casbinSubject } from './casbin-subject.js'
import { GatehouseRoleManager } from './gatehouse-role-manager.js'

const user = (roles: string[], source = 'sql', id = '42'): User => ({ id, username: 'alice', roles, source })

describe('GatehouseRoleManager', () => {
  it("counts the subject's roles, with the policy's inheritance, only inside withSubject and only for that principal", async () => {
    const rm = new GatehouseRoleManager()
    await rm.addLink('Administrator', 'User')
    const admin = casbinSubject(user(['Administrator']))
    expect(rm.syncedHasLink('sql:42', 'Administrator')).toBe(false)
    expect(rm.withSubject(admin, () => [rm.syncedHasLink('sql:42', 'Administrator'), rm.syncedHasLink('sql:42', 'User'), rm.syncedHasLink('sql:42', 'Viewer')])).toEqual([true, true, false])
    // Another principal asked during the same check gets nothing of the subject's roles.
    expect(rm.withSubject(admin, () => rm.syncedHasLink('ldap:42', 'Administrator'))).toBe(false)
    expect(rm.syncedHasLink('sql:42', 'User')).toBe(false)
    expect(await rm.getRoles('sql:42')).toEqual([])
  })

  it('is re-entrant: a nested check restores the outer subject', () => {
    const rm = new GatehouseRoleManager()
    const outer = casbinSubject(user(['User']))
    const inner = casbinSubject(user(['Viewer'], 'ldap', '7'))
    rm.withSubject(outer, () => {
      expect(rm.withSubject(inner, () => rm.syncedHasLink('ldap:7', 'Viewer'))).toBe(true)
      expect(rm.syncedHasLink('sql:42', 'User')).toBe(true)
      expect(rm.syncedHasLink('ldap:7', 'Viewer')).toBe(false)
    })
    expect(() =>
      rm.withSubject(outer, () => {
        throw new Error('boom')
      }),
    ).toThrow('boom')
    expect(rm.syncedHasLink('sql:42', 'User')).toBe(false)
  })

  it("with domains, counts the roles in the request's domain only; g lines in the domain they name", async () => {
    const rm = new GatehouseRoleManager()
    await rm.addLink('sql:1', 'Editor', 'globex')
    const subject = casbinSubject(user(['Editor'], 'sql', '1'), 'acme')
    rm.withSubject(subject, () => {
      expect(rm.syncedHasLink('sql:1', 'Editor', 'acme')).toBe(true)
      expect(rm.syncedHasLink('sql:1', 'Editor', 'globex')).toBe(true)
      expect(rm.syncedHasLink('sql:1', 'Editor', 'initech')).toBe(false)
    })
  })

  it('ignores role names that could pass for a principal', () => {
    const subject = casbinSubject(user(['User', 'sql:7']))
    expect(subject.roles).toEqual(['User'])
    expect(String(subject)).toBe('sql:42')
    expect(Object.isFrozen(subject)).toBe(true)
  })
})
