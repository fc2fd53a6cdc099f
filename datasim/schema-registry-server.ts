// A tiny Confluent-compatible schema registry: GET /schemas/ids/{id} from a fixed map, nothing else.
// Stands in for Rubin's registry in tests, the simulator and the demo; it answers the way Confluent's does
// (same paths, content type and error bodies), so the client cannot tell the difference for this call.
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SchemaRegistryServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Loopback unless told otherwise: nothing outside this machine needs it. */
  host?: string;
  /** Schema id -> schema JSON text, served as {"schema": "<text>"}. */
  schemas: ReadonlyMap<number, string>;
}

export interface SchemaRegistryServer {
  /** Base URL, e.g. http://127.0.0.1:41234. */
  url: string;
  /** Requests answered so far, whatever the answer (lets tests see caching and deduplication). */
  readonly requests: number;
  /** Stops listening and drops open keep-alive connections. */
  close(): Promise<void>;
}

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const SCHEMA_BY_ID = /^\/schemas\/ids\/(\d+)\/?$/;

export async function startSchemaRegistry(
  options: SchemaRegistryServerOptions,
): Promise<SchemaRegistryServer> {
  const host = options.host ?? '127.0.0.1';
  // Copied: the served schemas must not change under the server (a registry's ids are immutable).
  const schemas = new Map(options.schemas);
  let requests = 0;
  const server = createServer((request, response) => {
    requests++;
    handle(schemas, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function handle(
  schemas: ReadonlyMap<number, string>,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  const pathname = new URL(request.url ?? '/', 'http://registry').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, { error_code: 405, message: 'HTTP 405 Method Not Allowed' });
    return;
  }
  const match = SCHEMA_BY_ID.exec(pathname);
  if (match === null) {
    send(response, 404, { error_code: 404, message: 'HTTP 404 Not Found' });
    return;
  }
  const schema = schemas.get(Number(match[1]));
  if (schema === undefined) {
    // Confluent's code for an unknown schema id.
    send(response, 404, { error_code: 40403, message: 'Schema not found' });
    return;
  }
  send(response, 200, { schema });
}

function send(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
