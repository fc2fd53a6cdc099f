// Operations refused before they run: too deep (a query nesting object -> alerts -> object -> alerts ... can
// multiply work without bound) or too costly (lists of lists). HTTP and WebSocket operations are checked the
// same way and the client gets GRAPHQL_VALIDATION_FAILED naming the limit.
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import { createRequire } from 'node:module';
import type * as QueryComplexity from 'graphql-query-complexity';

// The CommonJS build, on purpose: the ESM one imports 'graphql/index.mjs', a second copy of graphql next to the
// one everything else loads ('graphql' resolves to index.js under Node), and graphql refuses a schema from
// "another realm".
const { fieldExtensionsEstimator, getComplexity, simpleEstimator } = createRequire(import.meta.url)(
  'graphql-query-complexity',
) as typeof QueryComplexity;

export function depthLimitRule(maxDepth: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const depthOf = (set: SelectionSetNode, seen: Set<string>): number => {
      let deepest = 0;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          // Introspection (__schema, __type) is deep by nature and bounded by the schema itself.
          if (selection.name.value.startsWith('__')) continue;
          const below = selection.selectionSet === undefined ? 0 : depthOf(selection.selectionSet, seen);
          deepest = Math.max(deepest, 1 + below);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, seen));
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // A fragment cycle is reported by graphql's own NoFragmentCycles rule.
          if (fragment === undefined || seen.has(name)) continue;
          deepest = Math.max(deepest, depthOf(fragment.selectionSet, new Set([...seen, name])));
        }
      }
      return deepest;
    };
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, new Set());
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`operation depth ${depth} exceeds the limit of ${maxDepth}`, {
              nodes: [operation],
            }),
          );
        }
      },
    };
  };
}

/**
 * Cost: 1 per field unless the field declares its own (type-graphql `complexity` option, for fields that read a
 * list per parent). Checked once variables are known (a page size may come from a variable); returns the error
 * to report, or null.
 */
export function complexityError(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
  maxComplexity: number,
): GraphQLError | null {
  let complexity: number;
  try {
    complexity = getComplexity({
      schema,
      query: document,
      operationName,
      variables: variables ?? {},
      estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
    });
  } catch (error) {
    // Invalid variables: execution reports them with their own message. Anything else is a bug, not a pass.
    if (error instanceof GraphQLError) return null;
    throw error;
  }
  return complexity > maxComplexity
    ? new GraphQLError(`operation complexity ${complexity} exceeds the limit of ${maxComplexity}`, {
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      })
    : null;
}
