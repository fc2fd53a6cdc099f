// GraphiQL served entirely from the project's own node_modules: the machines that run the broker are offline, so
// the page loads no CDN. Assets live under `<path>/assets/`; the page holds no inline script (its settings travel
// as a JSON data block read by the served init script), so a strict Content-Security-Policy stays possible.
//
// Subscriptions: graphiql.min.js bundles the toolkit's createGraphiQLFetcher *and* the graphql-ws client (webpack
// resolved the toolkit's `import('graphql-ws')`), so no separate graphql-ws script is needed: given
// `subscriptionUrl`, the fetcher opens a graphql-ws connection for each subscription on the same path as /graphql
// (ws:// or wss:// as the page), and sends as its connectionParams the JSON of GraphiQL's headers editor. A token
// typed there as {"Authorization": "Bearer <token>"} therefore reaches both HTTP requests (as a header) and
// subscriptions (as connectionParams.Authorization), which is what graphiql 3 supports; a single shared wsClient
// would instead freeze the connectionParams at its first connection.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import type { Logger } from '../logger.ts';
import { refuseUnlessGetOrHead, sendStaticFile } from './static-file.ts';

export interface GraphiqlExample {
  /** Shown as a comment on the tab's first line. */
  name: string;
  query: string;
  /** JSON text of the variables. */
  variables?: string;
}

export interface GraphiqlOptions {
  /** Where the page is served, e.g. '/graphiql'. */
  path: string;
  /** The GraphQL endpoint, e.g. '/graphql', for HTTP and for graphql-ws. */
  graphqlPath: string;
  /** Preloaded as GraphiQL's tabs (on a browser's first visit: GraphiQL then keeps its tabs in localStorage). */
  examples: readonly GraphiqlExample[];
  /** Where a failure to read an asset from node_modules is reported. */
  logger?: Logger;
}

interface AssetSource {
  /** Package whose package.json locates the file (their `exports` do not expose the UMD builds themselves). */
  pkg: string;
  file: string;
  contentType: string;
}

const ASSET_SOURCES: ReadonlyMap<string, AssetSource> = new Map(
  Object.entries({
    'react.production.min.js': {
      pkg: 'react',
      file: 'umd/react.production.min.js',
      contentType: 'text/javascript; charset=utf-8',
    },
    'react-dom.production.min.js': {
      pkg: 'react-dom',
      file: 'umd/react-dom.production.min.js',
      contentType: 'text/javascript; charset=utf-8',
    },
    'graphiql.min.js': {
      pkg: 'graphiql',
      file: 'graphiql.min.js',
      contentType: 'text/javascript; charset=utf-8',
    },
    'graphiql.min.css': { pkg: 'graphiql', file: 'graphiql.min.css', contentType: 'text/css; charset=utf-8' },
  }),
);

/** The order the page loads them: GraphiQL's UMD build expects window.React and window.ReactDOM. */
const SCRIPTS = ['react.production.min.js', 'react-dom.production.min.js', 'graphiql.min.js', 'init.js'];
const CONFIG_ELEMENT_ID = 'fink-graphiql-config';

/** Reads the config block and mounts GraphiQL; plain ES2017 for any browser GraphiQL 3 itself supports. */
const INIT_SCRIPT = `'use strict';
(function () {
  var config = JSON.parse(document.getElementById('${CONFIG_ELEMENT_ID}').textContent);
  var wsProtocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  var baseFetcher = GraphiQL.createFetcher({
    url: new URL(config.graphqlPath, location.href).toString(),
    // Each subscription gets its own graphql-ws connection whose connectionParams are the headers editor's JSON.
    subscriptionUrl: wsProtocol + '//' + location.host + config.graphqlPath,
  });
  // GraphiQL 3 can send the operation name and document of the previously shown tab after a tab switch
  // (graphql/graphiql#3632): a query then fails with "Unknown operation", a subscription goes over HTTP. The text
  // sent is the current tab's, so its operations are read from it: an operation name it does not define becomes
  // its only operation's (or none), and the toolkit's subscription check (which looks only at the operations'
  // kinds and names) gets those operations rather than the stale document.
  var fetcher = function (params, options) {
    var operations = [];
    var pattern = /(?:^|[}\\s])(query|mutation|subscription)(?:\\s+([_A-Za-z][_0-9A-Za-z]*))?\\s*[({@]/g;
    var text = (params.query || '').replace(/#[^\\n]*/g, '');
    var match;
    while ((match = pattern.exec(text)) !== null) operations.push({ kind: match[1], name: match[2] });
    if (operations.length === 0) return baseFetcher(params, options);
    var names = operations.map(function (operation) { return operation.name; });
    if (names.indexOf(params.operationName || undefined) < 0) {
      params = Object.assign({}, params, { operationName: operations.length === 1 ? names[0] : undefined });
    }
    var documentAST = {
      kind: 'Document',
      definitions: operations.map(function (operation) {
        return {
          kind: 'OperationDefinition',
          operation: operation.kind,
          name: operation.name === undefined ? undefined : { kind: 'Name', value: operation.name },
        };
      }),
    };
    return baseFetcher(params, Object.assign({}, options, { documentAST: documentAST }));
  };
  // GraphiQL 3 fills the variables editor at start from its stored 'variables', not from the first default tab
  // (whose variables it shows only after a tab switch): in a fresh profile the first Run sent none. The first
  // tab's variables are stored where GraphiQL reads them, only when it has no tabs of its own yet.
  try {
    var first = config.tabs[0];
    if (first && first.variables && localStorage.getItem('graphiql:tabState') === null) {
      localStorage.setItem('graphiql:variables', first.variables);
    }
  } catch (e) {
    // No localStorage (a privacy mode): the first tab's variables then show after a tab switch only.
  }
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultTabs: config.tabs,
      // The variables and headers pane open: a token goes into the headers editor.
      defaultEditorToolsVisibility: true,
      // Tokens typed into the headers editor are not written to localStorage.
      shouldPersistHeaders: false,
    }),
  );
})();
`;

interface Asset {
  body: Buffer;
  gzipped: Buffer;
  contentType: string;
  etag: string;
}

const require = createRequire(import.meta.url);

/**
 * Serves the page at `options.path` (and `options.path/`) and its assets at `options.path/assets/<name>`, and
 * returns true; returns false for any other path. Assets are read and gzipped once, on first use.
 */
export function createGraphiqlHandler(
  options: GraphiqlOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const base = options.path.replace(/\/+$/, '');
  const assetPrefix = `${base}/assets/`;
  const page = makeAsset(Buffer.from(renderPage(options, assetPrefix)), 'text/html; charset=utf-8');
  const init = makeAsset(Buffer.from(INIT_SCRIPT), 'text/javascript; charset=utf-8');
  const loaded = new Map<string, Promise<Asset>>();

  function asset(name: string): Promise<Asset> | null {
    if (name === 'init.js') return Promise.resolve(init);
    // A Map, not an object: a name like __proto__ or constructor finds nothing.
    const source = ASSET_SOURCES.get(name);
    if (source === undefined) return null;
    let pending = loaded.get(name);
    if (pending === undefined) {
      pending = loadAsset(source);
      // A failed read is not cached: the next request tries again.
      pending.catch(() => loaded.delete(name));
      loaded.set(name, pending);
    }
    return pending;
  }

  return async function graphiqlRoute(req, res) {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    let found: Promise<Asset> | null;
    let cache: string;
    if (pathname === base || pathname === `${base}/`) {
      found = Promise.resolve(page);
      // The page embeds the server's settings: revalidated on every load (cheap: a 304 by ETag).
      cache = 'no-cache';
    } else if (pathname.startsWith(assetPrefix)) {
      found = asset(pathname.slice(assetPrefix.length));
      // The packages change only with a deploy; a day bounds how long an old copy may be used.
      cache = 'public, max-age=86400';
    } else {
      return false;
    }
    if (refuseUnlessGetOrHead(req, res)) return true;
    if (found === null) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found');
      return true;
    }
    let served: Asset;
    try {
      served = await found;
    } catch (err) {
      options.logger?.error({ err, path: pathname }, 'graphiql asset unreadable');
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('asset unavailable');
      return true;
    }
    sendStaticFile(req, res, served, served.contentType, cache);
    return true;
  };
}

/**
 * The page: local stylesheet and scripts only, and the settings (tabs, endpoint) as a JSON data block. JSON
 * inside <script> ends at the first `</script`, so `<`, `>` and `&` are written as \\u escapes (still the same
 * JSON), and U+2028/U+2029 too for older parsers.
 */
function renderPage(options: GraphiqlOptions, assetPrefix: string): string {
  const config = {
    graphqlPath: options.graphqlPath,
    tabs: options.examples.map((example) => ({
      query: `# ${example.name.replace(/[\r\n]+/g, ' ')}\n${example.query}`,
      ...(example.variables === undefined ? {} : { variables: example.variables }),
    })),
  };
  const json = JSON.stringify(config).replace(/[<>&\u2028\u2029]/g, (ch) => {
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  const src = (name: string): string => escapeAttribute(`${assetPrefix}${name}`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fink GraphQL</title>
<link rel="stylesheet" href="${src('graphiql.min.css')}">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="${CONFIG_ELEMENT_ID}">${json}</script>
${SCRIPTS.map((name) => `<script src="${src(name)}"></script>`).join('\n')}
</body>
</html>
`;
}

function escapeAttribute(value: string): string {
  return value.replace(/[&"<>]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const gzipAsync = promisify(gzip);

async function loadAsset(source: AssetSource): Promise<Asset> {
  const root = path.dirname(require.resolve(`${source.pkg}/package.json`));
  const body = await readFile(path.join(root, source.file));
  // graphiql.min.js is ~3.5 MB (the build is not minified), ~0.7 MB gzipped: compressed off the event loop.
  return makeAsset(body, source.contentType, await gzipAsync(body));
}

function makeAsset(body: Buffer, contentType: string, gzipped = gzipSync(body)): Asset {
  return {
    body,
    gzipped,
    contentType,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
  };
}
