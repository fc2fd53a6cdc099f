// Sending a file held in memory, as GraphiQL's assets and the dashboard's build are: ETag and 304, gzip when the
// client accepts it, HEAD without a body.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface StaticFile {
  body: Buffer;
  /** The body gzipped once, or null when compressing it is not worth it. */
  gzipped: Buffer | null;
  etag: string;
}

export function sendStaticFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: StaticFile,
  contentType: string,
  cacheControl: string,
): void {
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    'Cache-Control': cacheControl,
    ETag: file.etag,
    'X-Content-Type-Options': 'nosniff',
  };
  if (file.gzipped !== null) headers.Vary = 'Accept-Encoding';
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  const gzipped = acceptsGzip(req.headers['accept-encoding']) ? file.gzipped : null;
  const body = gzipped ?? file.body;
  if (gzipped !== null) headers['Content-Encoding'] = 'gzip';
  headers['Content-Length'] = body.length;
  res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : body);
}

/** Static files answer GET and HEAD only: anything else gets 405 here, and true says the request is answered. */
export function refuseUnlessGetOrHead(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return false;
  res
    .writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' })
    .end('method not allowed');
  return true;
}

function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    const refused = params.some((param) => /^\s*q=0(\.0*)?\s*$/.test(param));
    return (coding === 'gzip' || coding === '*') && !refused;
  });
}
