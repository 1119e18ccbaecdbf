import { defineConfig } from 'vitest/config'

// Tests run against the packages' sources: the `gatehouse-source` export condition points every
// `@gatehouse/*` import at `src/index.ts`, so no build is needed first.
const conditions = ['gatehouse-source', 'module', 'node', 'development|production']

export default defineConfig({
  ssr: { resolve: { conditions, externalConditions: conditions } },
  resolve: { conditions },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
})
