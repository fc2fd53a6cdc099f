// The one error type storage throws: provider errors are translated into it at the boundary, with a code the
// layers above map to their own answers (a retry, a GraphQL error code).

/**
 * - unavailable: the server could not be reached or said "not now" (worth retrying);
 * - query-failed: the server refused the query;
 * - timeout / cancelled / limit-exceeded: the caller's query scope ended (src/storage/query-scope.ts): its
 *   deadline passed, its client went away, or it read more rows or bytes than its budget.
 */
export type StorageErrorCode = 'unavailable' | 'query-failed' | 'timeout' | 'cancelled' | 'limit-exceeded';

export class StorageError extends Error {
  override name = 'StorageError';
  constructor(
    message: string,
    readonly code: StorageErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Worth retrying: the server could not be reached, not a query it refused. */
  get retriable(): boolean {
    return this.code === 'unavailable';
  }
}
