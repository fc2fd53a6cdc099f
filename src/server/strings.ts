// Every string argument of an operation, literal or from a variable, at any depth of an input object or list,
// checked once before execution: a lone UTF-16 surrogate (no UTF-8 form: it cannot be stored or sent on) or a
// control character is BAD_USER_INPUT naming the argument as written (`label`, `filter.and[0].label[1]`).
//
// Tab, line feed and carriage return are allowed: free text (annotation text, notes) needs them. Every other C0
// control character, DEL and the C1 controls (U+0080-U+009F) are refused.
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  isInputObjectType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type GraphQLError,
} from 'graphql';
import { badInput } from '../resolvers/errors.ts';

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Why `value` is refused, or null. */
export function stringProblem(value: string): string | null {
  if (!value.isWellFormed()) {
    const at = [...value].findIndex((ch) => ch.length === 1 && ch >= '\uD800' && ch <= '\uDFFF');
    return `must be valid Unicode (a lone UTF-16 surrogate at character ${at})`;
  }
  const match = CONTROL.exec(value);
  if (match !== null) {
    const code = match[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `must not contain control characters (U+${code} at character ${match.index})`;
  }
  return null;
}

function checkValue(value: unknown, type: GraphQLInputType, path: string): GraphQLError | null {
  if (value === null || value === undefined) return null;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return checkValue(value, nullable.ofType, path);
    for (let i = 0; i < value.length; i++) {
      const error = checkValue(value[i], nullable.ofType, `${path}[${i}]`);
      if (error !== null) return error;
    }
    return null;
  }
  if (isInputObjectType(nullable)) {
    if (typeof value !== 'object') return null;
    const fields = nullable.getFields();
    for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
      const field = fields[name];
      if (field === undefined) continue;
      const error = checkValue(inner, field.type, `${path}.${name}`);
      if (error !== null) return error;
    }
    return null;
  }
  if (typeof value === 'string') {
    const problem = stringProblem(value);
    return problem === null ? null : badInput(path, problem);
  }
  return null;
}

/**
 * The first string argument of the operation that is refused, or null. Runs on a validated document with
 * coerced variables; each fragment is checked once (its arguments depend only on the variables).
 */
export function checkStringArguments(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): GraphQLError | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const checked = new Set<string>();

  const visit = (parent: GraphQLNamedType | undefined, set: SelectionSetNode): GraphQLError | null => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const fields =
          parent !== undefined && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields() : {};
        const definition = fields[selection.name.value];
        if (definition === undefined) continue;
        if (definition.args.length > 0 && (selection.arguments?.length ?? 0) > 0) {
          const args = getArgumentValues(definition, selection, variables);
          for (const arg of definition.args) {
            const error = checkValue(args[arg.name], arg.type, arg.name);
            if (error !== null) return error;
          }
        }
        if (selection.selectionSet !== undefined) {
          const error = visit(getNamedType(definition.type), selection.selectionSet);
          if (error !== null) return error;
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition;
        const error = visit(
          condition === undefined ? parent : schema.getType(condition.name.value),
          selection.selectionSet,
        );
        if (error !== null) return error;
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (fragment === undefined || checked.has(name)) continue;
        checked.add(name);
        const error = visit(schema.getType(fragment.typeCondition.name.value), fragment.selectionSet);
        if (error !== null) return error;
      }
    }
    return null;
  };

  const root = schema.getRootType(operation.operation);
  return visit(root ?? undefined, operation.selectionSet);
}
