import { describe, expect, it } from 'vitest'
import { createTestApp } from '../../test/fixtures.js'

describe('smoke', () => {
  it('logs in with JSON and reaches /admin', async () => {
    const { app, login } = await createTestApp()
    const { res, cookie } = await login('admin', 'admin-password-1')
    expect(res.status).toBe(200)
    expect(cookie).toBeDefined()
    const admin = await app.request('http://app.test/admin', { headers: { cookie: cookie! } })
    expect(admin.status).toBe(200)
    expect(await admin.text()).toBe('admin area')
  })
})
