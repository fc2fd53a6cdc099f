// The one path every GraphQL operation takes, over HTTP (Apollo hands it the parsed document) and over
// WebSocket (graphql-ws hands it the source): the same checks in the same order, the same execution under a
// query scope, the same masking of errors.
//
//   prepare: operation chosen -> document shape -> variables coerced -> cost and depth -> graphql's validation
//            -> string arguments. Cheap linear checks come before graphql's validation, which is not linear.
//   execute: graphql's execute inside a query scope (src/storage/query-scope.ts): the deadline
//            (server.requestTimeoutMs), the row and byte budget, at most MAX_QUERIES_PER_OPERATION ClickHouse
//            queries at once, and cancellation when the client goes away.
//   mask:    client errors pass, storage limits become their codes, anything else is INTERNAL_SERVER_ERROR.
import {
  execute,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ParseOptions,
} from 'graphql';
import type { ServerConfig } from '../config.ts';
import type { Logger } from '../logger.ts';
import { StorageError } from '../storage/errors.ts';
import { QueryScope, runInQueryScope, scopeEnded } from '../storage/query-scope.ts';
import { USER_ERROR_CODES } from '../resolvers/errors.ts';
import { checkDocumentShape, costError, createCostAnalyzer } from './limits.ts';
import { checkStringArguments } from './strings.ts';

/** ClickHouse queries one operation runs at once: a request of 1,000 aliases does not take the whole pool. */
export const MAX_QUERIES_PER_OPERATION = 4;

export interface OperationRequest {
  document: DocumentNode;
  operationName?: string | null | undefined;
  variables?: Record<string, unknown> | null | undefined;
}

export interface PreparedOperation {
  document: DocumentNode;
  operation: OperationDefinitionNode;
  operationName: string | null;
  /** As the client sent them: execution coerces them again. */
  variableValues: Record<string, unknown>;
  cost: number;
}

export type Prepared = { ok: true; operation: PreparedOperation } | { ok: false; errors: GraphQLError[] };

/** Storage errors that describe the client's operation (src/storage/errors.ts), and what the client sees. */
const STORAGE_CODES: Partial<Record<StorageError['code'], string>> = {
  timeout: 'TIMEOUT',
  cancelled: 'CANCELLED',
  'limit-exceeded': 'RESULT_TOO_LARGE',
};

export interface OperationGate {
  parseOptions: ParseOptions;
  /** The document of a source, or the syntax error. */
  parse(source: string): DocumentNode | GraphQLError;
  prepare(request: OperationRequest): Prepared;
  /** Runs a prepared query or mutation; `cancel` aborts it (the client went away). */
  execute(args: ExecutionArgs, cancel?: AbortSignal): Promise<ExecutionResult>;
  /**
   * Runs other work of a request (a REST route) under the same bounds as an operation: its own query scope with
   * the deadline, the row and byte budget and the concurrency; `cancel` aborts it.
   */
  runScoped<T>(work: () => Promise<T>, cancel?: AbortSignal, label?: string): Promise<T>;
  maskError(error: GraphQLError): GraphQLFormattedError;
  maskResult(result: ExecutionResult): FormattedExecutionResult;
  /** A result too large to send: the error that replaces it. */
  tooLarge(bytes: number): FormattedExecutionResult;
  /** The scope of one subscription event: the operation's bounds, its deadline from its first query. */
  eventScope(): QueryScope;
}

export function createOperationGate(
  schema: GraphQLSchema,
  config: ServerConfig,
  logger: Logger,
): OperationGate {
  const analyze = createCostAnalyzer(schema, config);
  const parseOptions: ParseOptions = { maxTokens: config.maxQueryTokens };

  const maskError = (error: GraphQLError): GraphQLFormattedError => maskGraphQLError(error, logger);
  const newScope = (deadline: number) =>
    new QueryScope({
      deadline,
      ...(Number.isFinite(deadline) ? {} : { timeoutFromFirstQueryMs: config.requestTimeoutMs }),
      maxRows: config.maxRowsPerRequest,
      maxBytes: config.maxBytesPerRequest,
      maxConcurrentQueries: MAX_QUERIES_PER_OPERATION,
      onKillError: (error) => logger.warn({ err: error }, 'KILL QUERY failed'),
    });

  async function runScoped<T>(work: () => Promise<T>, cancel?: AbortSignal, label?: string): Promise<T> {
    const scope = newScope(Date.now() + config.requestTimeoutMs);
    const onCancel = () => scope.abort(scopeEnded('cancelled', 'the client went away'));
    if (cancel?.aborted === true) onCancel();
    cancel?.addEventListener('abort', onCancel, { once: true });
    try {
      return await runInQueryScope(scope, work);
    } finally {
      cancel?.removeEventListener('abort', onCancel);
      scope.dispose();
      if (scope.killed > 0) {
        logger.info(
          { killed: scope.killed, reason: scope.ended?.code, operationName: label },
          'ClickHouse queries of an ended operation killed',
        );
      }
    }
  }

  return {
    parseOptions,

    parse(source) {
      try {
        return parse(source, parseOptions);
      } catch (error) {
        return error instanceof GraphQLError
          ? new GraphQLError(error.message, {
              nodes: error.nodes,
              source: error.source,
              positions: error.positions,
              extensions: { code: 'GRAPHQL_PARSE_FAILED' },
            })
          : new GraphQLError('the query cannot be parsed', { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
      }
    },

    prepare({ document, operationName, variables }) {
      const operation = getOperationAST(document, operationName ?? undefined);
      if (operation == null) {
        const message =
          operationName == null
            ? 'the document must hold one operation, or the request must name one (operationName)'
            : `the document has no operation named ${JSON.stringify(operationName)}`;
        return {
          ok: false,
          errors: [new GraphQLError(message, { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } })],
        };
      }
      const shape = checkDocumentShape(document);
      if (shape !== null) return { ok: false, errors: [shape] };
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, {
        maxErrors: 10,
      });
      if (coerced.errors !== undefined) {
        return { ok: false, errors: coerced.errors.map((error) => withCode(error, 'BAD_USER_INPUT')) };
      }
      const cost = analyze(document, operation, coerced.coerced);
      const tooCostly = costError(cost, config);
      if (tooCostly !== null) return { ok: false, errors: [tooCostly] };
      const invalid = validate(schema, document, specifiedRules, { maxErrors: 20 });
      if (invalid.length > 0) {
        return { ok: false, errors: invalid.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED')) };
      }
      const badString = checkStringArguments(schema, document, operation, coerced.coerced);
      if (badString !== null) return { ok: false, errors: [badString] };
      return {
        ok: true,
        operation: {
          document,
          operation,
          operationName: operationName ?? null,
          variableValues: variables ?? {},
          cost: cost.cost,
        },
      };
    },

    eventScope: () => newScope(Infinity),

    execute(args, cancel) {
      return runScoped(() => Promise.resolve(execute(args)), cancel, args.operationName ?? undefined);
    },

    runScoped,

    maskError,

    maskResult(result) {
      const errors = result.errors?.map(maskError);
      return { data: result.data, ...(errors === undefined ? {} : { errors }) };
    },

    tooLarge(bytes) {
      return {
        errors: [
          {
            message: `the result is ${bytes} bytes, more than ${config.maxResponseBytes} (server.maxResponseBytes): ask for smaller pages or fewer fields`,
            extensions: { code: 'RESPONSE_TOO_LARGE', maxResponseBytes: config.maxResponseBytes },
          },
        ],
      };
    },
  };
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

/**
 * Client errors pass as they are; the ends of a query scope become TIMEOUT / CANCELLED / RESULT_TOO_LARGE with
 * their own message; anything else becomes a bare INTERNAL_SERVER_ERROR, logged with its detail.
 */
export function maskGraphQLError(error: GraphQLError, logger: Logger): GraphQLFormattedError {
  const formatted = error.toJSON();
  return maskFormattedError(formatted, error, logger);
}

export function maskFormattedError(
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
): GraphQLFormattedError {
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && USER_ERROR_CODES.includes(code)) {
    return { ...formatted, extensions: { ...formatted.extensions, stacktrace: undefined } };
  }
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof StorageError) {
    const mapped = STORAGE_CODES[original.code];
    if (mapped !== undefined) {
      return {
        message: original.message,
        ...(formatted.path === undefined ? {} : { path: formatted.path }),
        extensions: { code: mapped },
      };
    }
  }
  // graphql-js's own argument and variable errors carry no code; they describe the request, not the server.
  if (code === undefined && error instanceof GraphQLError && error.originalError === undefined) {
    return { ...formatted, extensions: { ...formatted.extensions, code: 'BAD_USER_INPUT' } };
  }
  logger.error({ err: error, path: formatted.path }, 'resolver failed');
  return {
    message: 'Internal server error',
    ...(formatted.path === undefined ? {} : { path: formatted.path }),
    extensions: { code: 'INTERNAL_SERVER_ERROR' },
  };
}
