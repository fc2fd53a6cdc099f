// The dashboard's only way to data: the GraphQL API of the server that served it (same origin). Queries and
// mutations over fetch, subscriptions over graphql-ws on the same path. The API token, when the user gave one,
// is kept in localStorage and sent as `Authorization: Bearer <token>` (HTTP header, and graphql-ws
// connection_init payload).
import { createClient, type Client } from 'graphql-ws';

const GRAPHQL_PATH = '/graphql';
const TOKEN_KEY = 'fink.token';
/** Fired on window when the token changes, so that open subscriptions reconnect with it. */
export const TOKEN_EVENT = 'fink-token';

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token === null || token.trim() === '') localStorage.removeItem(TOKEN_KEY);
  else localStorage.setItem(TOKEN_KEY, token.trim());
  window.dispatchEvent(new Event(TOKEN_EVENT));
}

function authorization(): Record<string, string> {
  const token = getToken();
  return token === null ? {} : { Authorization: `Bearer ${token}` };
}

interface GraphQLErrorBody {
  message: string;
  extensions?: { code?: string; argument?: string };
}

/** A refused or failed operation; `code` is the API's extensions.code (UNAUTHENTICATED, BAD_USER_INPUT...). */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }

  /** One line for the user: the code, then the message. */
  describe(): string {
    return this.code === undefined ? this.message : `${this.code}: ${this.message}`;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.describe();
  return error instanceof Error ? error.message : String(error);
}

export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(GRAPHQL_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authorization() },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new ApiError(`the server cannot be reached (${describeError(error)})`, 'NETWORK');
  }
  let body: { data?: T | null; errors?: GraphQLErrorBody[] };
  try {
    body = (await response.json()) as typeof body;
  } catch {
    throw new ApiError(`the server answered ${response.status} without JSON`, `HTTP_${response.status}`);
  }
  const first = body.errors?.[0];
  if (first !== undefined) throw new ApiError(first.message, first.extensions?.code);
  if (body.data === undefined || body.data === null) {
    throw new ApiError(`the server answered ${response.status} without data`, `HTTP_${response.status}`);
  }
  return body.data;
}

export interface SocketEvents {
  onConnected?: () => void;
  onClosed?: () => void;
}

/**
 * A graphql-ws client for the page's subscriptions. The token is read at each (re)connection; after a token
 * change the caller disposes the client and makes a new one.
 */
export function createSocket(events: SocketEvents = {}): Client {
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createClient({
    url: `${protocol}//${location.host}${GRAPHQL_PATH}`,
    connectionParams: () => authorization(),
    lazy: true,
    // A server restart or a network blip: keep trying, with graphql-ws's randomised back-off.
    retryAttempts: 1000,
    shouldRetry: () => true,
    on: {
      connected: () => events.onConnected?.(),
      closed: () => events.onClosed?.(),
    },
  });
}

/** Errors a subscription reports: a CloseEvent, an Error, or the GraphQL errors of the operation. */
export function describeSubscriptionError(error: unknown): string {
  if (Array.isArray(error)) {
    return (error as GraphQLErrorBody[])
      .map((e) => (e.extensions?.code === undefined ? e.message : `${e.extensions.code}: ${e.message}`))
      .join('; ');
  }
  if (error instanceof CloseEvent)
    return `connection closed (${error.code}${error.reason ? `: ${error.reason}` : ''})`;
  return describeError(error);
}

/** The alert fields the live and search tables show. */
export interface AlertSummary {
  alertId: string;
  objectId: string;
  survey: string;
  jd: number;
  band: string;
  mag: number | null;
  magErr: number | null;
  label: string;
  ra: number;
  dec: number;
  ndet: number;
}
