// Archive search with the filter language (src/filters): the same definition a live subscription or a
// distributed filter uses, compiled to SQL. Pages are keyset cursors over (jd, alertId), newest first, so a page
// costs the same however deep the client has paged, and alerts stored meanwhile never shift later pages.
import { Arg, Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import type { ServerContext } from './context.ts';
import { badInput } from './errors.ts';
import type { SearchCursor } from '../storage/alert-store.ts';
import { Alert } from './alert.type.ts';
import { pageSizeArg } from './arguments.ts';
import { classFilterArg } from './classes.ts';
import { AlertFilterInput } from './filter.input.ts';
import { toAlert } from './mappers.ts';
import { listCost, pageCost, SCAN_COST } from './cost.ts';

@ObjectType({ description: 'A page of alerts, newest first.' })
export class AlertPage {
  @Field(() => [Alert], { complexity: listCost(1), description: 'The alerts of this page.' })
  items!: Alert[];

  @Field(() => String, { nullable: true, description: 'Pass as `after` for the next page.' })
  endCursor!: string | null;

  @Field(() => Boolean)
  hasNextPage!: boolean;
}

export function encodeCursor(cursor: SearchCursor): string {
  return Buffer.from(`${cursor.jd}:${cursor.alertId}`, 'utf8').toString('base64url');
}

export function decodeCursor(text: string, argument: string): SearchCursor {
  const match = /^(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?):(\d{1,20})$/.exec(
    Buffer.from(text, 'base64url').toString('utf8'),
  );
  const jd = Number(match?.[1]);
  if (match === null || !Number.isFinite(jd)) throw badInput(argument, 'is not a cursor this API returned');
  return { jd, alertId: BigInt(match[2]!) };
}

@Resolver()
export class SearchResolver {
  @Query(() => AlertPage, {
    description: 'Alerts matching a filter, newest first, by pages.',
    complexity: pageCost(SCAN_COST),
  })
  async search(
    @Arg('filter', () => AlertFilterInput) filter: AlertFilterInput,
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: ServerContext,
  ): Promise<AlertPage> {
    const size = pageSizeArg(first, 'first', ctx.config);
    const cursor = after == null ? null : decodeCursor(after, 'after');
    const spec = await classFilterArg(filter, 'filter', ctx);
    // One row more than the page tells whether another page follows.
    const records = await ctx.stores.alerts.search(spec, cursor, size + 1);
    const page = records.slice(0, size);
    const last = page.at(-1);
    return {
      items: page.map((record) => toAlert(record, ctx.baseUrl)),
      endCursor: last === undefined ? null : encodeCursor({ jd: last.jd, alertId: last.alertId }),
      hasNextPage: records.length > size,
    };
  }
}
