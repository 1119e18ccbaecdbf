// Rules of the workspace that a careless edit of a package.json would break.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../../..')
const manifest = (name: string) => JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>

describe('the workspace', () => {
  it.each(['store-sql', 'authenticator-ldap', 'authenticator-oidc'])('%s takes @gatehouse/core as a peer, so an app has one copy of it', (name) => {
    const pkg = manifest(name)
    expect(pkg.peerDependencies?.['@gatehouse/core']).toBeDefined()
    expect(pkg.dependencies?.['@gatehouse/core']).toBeUndefined()
  })

  it('core depends on no other Gatehouse package', () => {
    const pkg = manifest('core')
    const all = { ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies }
    expect(Object.keys(all).filter((name) => name.startsWith('@gatehouse/'))).toEqual([])
  })
})
