import type { CommandContext } from '../context.js'
import { EXIT_OK } from '../errors.js'
import { userView } from '../format.js'
import type { PasswordSource } from './shared.js'
import { checkPasswordSource, notFound, quoteUser, readNewPassword, requireUsername, withStore } from './shared.js'

/**
 * `set-password <username> [new-password]`: replaces the password and ends the user's open
 * sessions. An unknown user fails before the password is asked for.
 */
export async function setPassword(ctx: CommandContext, args: PasswordSource & { readonly username: string }): Promise<number> {
  requireUsername(args.username)
  checkPasswordSource(ctx, args)
  return withStore(
    ctx,
    async (store) => {
      const existing = await store.accounts.get({ username: args.username })
      if (existing === null) throw notFound(args.username)
      const password = await readNewPassword(ctx, args, store)
      const user = await store.accounts.setPassword({ username: existing.username, password })
      if (ctx.json) await ctx.printJSON(userView(user))
      else await ctx.print(`changed the password of ${quoteUser(user.username)}; their sessions are ended`)
      return EXIT_OK
    },
    { passwordPolicy: true },
  )
}
