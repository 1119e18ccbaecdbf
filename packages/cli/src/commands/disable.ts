import type { CommandContext } from '../context.js'
import { EXIT_OK } from '../errors.js'
import { userView } from '../format.js'
import { notFound, quoteUser, requireUsername, withStore } from './shared.js'

/**
 * `disable <username>` / `enable <username>`: a disabled user cannot log in and their open
 * sessions end at once. Both are idempotent: disabling a disabled user succeeds and says so.
 */
export async function setDisabled(ctx: CommandContext, args: { readonly username: string; readonly disabled: boolean }): Promise<number> {
  requireUsername(args.username)
  return withStore(ctx, async (store) => {
    const existing = await store.accounts.get({ username: args.username })
    if (existing === null) throw notFound(args.username)
    const verb = args.disabled ? 'disabled' : 'enabled'
    if (existing.disabled === args.disabled) {
      if (ctx.json) await ctx.printJSON(userView(existing))
      else await ctx.print(`${quoteUser(existing.username)} was already ${verb}`)
      return EXIT_OK
    }
    const user = await store.accounts.setDisabled({ username: existing.username, disabled: args.disabled })
    if (ctx.json) await ctx.printJSON(userView(user))
    else await ctx.print(`${verb} ${quoteUser(user.username)}${args.disabled ? '; their sessions are ended' : ''}`)
    return EXIT_OK
  })
}
