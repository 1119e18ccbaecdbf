import type { CommandContext } from '../context.js'
import { EXIT_OK, UsageError } from '../errors.js'
import { escapeMessage } from '../escape.js'
import { userView } from '../format.js'
import { checkRoles, notFound, quoteUser, requireUsername, withStore } from './shared.js'

/** Arguments of {@link changeRoles}: exactly one of the three. */
export interface ChangeRolesArgs {
  readonly username: string
  readonly add?: readonly string[] | undefined
  readonly remove?: readonly string[] | undefined
  readonly set?: readonly string[] | undefined
}

/**
 * `roles <username> --add/--remove/--set <roles>`: changes the user's roles in one transaction
 * and ends their open sessions (their permissions changed). Roles to add or set are checked
 * against the application's roles; roles to remove are not, so a role the application dropped
 * can still be taken away.
 */
export async function changeRoles(ctx: CommandContext, args: ChangeRolesArgs): Promise<number> {
  requireUsername(args.username)
  const given = [args.add, args.remove, args.set].filter((value) => value !== undefined)
  if (given.length !== 1) throw new UsageError('give exactly one of --add, --remove or --set')
  if (args.add !== undefined && args.add.length === 0) throw new UsageError('--add needs at least one role')
  if (args.remove !== undefined && args.remove.length === 0) throw new UsageError('--remove needs at least one role')
  const catalog = await checkRoles(ctx, args.add ?? args.set ?? [])
  return withStore(ctx, async (store) => {
    const existing = await store.accounts.get({ username: args.username })
    if (existing === null) throw notFound(args.username)
    const username = existing.username
    const user =
      args.set !== undefined
        ? await store.accounts.setRoles({ username, roles: args.set })
        : args.add !== undefined
          ? await store.accounts.addRoles({ username, roles: args.add })
          : await store.accounts.removeRoles({ username, roles: args.remove ?? [] })
    if (ctx.json) {
      await ctx.printJSON(userView(user, catalog?.permissionsOf(user.roles)))
    } else {
      const roles = user.roles.length === 0 ? 'no roles' : user.roles.map(escapeMessage).join(', ')
      await ctx.print(`${quoteUser(user.username)} now has ${user.roles.length === 0 ? roles : `roles ${roles}`}; their sessions are ended`)
    }
    return EXIT_OK
  })
}
