// The offline GraphiQL page, served on port 0 (loopback only): local assets only, every one served with its type,
// examples embedded safely; the init script run against stubs of the browser globals; and GraphiQL's own fetcher
// (the toolkit code its bundle contains) checked to carry the headers editor's JSON to graphql-ws.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import vm from 'node:vm';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createGraphiqlHandler, type GraphiqlExample } from '../../../src/server/graphiql.ts';

const EXAMPLES: GraphiqlExample[] = [
  {
    name: 'An object',
    query: 'query Object($id: String!) { object(id: $id) { id } }',
    variables: '{"id": "ZTF18a"}',
  },
  // Nothing in a query may end the page's data block or open markup.
  { name: 'Hostile </script>', query: '# </script><script>alert(1)</script> <!-- & \u2028\n{ x }' },
];

let server: Server;
let baseUrl: string;

beforeAll(async () => {
  const handler = createGraphiqlHandler({ path: '/graphiql', graphqlPath: '/graphql', examples: EXAMPLES });
  server = createServer((req, res) => {
    void handler(req, res).then((handled) => {
      if (!handled) res.writeHead(418).end('next route');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

async function page(): Promise<string> {
  const response = await fetch(`${baseUrl}/graphiql`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  return response.text();
}

/** The JSON data block, cut at the first `</script` as a browser's HTML parser does. */
function configBlock(html: string): unknown {
  const start = html.indexOf('<script type="application/json" id="fink-graphiql-config">');
  expect(start).toBeGreaterThan(-1);
  const open = html.indexOf('>', start) + 1;
  return JSON.parse(html.slice(open, html.indexOf('</script', open)));
}

function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((match) => match[1]!);
}

describe('the GraphiQL page', () => {
  it('references only local assets, and no other host anywhere', async () => {
    const html = await page();
    expect(html).not.toMatch(/https?:\/\//i);
    expect(html).not.toMatch(/\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
    const urls = referencedUrls(html);
    expect(urls).toEqual([
      '/graphiql/assets/graphiql.min.css',
      '/graphiql/assets/react.production.min.js',
      '/graphiql/assets/react-dom.production.min.js',
      '/graphiql/assets/graphiql.min.js',
      '/graphiql/assets/init.js',
    ]);
  });

  it('serves every referenced asset with its content type, gzipped on request', async () => {
    const html = await page();
    for (const url of referencedUrls(html)) {
      const response = await fetch(baseUrl + url, { headers: { 'Accept-Encoding': 'gzip' } });
      expect(response.status, url).toBe(200);
      expect(response.headers.get('content-type'), url).toBe(
        url.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
      );
      expect(response.headers.get('content-encoding'), url).toBe('gzip');
      expect((await response.text()).length, url).toBeGreaterThan(100);
    }
  });

  it('serves the files of the installed packages unchanged', async () => {
    const require = createRequire(import.meta.url);
    const graphiqlDir = path.dirname(require.resolve('graphiql/package.json'));
    const expected = readFileSync(path.join(graphiqlDir, 'graphiql.min.js'));
    // Node's fetch sends Accept-Encoding and inflates: the bytes after decoding are the file's.
    const body = Buffer.from(await (await fetch(`${baseUrl}/graphiql/assets/graphiql.min.js`)).arrayBuffer());
    expect(body.equals(expected)).toBe(true);
    expect(body.toString('utf8')).toContain('window.GraphiQL =');
  });

  it('serves a stylesheet that loads nothing from elsewhere (its fonts are data: URLs)', async () => {
    const css = await (await fetch(`${baseUrl}/graphiql/assets/graphiql.min.css`)).text();
    const urls = [...css.matchAll(/url\(\s*['"]?([^'")]*)/g)].map((match) => match[1]!);
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.filter((url) => !url.startsWith('data:'))).toEqual([]);
  });

  it('embeds the examples as tabs, a query holding </script> included, without breaking the page', async () => {
    const html = await page();
    expect(configBlock(html)).toEqual({
      graphqlPath: '/graphql',
      tabs: [
        { query: `# An object\n${EXAMPLES[0]!.query}`, variables: '{"id": "ZTF18a"}' },
        { query: `# Hostile </script>\n${EXAMPLES[1]!.query}` },
      ],
    });
    // The page's markup is intact: one data block and the four scripts, nothing injected.
    expect(html.match(/<script/g)).toHaveLength(5);
    expect(html).not.toContain('alert(1)</script>');
  });

  it('answers 304 to a matching If-None-Match, 404 to an unknown asset, 405 to POST, and leaves other paths', async () => {
    const first = await fetch(`${baseUrl}/graphiql/assets/init.js`);
    const etag = first.headers.get('etag')!;
    expect(
      (await fetch(`${baseUrl}/graphiql/assets/init.js`, { headers: { 'If-None-Match': etag } })).status,
    ).toBe(304);
    expect((await fetch(`${baseUrl}/graphiql/assets/../../package.json`)).status).toBe(418);
    for (const name of ['package.json', '__proto__', 'constructor', 'graphiql.min.js.map']) {
      expect((await fetch(`${baseUrl}/graphiql/assets/${name}`)).status, name).toBe(404);
    }
    expect((await fetch(`${baseUrl}/graphiql/assets/%2e%2e%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${baseUrl}/graphiql`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${baseUrl}/graphiql/`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/graphql`)).status).toBe(418);
    expect((await fetch(`${baseUrl}/graphiqlx`)).status).toBe(418);
  });
});

describe('the init script', () => {
  it('mounts GraphiQL with the fetcher on /graphql, graphql-ws on the same path (wss under https), and the tabs', async () => {
    const html = await page();
    const script = await (await fetch(`${baseUrl}/graphiql/assets/init.js`)).text();
    const calls: { fetcherOptions?: unknown; element?: unknown; props?: Record<string, unknown> } = {};
    const received: { params: Record<string, unknown>; options: Record<string, unknown> }[] = [];
    const fetcher = (params: Record<string, unknown>, options: Record<string, unknown>): void => {
      received.push({ params, options });
    };
    function GraphiQL(): void {}
    GraphiQL.createFetcher = (options: unknown) => {
      calls.fetcherOptions = options;
      return fetcher;
    };
    const json = html.slice(
      html.indexOf('>', html.indexOf('id="fink-graphiql-config"')) + 1,
      html.indexOf('</script', html.indexOf('id="fink-graphiql-config"')),
    );
    const stored = new Map<string, string>();
    const localStorage = {
      getItem: (key: string) => stored.get(key) ?? null,
      setItem: (key: string, value: string) => stored.set(key, value),
    };
    const context = {
      URL,
      localStorage,
      location: { protocol: 'https:', host: 'fink.example:8443', href: 'https://fink.example:8443/graphiql' },
      document: {
        getElementById: (id: string) => (id === 'fink-graphiql-config' ? { textContent: json } : { id }),
      },
      GraphiQL,
      React: {
        createElement: (type: unknown, props: Record<string, unknown>) => {
          calls.props = props;
          return { type, props };
        },
      },
      ReactDOM: {
        createRoot: (element: unknown) => ({
          render: (node: unknown) => {
            calls.element = { element, node };
          },
        }),
      },
    };
    vm.runInNewContext(script, context);
    expect(calls.fetcherOptions).toEqual({
      url: 'https://fink.example:8443/graphql',
      subscriptionUrl: 'wss://fink.example:8443/graphql',
    });
    // The page's fetcher corrects what GraphiQL 3 sends after a tab switch (graphql/graphiql#3632): the previous
    // tab's operation name and document, for the current tab's text.
    const pageFetcher = calls.props?.fetcher as (p: unknown, o: unknown) => void;
    pageFetcher(
      { query: '# live\nsubscription Live { liveAlerts { receivedAt } }', operationName: 'Object' },
      { documentAST: { kind: 'Document', definitions: [] } },
    );
    pageFetcher({ query: 'query A { x } query B { y }', operationName: 'B' }, {});
    expect(received[0]?.params.operationName).toBe('Live');
    expect(received[0]?.options.documentAST).toEqual({
      kind: 'Document',
      definitions: [
        { kind: 'OperationDefinition', operation: 'subscription', name: { kind: 'Name', value: 'Live' } },
      ],
    });
    expect(received[1]?.params.operationName).toBe('B');
    expect(calls.props?.defaultTabs).toEqual((configBlock(html) as { tabs: unknown }).tabs);
    expect(calls.props?.shouldPersistHeaders).toBe(false);
    expect(calls.element).toMatchObject({ element: { id: 'graphiql' }, node: { type: GraphiQL } });
    // A fresh profile: the first tab's variables are where GraphiQL 3 reads its initial variables editor from.
    expect(stored.get('graphiql:variables')).toBe('{"id": "ZTF18a"}');

    // A returning profile (GraphiQL's own tabs stored): its variables are left alone.
    stored.clear();
    stored.set('graphiql:tabState', '{}');
    stored.set('graphiql:variables', '{"id": "mine"}');
    vm.runInNewContext(script, context);
    expect(stored.get('graphiql:variables')).toBe('{"id": "mine"}');
  });
});

describe("GraphiQL's fetcher (the toolkit code graphiql.min.js bundles)", () => {
  it('sends the headers editor JSON as the graphql-ws connectionParams of a subscription', async () => {
    // A minimal graphql-transport-ws peer (no schema: only the handshake and one subscription matter here).
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', path: '/graphql' });
    await new Promise((resolve) => wss.once('listening', resolve));
    const seen: { protocol: string; init?: unknown; subscribe?: unknown } = { protocol: '' };
    wss.on('connection', (socket) => {
      seen.protocol = socket.protocol;
      socket.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString('utf8')) as { type: string; id?: string; payload?: unknown };
        if (message.type === 'connection_init') {
          seen.init = message.payload;
          socket.send(JSON.stringify({ type: 'connection_ack' }));
        } else if (message.type === 'subscribe') {
          seen.subscribe = message.payload;
          for (const tick of [1, 2]) {
            socket.send(JSON.stringify({ type: 'next', id: message.id, payload: { data: { tick } } }));
          }
          socket.send(JSON.stringify({ type: 'complete', id: message.id }));
        }
      });
    });
    // Browsers have WebSocket and CloseEvent globals; Node 20 does not, and the toolkit uses them.
    const globals = globalThis as { WebSocket?: unknown; CloseEvent?: unknown };
    const previous = { WebSocket: globals.WebSocket, CloseEvent: globals.CloseEvent };
    globals.WebSocket = WebSocket;
    globals.CloseEvent ??= class CloseEvent {};
    try {
      const port = (wss.address() as AddressInfo).port;
      const fetcher = createGraphiQLFetcher({
        // Outside a browser the toolkit needs an HTTP fetch passed in; subscriptions do not use it.
        fetch: globalThis.fetch,
        url: `http://127.0.0.1:${port}/graphql`,
        subscriptionUrl: `ws://127.0.0.1:${port}/graphql`,
      });
      const query = 'subscription Ticks { tick }';
      const result = await fetcher(
        { query, operationName: 'Ticks' },
        { documentAST: parse(query), headers: { Authorization: 'Bearer secret-token' } },
      );
      const ticks: unknown[] = [];
      for await (const value of result as AsyncIterable<unknown>) ticks.push(value);
      expect(ticks).toEqual([{ data: { tick: 1 } }, { data: { tick: 2 } }]);
      expect(seen).toEqual({
        protocol: 'graphql-transport-ws',
        init: { Authorization: 'Bearer secret-token' },
        subscribe: { query, operationName: 'Ticks' },
      });
    } finally {
      globals.WebSocket = previous.WebSocket;
      globals.CloseEvent = previous.CloseEvent;
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });
});
