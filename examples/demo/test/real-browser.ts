// What the demo's real-browser tests share: Debian's headless Chromium, the screenshot folder and
// a loopback server for the app under test.
import { mkdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import type { ServerType } from '@hono/node-server'
import type { Browser } from 'playwright-core'
import { chromium } from 'playwright-core'

/** Where screenshots go (not committed); looked at by hand. */
export const SCREENSHOTS = join(import.meta.dirname, '../../../.test-results/screenshots')

// The flags this machine's closed network needs: no background connections Chromium would retry.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Debian's Chromium, headless; the screenshot folder exists afterwards. */
export function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true })
}

/** Serves `fetch` on a free loopback port; resolves to the server and its base URL. */
export async function serveOnLoopback(fetch: (request: Request) => Response | Promise<Response>): Promise<{ server: ServerType; base: string }> {
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
  })
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}
