import { describe, expect, it } from 'vitest'
import { EXIT_USAGE } from './errors.js'
import { passwordPolicyFromModule } from './password-policy.js'

describe('passwordPolicyFromModule', () => {
  it("reads `passwordPolicy` (or the default export's), and nothing when there is none", () => {
    expect(passwordPolicyFromModule({ passwordPolicy: { contextWords: ['Acme'], minLength: 12 } }, 'app.ts')).toEqual({ contextWords: ['Acme'], minLength: 12 })
    expect(passwordPolicyFromModule({ default: { passwordPolicy: { blocklist: ['acme2025'] } } }, 'app.ts')).toEqual({ blocklist: ['acme2025'] })
    expect(passwordPolicyFromModule({ roles: [] }, 'app.ts')).toBeNull()
  })

  it('refuses another shape with a usage error naming the field', () => {
    for (const [policy, field] of [
      ['acme', 'passwordPolicy'],
      [{ contextWords: 'Acme' }, 'passwordPolicy.contextWords'],
      [{ minLength: '12' }, 'passwordPolicy.minLength'],
      [{ blocklist: [1] }, 'passwordPolicy.blocklist'],
    ] as const) {
      expect(() => passwordPolicyFromModule({ passwordPolicy: policy }, 'app.ts')).toThrow(expect.objectContaining({ exitCode: EXIT_USAGE, message: expect.stringContaining(field) }))
    }
  })
})
