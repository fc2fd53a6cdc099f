// The errors a client may see. Anything else thrown by a resolver is masked as INTERNAL_SERVER_ERROR and logged
// with its detail (see maskFormattedError in operation.ts): storage and Kafka messages never reach clients.
import { GraphQLError } from 'graphql';

export type UserErrorCode = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'CONFLICT';

export const USER_ERROR_CODES: readonly string[] = [
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'CONFLICT',
  // Produced by graphql-js and Apollo themselves before any resolver runs.
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'OPERATION_RESOLUTION_FAILURE',
  // Limits (README, "Limits"): admission, the operation's deadline and budgets, the size of its result.
  'RATE_LIMITED',
  'TIMEOUT',
  'CANCELLED',
  'RESULT_TOO_LARGE',
  'RESPONSE_TOO_LARGE',
];

/** A bad argument: `argument` is its path as the client wrote it (`radiusArcsec`, `filter.and[1].mag.min`). */
export function badInput(argument: string, message: string): GraphQLError {
  return new GraphQLError(`${argument}: ${message}`, {
    extensions: { code: 'BAD_USER_INPUT', argument },
  });
}

export function notFound(what: string): GraphQLError {
  return new GraphQLError(`${what} not found`, { extensions: { code: 'NOT_FOUND' } });
}

export function unauthenticated(message = 'a valid API token is required'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } });
}

/** A compare-and-set lost: the thing changed since the client read it. */
export function conflict(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'CONFLICT' } });
}

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });
}
