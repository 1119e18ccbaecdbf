// The public API of @gatehouse/cli, for running the CLI programmatically (e.g. in tests or an
// application's own admin tooling). What is not exported here is free to change.

export type { CLIIO, OutputStream } from './io.js'
export type { ProgramDependencies } from './program.js'
export { createProgram, runCLI } from './program.js'
export type { ExitCode } from './errors.js'
export { CLIError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from './errors.js'
export type { AccountAdmin, AdminStore, SchemaStatus, StoreOpener } from './store.js'
export type { RoleCatalog } from './roles.js'
export { escapeText } from './escape.js'
