// A minimal client of a Confluent-compatible schema registry: the one call a consumer needs, schema by id.
//
// A registry never changes the schema stored under an id, so an answer is cached for the life of the client and
// concurrent requests for one id share a single HTTP request. Failures are not cached: the next call asks again.
// The error says whether the registry answered "no such id" (a fact about the message) or could not be asked
// (a fact about the infrastructure): callers route the two differently.

export interface SchemaRegistryClient {
  /** The schema registered under `id`, as JSON text. Rejects with SchemaRegistryError. */
  getSchema(id: number): Promise<string>;
}

export type SchemaRegistryErrorCode =
  /** The registry answered 404 with Confluent's error_code 40403: it has no schema under this id. */
  | 'not-found'
  /** No answer: connection refused, DNS, timeout, or a 5xx/429 from the registry or a proxy. Worth retrying. */
  | 'unreachable'
  /** An answer that cannot be used: other 4xx (auth, a URL that is no registry), no schema string, not Avro. */
  | 'bad-response';

export class SchemaRegistryError extends Error {
  override name = 'SchemaRegistryError';
  readonly code: SchemaRegistryErrorCode;
  /** HTTP status when the registry answered. */
  readonly status: number | undefined;

  constructor(code: SchemaRegistryErrorCode, message: string, options?: ErrorOptions & { status?: number }) {
    super(message, options);
    this.code = code;
    this.status = options?.status;
  }

  /** Only an unreachable registry may heal by itself; a bad response needs a configuration change. */
  get retriable(): boolean {
    return this.code === 'unreachable';
  }
}

export interface SchemaRegistryClientOptions {
  /** Base URL, e.g. http://localhost:8081 (a path prefix is kept: http://proxy/registry). */
  url: string;
  /** Per request, connection included. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const ACCEPT =
  'application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json, application/json';

export function createSchemaRegistryClient(options: SchemaRegistryClientOptions): SchemaRegistryClient {
  const base = options.url.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const schemas = new Map<number, Promise<string>>();

  return {
    getSchema: function getRegistrySchema(id: number): Promise<string> {
      if (!Number.isInteger(id) || id < 0) {
        return Promise.reject(new RangeError(`schema id must be a non-negative integer, got ${id}`));
      }
      let entry = schemas.get(id);
      if (entry === undefined) {
        entry = fetchSchema(`${base}/schemas/ids/${id}`, id, timeoutMs);
        schemas.set(id, entry);
        entry.catch(() => schemas.delete(id));
      }
      return entry;
    },
  };
}

async function fetchSchema(url: string, id: number, timeoutMs: number): Promise<string> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(url, {
      headers: { accept: ACCEPT },
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await response.text();
  } catch (err) {
    const why =
      err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : causeOf(err);
    throw new SchemaRegistryError('unreachable', `GET ${url}: ${why}`, { cause: err });
  }

  const { status } = response;
  if (status === 404) {
    // Only Confluent's 40403 says "no such schema". Any other 404 (a wrong base URL, a proxy's page) means we are
    // not talking to a registry, and must not turn every message into an unknown-schema dead letter.
    if (errorCode(text) === SCHEMA_NOT_FOUND) {
      throw new SchemaRegistryError(
        'not-found',
        `schema id ${id} is not in the registry (${registryMessage(text)})`,
        {
          status,
        },
      );
    }
    throw new SchemaRegistryError(
      'bad-response',
      `GET ${url}: HTTP 404 ${registryMessage(text)}: is this a schema registry?`,
      {
        status,
      },
    );
  }
  if (status >= 500 || status === 429 || status === 408) {
    throw new SchemaRegistryError('unreachable', `GET ${url}: HTTP ${status} ${registryMessage(text)}`, {
      status,
    });
  }
  if (status !== 200) {
    throw new SchemaRegistryError('bad-response', `GET ${url}: HTTP ${status} ${registryMessage(text)}`, {
      status,
    });
  }

  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new SchemaRegistryError('bad-response', `GET ${url}: the answer is not JSON`, {
      cause: err,
      status,
    });
  }
  const { schema, schemaType } = (typeof body === 'object' && body !== null ? body : {}) as {
    schema?: unknown;
    schemaType?: unknown;
  };
  // Confluent omits schemaType for Avro, its default; PROTOBUF and JSON schemas are of no use to an Avro decoder.
  if (schemaType !== undefined && schemaType !== 'AVRO') {
    throw new SchemaRegistryError(
      'bad-response',
      `schema id ${id} is a ${JSON.stringify(schemaType)} schema, not Avro`,
      {
        status,
      },
    );
  }
  if (typeof schema !== 'string') {
    throw new SchemaRegistryError('bad-response', `GET ${url}: the answer has no "schema" string`, {
      status,
    });
  }
  return schema;
}

/** Confluent's error_code for an id it has no schema under (Karapace and Redpanda answer the same). */
const SCHEMA_NOT_FOUND = 40403;

function errorCode(text: string): unknown {
  try {
    return (JSON.parse(text) as { error_code?: unknown }).error_code;
  } catch {
    return undefined;
  }
}

/** Confluent's error body is {"error_code": 40403, "message": "Schema not found"}; anything else is shown cut. */
function registryMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error_code?: unknown; message?: unknown };
    const code = typeof body.error_code === 'number' ? `${body.error_code} ` : '';
    if (typeof body.message === 'string') return `${code}${body.message}`;
  } catch {
    // not JSON: a proxy's page
  }
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/** fetch wraps the socket error ("ECONNREFUSED 127.0.0.1:8081") as the cause of a bare "fetch failed". */
function causeOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}
