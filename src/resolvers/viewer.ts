// Who is asking. Roles are ordered: an annotator may do what a reader does, an admin what an annotator does.
import { ROLES, type Role } from '../storage/token-store.ts';

export { ROLES, type Role };

export interface Viewer {
  user: string;
  role: Role;
  /** Id of the token used (never the token itself). */
  tokenId: string;
}

export function hasRole(viewer: Viewer | null, needed: Role): boolean {
  return viewer !== null && ROLES.indexOf(viewer.role) >= ROLES.indexOf(needed);
}
