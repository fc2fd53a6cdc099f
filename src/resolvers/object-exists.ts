// Writes about an object (annotations, votes, follow-up requests) name an object the archive holds: one on an id
// it does not hold is NOT_FOUND, not a note nobody can reach from an object page.
import { notFound } from './errors.ts';

/** The request's object loader (ServerContext's `loaders.object`): null for an unknown id. */
export interface ObjectLookup {
  load(objectId: string): Promise<unknown>;
}

export async function assertObjectExists(objects: ObjectLookup, objectId: string): Promise<void> {
  if ((await objects.load(objectId)) === null) throw notFound(`object ${objectId}`);
}
