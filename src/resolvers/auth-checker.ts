// type-graphql's role check for `@Authorized(...)` fields.
import type { AuthCheckerFn } from 'type-graphql';
import type { ServerContext } from './context.ts';
import { forbidden, unauthenticated } from './errors.ts';
import { hasRole, ROLES, type Role } from './viewer.ts';

/**
 * type-graphql's check for `@Authorized('annotator')`: roles are ordered (reader < annotator < admin), so the
 * least of the listed roles is what the viewer needs; no roles listed means any viewer. Throws our errors, so
 * clients see UNAUTHENTICATED / FORBIDDEN rather than type-graphql's generic message.
 */
export const authChecker: AuthCheckerFn<ServerContext, Role> = ({ context, info }, roles) => {
  const viewer = context.viewer;
  if (viewer === null) throw unauthenticated(`${info.fieldName} needs an API token`);
  if (roles.length === 0) return true;
  const needed = ROLES.find((role) => roles.includes(role));
  // A role name the code does not know (a typo in a decorator) grants nothing.
  if (needed === undefined) throw forbidden(`${info.fieldName} is not available`);
  if (!hasRole(viewer, needed)) throw forbidden(`${info.fieldName} needs the ${needed} role`);
  return true;
};
