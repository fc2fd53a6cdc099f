import 'reflect-metadata';
import { buildSchema, getOperationAST, parse, type GraphQLSchema } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.ts';
import { coneScanCost, listCost, pageCost } from '../../../src/resolvers/cost.ts';
import { buildFinkSchema } from '../../../src/resolvers/index.ts';
import {
  checkDocumentShape,
  costError,
  createCostAnalyzer,
  DEFAULT_LIST_SIZE,
  MAX_FRAGMENTS,
  MAX_SAME_KEY,
} from '../../../src/server/limits.ts';

const CONTEXT = { defaultPageSize: 50, maxPageSize: 500, maxIds: 1000, maxConeRadiusArcsec: 3600 };

/** A small schema with rules attached as type-graphql attaches them (field extensions). */
function testSchema(): { schema: GraphQLSchema; calls: { n: number } } {
  const schema = buildSchema(`
    type Query { node(id: String): Node  page(first: Int): [Node]  plain: [Node] }
    type Node { id: String  child: Node  children: [Node] }
  `);
  const calls = { n: 0 };
  const counted =
    (rule: ReturnType<typeof listCost>): ReturnType<typeof listCost> =>
    (args) => {
      calls.n++;
      return rule(args);
    };
  const set = (type: string, field: string, rule: ReturnType<typeof listCost>) => {
    const definition = (
      schema.getType(type) as { getFields(): Record<string, { extensions: unknown }> }
    ).getFields()[field]!;
    definition.extensions = { complexity: counted(rule) };
  };
  set('Query', 'page', pageCost(100));
  set('Node', 'children', listCost(10));
  return { schema, calls };
}

function analyze(schema: GraphQLSchema, query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  return createCostAnalyzer(schema, CONTEXT)(document, getOperationAST(document)!, variables);
}

describe('cost analysis', () => {
  it.each([
    ['one field', '{ node { id } }', 2],
    ['each alias counted', '{ a: node { id } b: node { id } c: node { id } }', 6],
    ['a page: base + first x (1 + children)', '{ page(first: 20) { id } }', 100 + 20 * 2],
    ['the default page size when first is absent', '{ page { id } }', 100 + 50 * 2],
    [
      'first capped at the largest page (the resolver refuses more)',
      '{ page(first: 100000) { id } }',
      100 + 500 * 2,
    ],
    ['nested lists multiply', '{ node { children { children { id } } } }', 1 + 10 * (1 + 10 * 2)],
    ['a list without a rule', '{ plain { id } }', DEFAULT_LIST_SIZE * 2],
    [
      'a fragment costs what its fields cost',
      '{ node { ...F } } fragment F on Node { id child { id } }',
      1 + 3,
    ],
    [
      'a fragment spread twice in one selection counts once',
      '{ node { ...F ...F } } fragment F on Node { id }',
      2,
    ],
    ['skipped fields cost nothing', '{ node { id child @skip(if: true) { id } } }', 2],
  ])('%s', (_name, query, expected) => {
    expect(analyze(testSchema().schema, query).cost).toBe(expected);
  });

  it('reads page sizes from variables', () => {
    const { schema } = testSchema();
    expect(analyze(schema, 'query($n: Int) { page(first: $n) { id } }', { n: 7 }).cost).toBe(100 + 7 * 2);
  });

  it('prices 10 fragments each spreading the next 10 times (under different aliases) without expanding them', () => {
    const { schema, calls } = testSchema();
    const fragments = Array.from({ length: 10 }, (_, level) => {
      const next =
        level === 9
          ? 'id'
          : Array.from({ length: 10 }, (_, k) => `a${k}: child { ...F${level + 1} }`).join(' ');
      return `fragment F${level} on Node { ${next} children { id } }`;
    }).join('\n');
    const result = analyze(schema, `{ node { ...F0 } } ${fragments}`);
    // Each level multiplies by 10: ~10^10 units, far over any budget.
    expect(result.cost).toBeGreaterThan(1e10);
    // Memoised: each fragment's fields were priced once (one `children` rule call per fragment).
    expect(calls.n).toBe(10);
    expect(costError(result, { maxCost: 200_000, maxDepth: 100 })?.message).toMatch(
      /^operation cost \d{11} exceeds the limit of 200000 \(server\.maxCost\)/,
    );
  });

  it.each([
    ['{ node { id } }', 2, 0],
    ['{ node { child { child { id } } } }', 3, 1],
    ['{ node { child { child { id } } } }', 4, 0],
    // Fragments count where they are spread.
    ['{ node { ...F } } fragment F on Node { child { child { id } } }', 3, 1],
    ['{ node { ... on Node { child { child { id } } } } }', 3, 1],
    // Introspection is bounded by the schema and not counted.
    ['{ __schema { types { fields { type { ofType { name } } } } } }', 2, 0],
  ])('depth of %s with limit %i -> %i errors', (query, maxDepth, errors) => {
    const cost = analyze(testSchema().schema, query);
    expect(costError(cost, { maxCost: 1e9, maxDepth }) === null ? 0 : 1).toBe(errors);
  });

  it('names the depth and the limit', () => {
    const cost = analyze(testSchema().schema, '{ node { child { child { id } } } }');
    expect(costError(cost, { maxCost: 1e9, maxDepth: 2 })?.message).toBe(
      'operation depth 4 exceeds the limit of 2 (server.maxDepth)',
    );
  });
});

describe('document shape', () => {
  it('refuses more fragment definitions than MAX_FRAGMENTS', () => {
    const fragments = (n: number) =>
      `{ node { id } } ` + Array.from({ length: n }, (_, i) => `fragment F${i} on Node { id }`).join(' ');
    expect(checkDocumentShape(parse(fragments(MAX_FRAGMENTS)))).toBeNull();
    expect(checkDocumentShape(parse(fragments(MAX_FRAGMENTS + 1)))?.message).toBe(
      `a document holds at most ${MAX_FRAGMENTS} fragment definitions (it has ${MAX_FRAGMENTS + 1})`,
    );
  });

  it('refuses one response key selected more than MAX_SAME_KEY times in one selection set', () => {
    const repeated = (n: number) => `{ node { ${'id '.repeat(n)} ... on Node { id } } }`;
    expect(checkDocumentShape(parse(repeated(MAX_SAME_KEY - 1)))).toBeNull();
    expect(checkDocumentShape(parse(repeated(MAX_SAME_KEY)))?.extensions.code).toBe(
      'GRAPHQL_VALIDATION_FAILED',
    );
  });
});

describe('the Fink schema, priced', () => {
  let schema: GraphQLSchema;
  const config = loadConfig({ env: {} }).server;
  beforeAll(async () => {
    schema = await buildFinkSchema();
  });

  const costOf = (query: string, variables: Record<string, unknown> = {}) => {
    const document = parse(query);
    return createCostAnalyzer(schema, config)(document, getOperationAST(document)!, variables).cost;
  };

  it('lets the dashboard and GraphiQL queries through', () => {
    const objectPage = `query($id: String!) { object(objectId: $id) {
      objectId survey ra dec band label mag peakMag ndet nlim firstJd lastJd rate rising colorGr ssName roid lastAlertId
      cutouts { science { png fits } template { png fits } difference { png fits } }
      lightCurve { jd band kind mag magErr limitMag sourceId }
      classification { alertId jd label version processedAt scores { classifier label score version } }
      classificationHistory { alertId jd label version processedAt scores { classifier version } }
      crossmatches { catalog sourceId type distanceArcsec alertId }
      watchlists { id name owner public targetCount } } }`;
    const stats = `{ nightStats(fromNight: "2017-01-01", toNight: "2026-12-31") { night alerts objects byClass { label alerts objects } }
      classes { label alerts objects } }`;
    const search = `{ search(filter: {}, first: 500) { endCursor hasNextPage items { alertId objectId survey jd band mag magErr label ra dec ndet } } }`;
    for (const query of [objectPage, stats, search]) expect(costOf(query)).toBeLessThan(config.maxCost);
  });

  it('refuses 1,000 aliases of search(first: 500) and of a 3600" cone', () => {
    const searches = Array.from(
      { length: 1000 },
      (_, i) => `s${i}: search(filter: {}, first: 500) { items { alertId } }`,
    );
    expect(costOf(`{ ${searches.join(' ')} }`)).toBeGreaterThan(config.maxCost * 5);
    const cones = Array.from(
      { length: 1000 },
      (_, i) => `c${i}: coneSearch(ra: 10, dec: 10, radiusArcsec: 3600) { distanceArcsec }`,
    );
    expect(costOf(`{ ${cones.join(' ')} }`)).toBeGreaterThan(config.maxCost * 5);
  });

  it('prices a cone by its area', () => {
    expect(coneScanCost(3600)).toBe(Math.ceil(Math.PI * 3600));
    const small = costOf('{ coneSearch(ra: 1, dec: 1, radiusArcsec: 10, first: 10) { distanceArcsec } }');
    const large = costOf('{ coneSearch(ra: 1, dec: 1, radiusArcsec: 3600, first: 10) { distanceArcsec } }');
    expect(small).toBe(10 + 1 + 10 * 2);
    expect(large - small).toBe(coneScanCost(3600) - coneScanCost(10));
  });

  it('prices id lists by their length and objects with their light curves', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `ZTF${i}`);
    expect(costOf('query($ids: [String!]!) { objects(objectIds: $ids) { objectId } }', { ids })).toBe(
      100 * 2,
    );
    expect(costOf('{ object(objectId: "x") { lightCurve { jd mag } } }')).toBe(1 + 200 * 3);
  });
});
