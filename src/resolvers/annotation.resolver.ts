// Annotations: read one with its history, add, edit (a new version), retract; and on AstroObject its
// annotations, votes and consensus. Writes need the annotator role; only the author or an admin may edit or
// retract. Each write publishes an event for subscribers (the write stands even if publishing fails).
// type-graphql reads decorator metadata through Reflect: loaded before any decorated class is defined.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Arg, Authorized, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { badInput, conflict, forbidden, notFound } from './errors.ts';
import type { ServerEvent } from '../events.ts';
import type { Viewer } from './viewer.ts';
import { hasRole } from './viewer.ts';
import type { AnnotationRecord } from '../storage/annotation-store.ts';
import { AnnotationInput } from './annotation.input.ts';
import { Annotation, toAnnotation } from './annotation.type.ts';
import { checkAnnotationInput, checkObjectId } from './annotation.validate.ts';
import type { CollabContext } from './collab-loaders.ts';
import { assertObjectExists } from './object-exists.ts';
import { AstroObject } from './object.type.ts';
import { computeConsensus } from './vote.consensus.ts';
import { Consensus, toConsensus, toVote, Vote } from './vote.type.ts';

/** Annotation ids are UUIDs; anything else cannot be one, and is refused before reading storage. */
const ANNOTATION_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

@Resolver(() => Annotation)
export class AnnotationResolver {
  @Query(() => Annotation, {
    nullable: true,
    description: 'The current version of an annotation (retracted ones too); null when unknown.',
  })
  async annotation(
    @Arg('id', () => String) id: string,
    @Ctx() ctx: CollabContext,
  ): Promise<Annotation | null> {
    if (!ANNOTATION_ID_PATTERN.test(id)) return null;
    const record = await ctx.loaders.collab.annotationById.load(id);
    return record === null ? null : toAnnotation(record);
  }

  @FieldResolver(() => [Annotation], { description: 'Every version of this annotation, oldest first.' })
  async history(@Root() annotation: Annotation, @Ctx() ctx: CollabContext): Promise<Annotation[]> {
    return (await ctx.loaders.collab.historyById.load(annotation.id)).map(toAnnotation);
  }

  @Authorized('annotator')
  @Mutation(() => Annotation, {
    description:
      'Annotates an object (needs the annotator role); NOT_FOUND when the archive has no such object.',
  })
  async addAnnotation(
    @Arg('objectId', () => String) objectId: string,
    @Arg('input', () => AnnotationInput) input: AnnotationInput,
    @Ctx() ctx: CollabContext,
  ): Promise<Annotation> {
    const viewer = requireViewer(ctx);
    const object = checkObjectId('objectId', objectId);
    const content = checkAnnotationInput('input', input);
    await assertObjectExists(ctx.loaders.object, object);
    const now = wholeSeconds();
    const record: AnnotationRecord = {
      annotationId: randomUUID(),
      version: 1,
      objectId: object,
      author: viewer.user,
      ...content,
      retracted: false,
      createdAt: now,
      updatedAt: now,
    };
    await ctx.stores.annotations.writeAnnotations([record]);
    await published(ctx, record);
    return toAnnotation(record);
  }

  @Authorized('annotator')
  @Mutation(() => Annotation, {
    description:
      "Replaces an annotation's content with a new version (its author or an admin). A compare-and-set: " +
      '`version` is the version the edit starts from (the current one the client read); when another edit ' +
      'came first the answer is CONFLICT and nothing is written: read the annotation again and edit that.',
  })
  async editAnnotation(
    @Arg('annotationId', () => String) annotationId: string,
    @Arg('version', () => Int, { description: 'The version this edit replaces.' }) version: number,
    @Arg('input', () => AnnotationInput) input: AnnotationInput,
    @Ctx() ctx: CollabContext,
  ): Promise<Annotation> {
    const content = checkAnnotationInput('input', input);
    const written = await changeAnnotation(ctx, annotationId, 'edit', version, (current) => {
      if (current.retracted) throw badInput('annotationId', 'the annotation is retracted');
      return { ...current, ...content, version: current.version + 1, updatedAt: wholeSeconds() };
    });
    return toAnnotation(written);
  }

  @Authorized('annotator')
  @Mutation(() => Annotation, {
    description:
      'Withdraws an annotation (its author or an admin); it stays readable, marked retracted. With `version`, ' +
      'a compare-and-set like editAnnotation.',
  })
  async retractAnnotation(
    @Arg('annotationId', () => String) annotationId: string,
    @Arg('version', () => Int, { nullable: true, description: 'The version this retraction replaces.' })
    version: number | null | undefined,
    @Ctx() ctx: CollabContext,
  ): Promise<Annotation> {
    const written = await changeAnnotation(ctx, annotationId, 'retract', version ?? undefined, (current) =>
      // Retracting twice changes nothing: no new version.
      current.retracted
        ? null
        : { ...current, version: current.version + 1, retracted: true, updatedAt: wholeSeconds() },
    );
    return toAnnotation(written);
  }
}

@Resolver(() => AstroObject)
export class ObjectAnnotationsResolver {
  @FieldResolver(() => [Annotation], { description: 'Annotations on this object, oldest first.' })
  async annotations(
    @Root() object: AstroObject,
    @Arg('includeRetracted', () => Boolean, { defaultValue: false }) includeRetracted: boolean,
    @Ctx() ctx: CollabContext,
  ): Promise<Annotation[]> {
    const records = await ctx.loaders.collab.annotationsByObject.load(object.objectId);
    return records.filter((record) => includeRetracted || !record.retracted).map(toAnnotation);
  }

  @FieldResolver(() => [Vote], { description: "Every user's current classification vote on this object." })
  async votes(@Root() object: AstroObject, @Ctx() ctx: CollabContext): Promise<Vote[]> {
    return (await ctx.loaders.collab.votesByObject.load(object.objectId)).map(toVote);
  }

  @FieldResolver(() => Consensus, { description: 'The community classification from the votes.' })
  async consensus(@Root() object: AstroObject, @Ctx() ctx: CollabContext): Promise<Consensus> {
    const votes = await ctx.loaders.collab.votesByObject.load(object.objectId);
    return toConsensus(object.objectId, computeConsensus(votes));
  }
}

/** @Authorized has run: a viewer is there; this narrows the type. */
export function requireViewer(ctx: CollabContext): Viewer {
  if (ctx.viewer === null) throw new Error('an @Authorized resolver ran without a viewer');
  return ctx.viewer;
}

/**
 * Changes an annotation as a compare-and-set (AnnotationStore.change): NOT_FOUND, FORBIDDEN for one who is
 * neither its author nor an admin, CONFLICT when `expectedVersion` is given and is not the current version.
 * `next` builds the new version from the current one (null: nothing to write). Resolves with the annotation as
 * it now is.
 */
async function changeAnnotation(
  ctx: CollabContext,
  annotationId: string,
  action: 'edit' | 'retract',
  expectedVersion: number | undefined,
  next: (current: AnnotationRecord) => AnnotationRecord | null,
): Promise<AnnotationRecord> {
  const viewer = requireViewer(ctx);
  if (!ANNOTATION_ID_PATTERN.test(annotationId)) throw notFound(`annotation ${annotationId}`);
  const { before, written } = await ctx.stores.annotations.change(annotationId, (current) => {
    if (current === undefined) throw notFound(`annotation ${annotationId}`);
    if (current.author !== viewer.user && !hasRole(viewer, 'admin')) {
      throw forbidden(`only the author of an annotation or an admin may ${action} it`);
    }
    if (expectedVersion !== undefined && current.version !== expectedVersion) {
      throw conflict(
        `annotation ${annotationId} is at version ${current.version}, not ${expectedVersion}: ` +
          'another change came first; read it again and change that version',
      );
    }
    return next(current);
  });
  if (written === null) {
    // change() throws NOT_FOUND when there is no annotation: nothing written means it stayed as it was.
    if (before === undefined) throw notFound(`annotation ${annotationId}`);
    return before;
  }
  await published(ctx, written);
  return written;
}

async function published(ctx: CollabContext, record: AnnotationRecord): Promise<void> {
  const loaders = ctx.loaders.collab;
  loaders.annotationById.clear(record.annotationId);
  loaders.historyById.clear(record.annotationId);
  loaders.annotationsByObject.clear(record.objectId);
  await publish(ctx, {
    type: 'annotation',
    annotationId: record.annotationId,
    version: record.version,
    objectId: record.objectId,
  });
}

/**
 * Publishes after the write. A failure is logged, not returned: the write is done, and an error would make the
 * client retry and write it twice; subscribers miss one event.
 */
export async function publish(ctx: CollabContext, event: ServerEvent): Promise<void> {
  try {
    await ctx.events.publish([event]);
  } catch (err) {
    ctx.logger.warn({ err, event: event.type }, 'event not published after a write');
  }
}

/** DateTime columns keep whole seconds: the answer carries what a later read returns. */
export function wholeSeconds(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}
