import { Permission, Role, RoleRegistry } from '@gatehouse/core'

// The demo's permissions and roles, as in the original Python demo. Also the module that
// `auth-user-admin --config examples/demo/src/roles.ts` loads to validate role names.
export const VIEW = new Permission({ name: 'view', description: 'Read entries' })
export const EDIT = new Permission({ name: 'edit', description: 'Add entries' })
export const DELETE = new Permission({ name: 'delete', description: 'Delete entries' })

export const roles = new RoleRegistry([
  new Role({ name: 'Administrator', description: 'Everything', permissions: [VIEW, EDIT, DELETE] }),
  new Role({ name: 'User', description: 'Read and write', permissions: [VIEW, EDIT] }),
  new Role({ name: 'Viewer', description: 'Read only', permissions: [VIEW] }),
])
