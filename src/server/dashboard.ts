// The dashboard (web/, a Vite app) as served by `fink start server`: index.html at `/` and the hashed bundles at
// `/assets/*`; every page is a hash route (#/live, #/object/<id>, ...), so the server knows no other path. The
// build lives in DASHBOARD_DIR (git-ignored); `buildDashboard` makes it, and only when web/ changed since.
//
// Files are read from disk on request (cached by mtime), so a rebuild is served without restarting the server.
// Vite names each asset by a digest of its content: those are cached by browsers forever, while index.html, which
// names them, is revalidated on every load.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Logger } from '../logger.ts';
import { PROJECT_ROOT } from '../project.ts';
import type { Route } from './server.ts';
import { refuseUnlessGetOrHead, sendStaticFile } from './static-file.ts';

/** The dashboard's sources (a Vite root). */
export const DASHBOARD_SOURCE_DIR = path.join(PROJECT_ROOT, 'web');
/** Where `npm run build:web` writes the dashboard (web/vite.config.ts outDir). */
export const DASHBOARD_DIR = path.join(PROJECT_ROOT, 'dist', 'web');
export const DASHBOARD_NOT_BUILT = 'dashboard not built: run npm run build:web';

const ASSET_PREFIX = '/assets/';
/** Vite writes assets flat under assets/: a plain file name, never a path. */
const ASSET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CACHE_FOREVER = 'public, max-age=31536000, immutable';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
/** Worth compressing: text. Images and fonts are compressed already. */
const COMPRESSIBLE = /^(text\/|application\/json|image\/svg)/;

export interface DashboardOptions {
  /** The built dashboard: index.html and assets/. */
  dir: string;
  logger?: Logger;
}

interface CachedFile {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzipped: Buffer | null;
  etag: string;
}

export function createDashboardHandler(options: DashboardOptions): Route {
  const cache = new Map<string, CachedFile>();

  async function load(file: string): Promise<CachedFile | null> {
    let info;
    try {
      info = await stat(file);
    } catch {
      return null;
    }
    if (!info.isFile()) return null;
    const cached = cache.get(file);
    if (cached !== undefined && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
    const body = await readFile(file);
    const loaded: CachedFile = {
      mtimeMs: info.mtimeMs,
      size: info.size,
      body,
      gzipped: COMPRESSIBLE.test(contentTypeOf(file)) ? gzipSync(body) : null,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    };
    cache.set(file, loaded);
    return loaded;
  }

  return async function dashboardRoute(req, res) {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    let file: string;
    let cacheControl: string;
    if (pathname === '/' || pathname === '/index.html') {
      file = path.join(options.dir, 'index.html');
      cacheControl = 'no-cache';
    } else if (pathname.startsWith(ASSET_PREFIX)) {
      const name = pathname.slice(ASSET_PREFIX.length);
      if (!ASSET_NAME.test(name)) return notFound(res);
      file = path.join(options.dir, 'assets', name);
      cacheControl = CACHE_FOREVER;
    } else {
      return false;
    }
    if (refuseUnlessGetOrHead(req, res)) return true;
    let found: CachedFile | null;
    try {
      found = await load(file);
    } catch (err) {
      options.logger?.error({ err, path: pathname }, 'dashboard file unreadable');
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('dashboard file unreadable');
      return true;
    }
    if (found === null) {
      if (cacheControl === CACHE_FOREVER) return notFound(res);
      res
        .writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' })
        .end(`${DASHBOARD_NOT_BUILT}\n`);
      return true;
    }
    sendStaticFile(req, res, found, contentTypeOf(file), cacheControl);
    return true;
  };
}

function notFound(res: ServerResponse): true {
  res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
  return true;
}

function contentTypeOf(file: string): string {
  return CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
}

export interface BuildOptions {
  /** Build even when the output is newer than every source. */
  force?: boolean;
  /** Where Vite's output goes; inherited (the terminal) by default. */
  stdio?: 'inherit' | 'ignore';
}

/**
 * Runs `vite build` on web/ unless the build is newer than every file under web/ (and than package-lock.json,
 * which pins the bundled libraries). Answers whether it built.
 */
export async function buildDashboard(options: BuildOptions = {}): Promise<boolean> {
  if (options.force !== true && dashboardIsFresh()) return false;
  const vite = path.join(PROJECT_ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [vite, 'build', DASHBOARD_SOURCE_DIR, '--logLevel', 'warn'], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', options.stdio ?? 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve(exitCode ?? 1));
  });
  if (code !== 0) throw new Error(`vite build of the dashboard failed (exit code ${code})`);
  return true;
}

/** The build exists and is newer than every source file. */
export function dashboardIsFresh(): boolean {
  const built = path.join(DASHBOARD_DIR, 'index.html');
  if (!existsSync(built)) return false;
  const builtAt = statSync(built).mtimeMs;
  const lock = path.join(PROJECT_ROOT, 'package-lock.json');
  if (existsSync(lock) && statSync(lock).mtimeMs > builtAt) return false;
  return newestMtime(DASHBOARD_SOURCE_DIR) <= builtAt;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.isFile()) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}
