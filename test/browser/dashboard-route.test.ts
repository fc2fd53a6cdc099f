// The dashboard route on a node:http server over a temporary build directory: what it serves, with which
// headers, and the 503 that says how to build it when there is no build.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardHandler, DASHBOARD_NOT_BUILT } from '../../src/server/dashboard.ts';

let dir: string;
let server: Server;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'fink-dashboard-'));
  const route = createDashboardHandler({ dir });
  server = createServer((req, res) => {
    route(req, res).then(
      (handled) => {
        if (!handled) res.writeHead(418).end('not the dashboard');
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('dashboard route', () => {
  it('answers 503 with the command to run while nothing is built, and 404 for assets', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain(DASHBOARD_NOT_BUILT);
    expect((await fetch(`${url}/assets/index-abc.js`)).status).toBe(404);
  });

  it('serves index.html at / and /index.html, assets with their types and a long cache, nothing else', async () => {
    mkdirSync(path.join(dir, 'assets'), { recursive: true });
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Fink</title>');
    const script = `console.log(${JSON.stringify('x'.repeat(2000))});`;
    writeFileSync(path.join(dir, 'assets', 'index-AbC123.js'), script);
    writeFileSync(path.join(dir, 'assets', 'index-AbC123.css'), 'body { color: red }');

    for (const pathname of ['/', '/index.html']) {
      const page = await fetch(`${url}${pathname}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(await page.text()).toContain('<title>Fink</title>');
    }
    const js = await fetch(`${url}/assets/index-AbC123.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toBe(script);
    const css = await fetch(`${url}/assets/index-AbC123.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');

    // Other paths are someone else's (GraphQL, GraphiQL, cutouts); names that climb out of assets/ are refused.
    expect((await fetch(`${url}/graphql`)).status).toBe(418);
    expect((await fetch(`${url}/assets/..%2findex.html`)).status).toBe(404);
    expect((await fetch(`${url}/assets/nothing.js`)).status).toBe(404);
    expect((await fetch(`${url}/`, { method: 'POST' })).status).toBe(405);
  });

  it('answers 304 to a matching ETag, gzips text on request, and serves a rebuilt file at once', async () => {
    const first = await fetch(`${url}/`);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^".+"$/);
    expect((await fetch(`${url}/`, { headers: { 'if-none-match': etag! } })).status).toBe(304);

    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      // fetch would decompress: read the bytes as sent.
      import('node:http')
        .then(({ get }) =>
          get(`${url}/assets/index-AbC123.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
            );
          }).on('error', reject),
        )
        .catch(reject);
    });
    expect(raw.encoding).toBe('gzip');
    expect(gunzipSync(raw.body).toString()).toContain('console.log');

    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Fink, rebuilt</title>');
    const rebuilt = await fetch(`${url}/`, { headers: { 'if-none-match': etag! } });
    expect(rebuilt.status).toBe(200);
    expect(await rebuilt.text()).toContain('rebuilt');
  });
});
