import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { complexityError, depthLimitRule } from '../../../src/server/limits.ts';

const schema = buildSchema(`
  type Query { node(id: String): Node }
  type Node { id: String  child: Node  children: [Node] }
`);

function depthErrors(query: string, max: number) {
  return validate(schema, parse(query), [depthLimitRule(max)]).map((error) => error.message);
}

describe('depthLimitRule', () => {
  it.each([
    ['{ node { id } }', 2, 0],
    ['{ node { child { child { id } } } }', 3, 1],
    ['{ node { child { child { id } } } }', 4, 0],
    // Fragments count where they are spread.
    ['{ node { ...F } } fragment F on Node { child { child { id } } }', 3, 1],
    ['{ node { ... on Node { child { child { id } } } } }', 3, 1],
    // Introspection is bounded by the schema and not counted.
    ['{ __schema { types { fields { type { ofType { name } } } } } }', 2, 0],
  ])('%s with limit %i -> %i errors', (query, max, errors) => {
    expect(depthErrors(query, max)).toHaveLength(errors);
  });

  it('names the depth and the limit', () => {
    expect(depthErrors('{ node { child { child { id } } } }', 2)[0]).toBe(
      'operation depth 4 exceeds the limit of 2',
    );
  });
});

describe('complexityError', () => {
  it('refuses an operation costlier than the limit and accepts one within it', () => {
    const query = parse('{ a: node { id } b: node { id } c: node { id } }');
    expect(complexityError(schema, query, undefined, {}, 10)).toBeNull();
    expect(complexityError(schema, query, undefined, {}, 5)?.message).toBe(
      'operation complexity 6 exceeds the limit of 5',
    );
  });
});
