// Runs the deliberately wrong fixtures of ../conformance-suite.test.ts (never part of the normal run).
import { defineConfig } from 'vitest/config'

const conditions = ['gatehouse-source', 'module', 'node', 'development|production']

export default defineConfig({
  ssr: { resolve: { conditions, externalConditions: conditions } },
  resolve: { conditions },
  test: { include: ['packages/store-sql/test/suite-checks/*.check.ts'], pool: 'forks', maxWorkers: 1 },
})
