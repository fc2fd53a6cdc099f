// The dashboard's shell: a header (pages, GraphiQL, object lookup, API token) and hash routes, so that the
// server serves one index.html: #/live, #/object/<objectId>, #/search (?ra=&dec=&radius= runs a cone search),
// #/sky, #/stats.
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { getToken, setToken, TOKEN_EVENT } from './api.ts';
import { h, replace, type Cleanup } from './dom.ts';
import { renderLive } from './pages/live.ts';
import { renderObject } from './pages/object.ts';
import { renderSearch } from './pages/search.ts';
import { renderSky } from './pages/sky.ts';
import { renderStats } from './pages/stats.ts';
import { looksLikeObjectId } from './rest.ts';

interface Route {
  page: 'live' | 'object' | 'search' | 'sky' | 'stats';
  /** The object id of #/object/<id>. */
  id?: string;
  /** The query of #/search?...: a cone search to run. */
  params?: URLSearchParams;
}

const NAV: { page: Route['page']; label: string; href: string }[] = [
  { page: 'live', label: 'Live', href: '#/live' },
  { page: 'search', label: 'Search', href: '#/search' },
  { page: 'sky', label: 'Sky map', href: '#/sky' },
  { page: 'stats', label: 'Statistics', href: '#/stats' },
];

function parseRoute(hash: string): Route | null {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const [, page, ...rest] = path.split('/');
  if (page === 'search') return { page, params: new URLSearchParams(query) };
  if (page === 'live' || page === 'sky' || page === 'stats') return { page };
  if (page === 'object' && rest.length > 0) return { page: 'object', id: decodeURIComponent(rest.join('/')) };
  return null;
}

function tokenControls(): HTMLElement {
  const input = h('input', {
    type: 'password',
    name: 'token',
    placeholder: 'API token',
    autocomplete: 'off',
    'aria-label': 'API token',
  });
  const state = h('span', { class: 'token-state', id: 'token-state' });
  const show = () => {
    const token = getToken();
    state.textContent = token === null ? 'anonymous' : 'token set';
    state.classList.toggle('ok', token !== null);
    input.value = '';
  };
  const form = h(
    'form',
    {
      class: 'token',
      id: 'token-form',
      onsubmit: (event: Event) => {
        event.preventDefault();
        if (input.value.trim() !== '') setToken(input.value);
      },
    },
    input,
    h('button', { type: 'submit' }, 'Use token'),
    h('button', { type: 'button', id: 'token-clear', onclick: () => setToken(null) }, 'Clear'),
    state,
  );
  window.addEventListener(TOKEN_EVENT, show);
  show();
  return form;
}

/** An object id opens its page; any other name goes to the search page's resolver (TNS, SIMBAD, asteroids). */
function objectLookup(): HTMLElement {
  const input = h('input', {
    name: 'objectId',
    placeholder: 'objectId or name',
    'aria-label': 'object id or name',
  });
  return h(
    'form',
    {
      class: 'lookup',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const id = input.value.trim();
        if (id === '') return;
        location.hash = looksLikeObjectId(id)
          ? `#/object/${encodeURIComponent(id)}`
          : `#/search?name=${encodeURIComponent(id)}`;
      },
    },
    input,
    h('button', { type: 'submit' }, 'Open'),
  );
}

function start(): void {
  const app = document.getElementById('app')!;
  const links = NAV.map((item) => h('a', { href: item.href, dataset: { page: item.page } }, item.label));
  const main = h('main', { id: 'page' });
  replace(
    app,
    h(
      'header',
      {},
      h('a', { class: 'brand', href: '#/live' }, 'Fink'),
      h('nav', {}, ...links, h('a', { href: '/graphiql', target: '_blank', rel: 'noopener' }, 'GraphiQL ↗')),
      objectLookup(),
      tokenControls(),
    ),
    main,
  );

  let cleanup: Cleanup | null = null;
  const show = () => {
    const route = parseRoute(location.hash);
    if (route === null) {
      location.replace('#/live');
      return;
    }
    cleanup?.();
    cleanup = null;
    for (const link of links) link.classList.toggle('active', link.dataset.page === route.page);
    replace(main);
    main.dataset.page = route.page;
    switch (route.page) {
      case 'live':
        cleanup = renderLive(main);
        break;
      case 'object':
        cleanup = renderObject(main, route.id!);
        break;
      case 'search':
        cleanup = renderSearch(main, route.params);
        break;
      case 'sky':
        cleanup = renderSky(main);
        break;
      case 'stats':
        cleanup = renderStats(main);
        break;
    }
  };
  window.addEventListener('hashchange', show);
  show();
}

start();
