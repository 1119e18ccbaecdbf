import type { CommandContext } from '../context.js'
import { CLIError, EXIT_OK } from '../errors.js'
import { escapeMessage } from '../escape.js'
import { userView } from '../format.js'
import type { PasswordSource } from './shared.js'
import { checkPasswordSource, checkRoles, quoteUser, readNewPassword, requireUsername, withStore } from './shared.js'

/** Arguments of {@link addUser}. */
export interface AddUserArgs extends PasswordSource {
  readonly username: string
  readonly roles: readonly string[]
  readonly displayName?: string | undefined
  readonly email?: string | undefined
}

/**
 * `add <username> [password] [roles]`: creates a local account. Roles are checked against the
 * application's roles before anything is written; an existing name fails before the password is
 * asked for.
 */
export async function addUser(ctx: CommandContext, args: AddUserArgs): Promise<number> {
  requireUsername(args.username)
  checkPasswordSource(ctx, args)
  await checkRoles(ctx, args.roles)
  return withStore(
    ctx,
    async (store) => {
      if ((await store.accounts.get({ username: args.username })) !== null) throw new CLIError(`${quoteUser(args.username)} already exists`)
      const password = await readNewPassword(ctx, args, store)
      const user = await store.accounts.add({
        username: args.username,
        password,
        roles: args.roles,
        displayName: args.displayName,
        email: args.email,
      })
      if (ctx.json) {
        await ctx.printJSON(userView(user))
      } else {
        const roles = user.roles.length === 0 ? 'no roles' : `roles ${user.roles.map(escapeMessage).join(', ')}`
        await ctx.print(`created ${quoteUser(user.username)} with ${roles}`)
      }
      return EXIT_OK
    },
    { passwordPolicy: true },
  )
}
