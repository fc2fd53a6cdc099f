// castVote: a user's classification vote on an object; a new vote replaces the user's previous one.
// type-graphql reads decorator metadata through Reflect: loaded before any decorated class is defined.
import 'reflect-metadata';
import { Arg, Authorized, Ctx, Float, Mutation, Resolver } from 'type-graphql';
import { badInput } from './errors.ts';
import { isVoteLabel } from '../pipeline/classifiers/vocabulary.ts';
import type { VoteRecord } from '../storage/vote-store.ts';
import { publish, requireViewer, wholeSeconds } from './annotation.resolver.ts';
import { checkLabel, checkObjectId, checkText } from './annotation.validate.ts';
import type { CollabContext } from './collab-loaders.ts';
import { assertObjectExists } from './object-exists.ts';
import { toVote, Vote } from './vote.type.ts';

export const VOTE_LIMITS = { labelChars: 64, commentChars: 2000 } as const;

/** Checks castVote's arguments (BAD_USER_INPUT naming the argument) and answers the vote's content. */
export function checkVote(args: {
  objectId: string;
  label: string;
  confidence: number;
  comment?: string | null;
}): Pick<VoteRecord, 'objectId' | 'label' | 'confidence' | 'comment'> {
  const objectId = checkObjectId('objectId', args.objectId);
  const label = checkLabel('label', args.label, VOTE_LIMITS.labelChars);
  if (!isVoteLabel(label)) {
    throw badInput(
      'label',
      `'${label}' is not in the vote vocabulary (Fink's labels, SIMBAD object types, TNS types: query voteLabels)`,
    );
  }
  if (!Number.isFinite(args.confidence) || args.confidence < 0 || args.confidence > 1) {
    throw badInput('confidence', 'must be between 0 and 1');
  }
  const comment =
    args.comment === undefined || args.comment === null || args.comment.trim() === ''
      ? null
      : checkText('comment', args.comment, VOTE_LIMITS.commentChars);
  return { objectId, label, confidence: args.confidence, comment };
}

@Resolver(() => Vote)
export class VoteResolver {
  @Authorized('annotator')
  @Mutation(() => Vote, {
    description:
      "Votes on an object's class (needs the annotator role); replaces your previous vote on it. NOT_FOUND when " +
      'the archive has no such object.',
  })
  async castVote(
    @Arg('objectId', () => String) objectId: string,
    @Arg('label', () => String, {
      description: 'One of `voteLabels`: a Fink label, a SIMBAD object type or a TNS type, as written there.',
    })
    label: string,
    @Arg('confidence', () => Float, { description: '0 to 1.' }) confidence: number,
    @Arg('comment', () => String, { nullable: true, description: 'Up to 2000 characters.' })
    comment: string | null | undefined,
    @Ctx() ctx: CollabContext,
  ): Promise<Vote> {
    const viewer = requireViewer(ctx);
    const vote: VoteRecord = {
      ...checkVote({ objectId, label, confidence, comment }),
      user: viewer.user,
      createdAt: wholeSeconds(),
    };
    await assertObjectExists(ctx.loaders.object, vote.objectId);
    await ctx.stores.votes.write([vote]);
    ctx.loaders.collab.votesByObject.clear(vote.objectId);
    await publish(ctx, { type: 'vote', objectId: vote.objectId, user: vote.user, label: vote.label });
    return toVote(vote);
  }
}
