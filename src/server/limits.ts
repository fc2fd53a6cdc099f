// Operations refused before they run, in time linear in the size of the document:
//
// - document shape (checkDocumentShape), before graphql's own validation, whose OverlappingFieldsCanBeMerged
//   rule compares fields pairwise: at most MAX_FRAGMENTS fragment definitions, and one response key at most
//   MAX_SAME_KEY times in a selection set (900 fragments took graphql's validation 3 s; 1,000 fields of one
//   name with different arguments 0.4 s);
// - cost and depth (analyzeOperation): every field priced by the work it does, with the rule declared next to
//   the field (type-graphql's `complexity` option, src/resolvers/cost.ts), lists multiplying their children,
//   each alias counted. A fragment is priced once (its cost depends only on the operation's variables) and
//   its price reused wherever it is spread, so 10 fragments each spreading the next 10 times cost 10^10 units
//   and are refused in microseconds instead of being expanded.
//
// HTTP and WebSocket operations go through the same checks (src/server/operation.ts).
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  GraphQLError,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  Kind,
  SchemaMetaFieldDef,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { ComplexityEstimator } from 'graphql-query-complexity';
import type { CostContext } from '../resolvers/cost.ts';

/** Fragment definitions one document may hold. */
export const MAX_FRAGMENTS = 50;
/** Times one response key (alias or field name) may appear in one selection set, inline fragments included. */
export const MAX_SAME_KEY = 10;
/** Items a list field without a declared rule is priced at. */
export const DEFAULT_LIST_SIZE = 20;

/** A refusal before execution: GRAPHQL_VALIDATION_FAILED, with the figures in its extensions. */
function refused(message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', ...extensions } });
}

/** Linear checks that keep graphql's own validation cheap; null when the document passes. */
export function checkDocumentShape(document: DocumentNode): GraphQLError | null {
  const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION).length;
  if (fragments > MAX_FRAGMENTS) {
    return refused(`a document holds at most ${MAX_FRAGMENTS} fragment definitions (it has ${fragments})`);
  }
  const check = (set: SelectionSetNode): GraphQLError | null => {
    const keys = new Map<string, number>();
    const visit = (inner: SelectionSetNode): GraphQLError | null => {
      for (const selection of inner.selections) {
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          const n = (keys.get(key) ?? 0) + 1;
          keys.set(key, n);
          if (n > MAX_SAME_KEY) {
            return refused(`'${key}' is selected more than ${MAX_SAME_KEY} times in one selection set`);
          }
          if (selection.selectionSet !== undefined) {
            const error = check(selection.selectionSet);
            if (error !== null) return error;
          }
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const error = visit(selection.selectionSet);
          if (error !== null) return error;
        }
      }
      return null;
    };
    return visit(set);
  };
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION || definition.kind === Kind.FRAGMENT_DEFINITION) {
      const error = check(definition.selectionSet);
      if (error !== null) return error;
    }
  }
  return null;
}

export interface OperationCost {
  cost: number;
  /** Nesting of fields, introspection fields (bounded by the schema) not counted. */
  depth: number;
}

export type CostAnalyzer = (
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
) => OperationCost;

/** Introspection lists, priced at the schema's own average sizes (an introspection result is the schema). */
interface SchemaSizes {
  types: number;
  fields: number;
  args: number;
  enumValues: number;
  inputFields: number;
  directives: number;
}

function schemaSizes(schema: GraphQLSchema): SchemaSizes {
  const types = Object.values(schema.getTypeMap());
  const average = (counts: number[]) =>
    counts.length === 0 ? 1 : Math.ceil(counts.reduce((a, b) => a + b, 0) / counts.length);
  const fieldLists = types.flatMap((t) => (isObjectType(t) || isInterfaceType(t) ? [t.getFields()] : []));
  return {
    types: types.length,
    fields: average(fieldLists.map((fields) => Object.keys(fields).length)),
    args: average(fieldLists.flatMap((fields) => Object.values(fields).map((f) => f.args.length))),
    enumValues: average(types.flatMap((t) => (isEnumType(t) ? [t.getValues().length] : []))),
    inputFields: average(
      types.flatMap((t) => (isInputObjectType(t) ? [Object.keys(t.getFields()).length] : [])),
    ),
    directives: schema.getDirectives().length,
  };
}

function introspectionListSize(field: string, sizes: SchemaSizes): number {
  switch (field) {
    case 'types':
      return sizes.types;
    case 'fields':
      return sizes.fields;
    case 'args':
      return sizes.args;
    case 'enumValues':
      return sizes.enumValues;
    case 'inputFields':
      return sizes.inputFields;
    case 'directives':
      return sizes.directives;
    default:
      return 10;
  }
}

function isList(type: GraphQLOutputType): boolean {
  return isListType(isNonNullType(type) ? type.ofType : type);
}

/**
 * The analyzer of a schema. It runs before graphql's validation, on documents that may be invalid: an unknown
 * field costs 1 and its selection is priced as plain fields; arguments that do not coerce are left out (the
 * estimator sees them absent). Validation reports those errors afterwards.
 */
export function createCostAnalyzer(schema: GraphQLSchema, costContext: CostContext): CostAnalyzer {
  const sizes = schemaSizes(schema);

  return (document, operation, variables) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const memo = new Map<string, OperationCost>();
    const inProgress = new Set<string>();

    const included = (node: FieldNode | { directives?: FieldNode['directives'] }): boolean => {
      if (node.directives === undefined || node.directives.length === 0) return true;
      try {
        const skip = getDirectiveValues(GraphQLSkipDirective, node, variables);
        if (skip?.if === true) return false;
        const include = getDirectiveValues(GraphQLIncludeDirective, node, variables);
        return include?.if !== false;
      } catch {
        return true;
      }
    };

    const fieldDefinition = (
      parent: GraphQLNamedType | undefined,
      name: string,
    ): GraphQLField<unknown, unknown> | undefined => {
      if (name === '__typename') return TypeNameMetaFieldDef;
      if (name === '__schema' && parent === schema.getQueryType()) return SchemaMetaFieldDef;
      if (name === '__type' && parent === schema.getQueryType()) return TypeMetaFieldDef;
      return parent !== undefined && (isObjectType(parent) || isInterfaceType(parent))
        ? parent.getFields()[name]
        : undefined;
    };

    const fieldCost = (parent: GraphQLNamedType | undefined, node: FieldNode): OperationCost => {
      const definition = fieldDefinition(parent, node.name.value);
      const childType = definition === undefined ? undefined : getNamedType(definition.type);
      const child =
        node.selectionSet === undefined
          ? { cost: 0, depth: 0 }
          : selectionSetCost(isCompositeType(childType) ? childType : undefined, node.selectionSet);
      const introspection = node.name.value.startsWith('__');
      const depth = introspection ? 0 : 1 + child.depth;
      if (definition === undefined) return { cost: 1 + child.cost, depth };
      if (parent?.name.startsWith('__') === true) {
        // Inside an introspection type: lists have the schema's sizes.
        const size = isList(definition.type) ? introspectionListSize(definition.name, sizes) : 1;
        return { cost: size * (1 + child.cost), depth };
      }
      const rule = definition.extensions.complexity as ComplexityEstimator | number | undefined;
      if (typeof rule === 'number') return { cost: rule + child.cost, depth };
      if (typeof rule === 'function') {
        let args: Record<string, unknown> = {};
        try {
          args = getArgumentValues(definition, node, variables);
        } catch {
          // Reported by validation or execution; priced as if absent.
        }
        const cost = rule({
          type: parent as never,
          field: definition,
          node,
          args,
          childComplexity: child.cost,
          context: { ...costContext },
        });
        if (typeof cost === 'number' && Number.isFinite(cost) && cost >= 0) return { cost, depth };
        if (typeof cost === 'number') return { cost: Infinity, depth };
      }
      const size = isList(definition.type) ? DEFAULT_LIST_SIZE : 1;
      return { cost: size * (1 + child.cost), depth };
    };

    const fragmentCost = (name: string): OperationCost => {
      const known = memo.get(name);
      if (known !== undefined) return known;
      const fragment = fragments.get(name);
      // Unknown fragments and cycles are graphql's validation errors (KnownFragmentNames, NoFragmentCycles).
      if (fragment === undefined || inProgress.has(name)) return { cost: 0, depth: 0 };
      inProgress.add(name);
      const type = schema.getType(fragment.typeCondition.name.value);
      const cost = selectionSetCost(type, fragment.selectionSet);
      inProgress.delete(name);
      memo.set(name, cost);
      return cost;
    };

    function selectionSetCost(parent: GraphQLNamedType | undefined, set: SelectionSetNode): OperationCost {
      let cost = 0;
      let depth = 0;
      // As graphql's execution does: one fragment spread once per selection set, however often it is written.
      const spread = new Set<string>();
      const visit = (type: GraphQLNamedType | undefined, inner: SelectionSetNode) => {
        for (const selection of inner.selections) {
          if (!included(selection)) continue;
          let part: OperationCost;
          if (selection.kind === Kind.FIELD) {
            part = fieldCost(type, selection);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            const condition = selection.typeCondition;
            visit(
              condition === undefined ? type : schema.getType(condition.name.value),
              selection.selectionSet,
            );
            continue;
          } else {
            if (spread.has(selection.name.value)) continue;
            spread.add(selection.name.value);
            part = fragmentCost(selection.name.value);
          }
          cost += part.cost;
          depth = Math.max(depth, part.depth);
        }
      };
      visit(parent, set);
      return { cost, depth };
    }

    const root = schema.getRootType(operation.operation);
    return selectionSetCost(root ?? undefined, operation.selectionSet);
  };
}

export interface CostLimits {
  maxCost: number;
  maxDepth: number;
}

/** The refusal of an operation over its budget or depth; null when it is within both. */
export function costError({ cost, depth }: OperationCost, limits: CostLimits): GraphQLError | null {
  if (depth > limits.maxDepth) {
    return refused(`operation depth ${depth} exceeds the limit of ${limits.maxDepth} (server.maxDepth)`, {
      depth,
      maxDepth: limits.maxDepth,
    });
  }
  if (cost > limits.maxCost) {
    const shown = cost >= 1e12 ? cost.toExponential(2) : String(Math.ceil(cost));
    return refused(
      `operation cost ${shown} exceeds the limit of ${limits.maxCost} (server.maxCost): ask for smaller pages, ` +
        'fewer aliases or fewer nested lists',
      { cost: Number.isFinite(cost) ? Math.ceil(cost) : null, maxCost: limits.maxCost },
    );
  }
  return null;
}
