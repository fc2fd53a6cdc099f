// HTTP endpoints for an alert's cutouts, beside /graphql (the API returns their URLs, built by cutoutPath):
//
//   GET /cutouts/<alertId>/<science|template|difference>.fits     FITS (application/fits), gunzipped if stored
//                                                                   gzipped (ZTF): what ds9 or astropy open
//   GET /cutouts/<alertId>/<science|template|difference>.fits.gz  gzipped FITS (application/gzip): ZTF's stored
//                                                                   bytes unchanged, Rubin's gzipped here
//   GET /cutouts/<alertId>/<science|template|difference>.png      8-bit grey, zscaled, north up (image/png)
//
// A stored cutout that is not a readable FITS image (a corrupt stamp from upstream) is answered 422
// UNREADABLE_CUTOUT with the reason, as .fits and .png; .fits.gz serves its stored bytes whatever they are.
//
// An alert's cutouts never change once stored (the alert id is the key of an idempotent write), so every answer
// is cacheable forever; the ETag is a digest of the stored bytes and of the format (and of the renderer's
// version for PNG), so that a conditional request is answered 304 without rendering.
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { Logger } from '../logger.ts';
import { StorageError } from '../storage/clickhouse.ts';
import { CUTOUT_KINDS, type CutoutKind, type CutoutStore } from '../storage/cutout-store.ts';
import { CUTOUT_FORMATS, CUTOUT_PATH_PREFIX as PREFIX, type CutoutFormat } from '../resolvers/cutout-path.ts';
import { renderCutoutPng } from './cutout-image.ts';
import { FitsError, fitsBytes, isGzipped, parseFitsImage, type FitsImage } from '../pipeline/decode/fits.ts';

/** Bumped whenever the PNG rendering changes, so that cached images are fetched again. */
const PNG_RENDERER_VERSION = 'zscale1';
const CACHE_FOREVER = 'public, max-age=31536000, immutable';
const UINT64_MAX = 2n ** 64n - 1n;

const CONTENT_TYPES: Record<CutoutFormat, string> = {
  fits: 'application/fits',
  'fits.gz': 'application/gzip',
  png: 'image/png',
};

export interface CutoutHandlerDeps {
  store: CutoutStore;
  logger: Logger;
}

type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'UNREADABLE_CUTOUT'
  | 'INTERNAL_SERVER_ERROR'
  | 'SERVICE_UNAVAILABLE';

const STATUS: Record<ErrorCode, number> = {
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  // The request is right and the cutout is there, but its bytes are not a FITS image (a corrupt upstream stamp):
  // not the server's failure, and no retry will change it.
  UNREADABLE_CUTOUT: 422,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

/** A request the handler answers with an error status; the message is safe to show the client. */
class CutoutRequestError extends Error {
  override name = 'CutoutRequestError';
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface CutoutRequest {
  alertId: bigint;
  kind: CutoutKind;
  format: CutoutFormat;
}

/**
 * Answers requests under /cutouts/ and returns true; returns false for any other path, so that the server tries
 * its other routes. Errors are JSON `{ "error": { "code", "message" } }` with the GraphQL API's codes; storage and
 * parsing failures are logged and masked (no detail, never a stack trace, reaches the client).
 */
export function createCutoutHandler(
  deps: CutoutHandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const log = deps.logger.child({ module: 'cutouts' });

  return async function cutoutRoute(req, res) {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!pathname.startsWith(PREFIX)) return false;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('Allow', 'GET, HEAD');
        throw new CutoutRequestError('METHOD_NOT_ALLOWED', `${req.method ?? ''} is not allowed; use GET`);
      }
      const request = parseCutoutPath(pathname.slice(PREFIX.length));
      const stored = await readCutout(deps.store, request, log);

      const etag = `"${digest(stored)}-${request.format === 'png' ? `png-${PNG_RENDERER_VERSION}` : request.format}"`;
      res.setHeader('ETag', etag);
      res.setHeader('Cache-Control', CACHE_FOREVER);
      if (matchesEtag(req.headers['if-none-match'], etag)) {
        res.writeHead(304).end();
        return true;
      }
      const body = encodeCutout(stored, request, log);
      const filename = `${request.alertId}-${request.kind}.${request.format}`;
      res.writeHead(200, {
        'Content-Type': CONTENT_TYPES[request.format],
        'Content-Length': body.byteLength,
        'Content-Disposition': `inline; filename="${filename}"`,
        'X-Content-Type-Options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      sendError(res, err, log);
    }
    return true;
  };
}

/** `<alertId>/<kind>.<format>`: the id in canonical decimal form (no sign, no leading zero), within UInt64. */
function parseCutoutPath(rest: string): CutoutRequest {
  const segments = rest.split('/');
  if (segments.length !== 2) {
    throw new CutoutRequestError('NOT_FOUND', 'expected /cutouts/<alertId>/<kind>.<format>');
  }
  const [idText, file] = segments as [string, string];
  if (!/^(0|[1-9]\d{0,19})$/.test(idText) || BigInt(idText) > UINT64_MAX) {
    throw new CutoutRequestError('BAD_USER_INPUT', 'alertId: not a decimal unsigned 64-bit integer');
  }
  const dot = file.indexOf('.');
  const kind = dot === -1 ? file : file.slice(0, dot);
  const format = dot === -1 ? '' : file.slice(dot + 1);
  if (!(CUTOUT_KINDS as readonly string[]).includes(kind)) {
    throw new CutoutRequestError('BAD_USER_INPUT', `kind: expected one of ${CUTOUT_KINDS.join(', ')}`);
  }
  if (!(CUTOUT_FORMATS as readonly string[]).includes(format)) {
    throw new CutoutRequestError('BAD_USER_INPUT', `format: expected one of ${CUTOUT_FORMATS.join(', ')}`);
  }
  return { alertId: BigInt(idText), kind: kind as CutoutKind, format: format as CutoutFormat };
}

async function readCutout(store: CutoutStore, request: CutoutRequest, log: Logger): Promise<Buffer> {
  let found;
  try {
    found = (await store.byAlertIds([request.alertId])).get(request.alertId);
  } catch (err) {
    const retriable = err instanceof StorageError && err.retriable;
    log.error({ err, alertId: String(request.alertId) }, 'cutout read failed');
    throw new CutoutRequestError(
      retriable ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_SERVER_ERROR',
      retriable ? 'storage is unavailable, retry later' : 'internal error',
    );
  }
  if (found === undefined)
    throw new CutoutRequestError('NOT_FOUND', `alert ${request.alertId} has no cutouts`);
  const bytes = found[request.kind];
  if (bytes === null) {
    throw new CutoutRequestError('NOT_FOUND', `alert ${request.alertId} has no ${request.kind} cutout`);
  }
  return bytes;
}

function encodeCutout(stored: Buffer, request: CutoutRequest, log: Logger): Uint8Array {
  // The stored bytes as they are: what upstream sent, readable or not (a user may want to look at them).
  if (request.format === 'fits.gz') return isGzipped(stored) ? stored : gzipSync(stored);
  let image: FitsImage;
  try {
    image = parseFitsImage(stored);
  } catch (err) {
    // A stored cutout that is not a readable FITS image: the data's fault, not the client's nor the server's.
    // The reason (FitsError's message: what is wrong with the bytes) is safe to show; anything else is masked.
    const reason = err instanceof FitsError ? err.message : 'not a readable FITS image';
    log.warn(
      { err, alertId: String(request.alertId), kind: request.kind, format: request.format },
      'cutout cannot be read',
    );
    throw new CutoutRequestError(
      'UNREADABLE_CUTOUT',
      `cutout ${request.kind} of alert ${request.alertId} cannot be read: ${reason}`,
    );
  }
  // A readable image: gunzipping again (FITS) or rendering (PNG) cannot fail on it.
  return request.format === 'fits' ? fitsBytes(stored) : renderCutoutPng(image);
}

function digest(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 22);
}

/** RFC 9110 §13.1.2: If-None-Match is `*` or a list of entity tags, compared weakly. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}

function sendError(res: ServerResponse, err: unknown, log: Logger): void {
  const known = err instanceof CutoutRequestError;
  if (!known) log.error({ err }, 'cutout request failed');
  const code: ErrorCode = known ? err.code : 'INTERNAL_SERVER_ERROR';
  const message = known ? err.message : 'internal error';
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { code, message } });
  res.removeHeader('ETag');
  res.writeHead(STATUS[code], {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    // Errors are not immutable: the alert may be written a moment later.
    'Cache-Control': 'no-store',
  });
  res.end(body);
}
