// @gatehouse/bench (private): the harness behind `npm run bench`, for its smoke test.
export type { BenchOptions, BenchReport, DemoResult, LoginRow, RatioRow, RevocationResult, Section, StormRow } from './bench.js'
export { SECTIONS, runBench } from './bench.js'
export type { TargetCheck } from './report.js'
export { checkTargets, formatReport } from './report.js'
export type { LoadConfig, LoadResult, PolicyCheckResult, ServerConfig } from './scenarios.js'
