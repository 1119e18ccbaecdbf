import type { CommandContext } from '../context.js'
import { EXIT_OK } from '../errors.js'
import { notFound, quoteUser, requireUsername, withStore } from './shared.js'

/**
 * `revoke-sessions <username>`: "sign out everywhere". Ends every open session of the user, in
 * every instance of the application (their next request with an old cookie is refused), and
 * changes nothing else: the account stays enabled and the user may log in again at once.
 */
export async function revokeSessions(ctx: CommandContext, args: { readonly username: string }): Promise<number> {
  requireUsername(args.username)
  return withStore(ctx, async (store) => {
    const existing = await store.accounts.get({ username: args.username })
    if (existing === null) throw notFound(args.username)
    const user = await store.accounts.endSessions({ username: existing.username })
    if (ctx.json) await ctx.printJSON({ username: user.username, id: user.id, sessionsRevoked: true })
    else await ctx.print(`ended every session of ${quoteUser(user.username)}; they can sign in again`)
    return EXIT_OK
  })
}
