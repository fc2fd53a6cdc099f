// Search: a cone search (objects nearest first) and a filter search over the archive (alerts newest first, by
// pages: the API's keyset cursors; "previous" replays the cursor that led to the page before).
import { describeError, gql, type AlertSummary } from '../api.ts';
import { h, numberField, replace, type Cleanup } from '../dom.ts';
import {
  addClassOptions,
  filterFields,
  loadClassLabels,
  readFilter,
  type AlertFilter,
} from '../filter-form.ts';
import { formatJd, formatNumber } from '../format.ts';

const PAGE_SIZE = 25;
const CONE_LIMIT = 100;

const CONE_QUERY = `query Cone($ra: Float!, $dec: Float!, $radius: Float!, $first: Int) {
  coneSearchPage(ra: $ra, dec: $dec, radiusArcsec: $radius, first: $first) {
    hasNextPage
    items { distanceArcsec object { objectId survey label mag band ndet lastJd ra dec } }
  }
}`;

const SEARCH_QUERY = `query Search($filter: AlertFilter!, $first: Int, $after: String) {
  search(filter: $filter, first: $first, after: $after) {
    endCursor hasNextPage
    items { alertId objectId survey jd band mag magErr label ra dec ndet }
  }
}`;

interface ConeRow {
  distanceArcsec: number;
  object: {
    objectId: string;
    survey: string;
    label: string;
    mag: number | null;
    band: string;
    ndet: number;
    lastJd: number;
    ra: number;
    dec: number;
  };
}

const objectLink = (id: string) => h('a', { href: `#/object/${encodeURIComponent(id)}` }, id);
const header = (...names: string[]) => h('thead', {}, h('tr', {}, ...names.map((n) => h('th', {}, n))));

export function renderSearch(main: HTMLElement): Cleanup {
  let closed = false;
  const coneResults = h('div', { id: 'cone-results' });
  const coneForm = h(
    'form',
    { id: 'cone-form', class: 'row' },
    h('label', {}, 'RA° ', h('input', { name: 'ra', inputmode: 'decimal', required: true, size: 10 })),
    h('label', {}, 'Dec° ', h('input', { name: 'dec', inputmode: 'decimal', required: true, size: 10 })),
    h('label', {}, 'radius″ ', h('input', { name: 'radius', inputmode: 'decimal', value: '10', size: 6 })),
    h('button', { type: 'submit' }, 'Cone search'),
  );
  coneForm.addEventListener('submit', (event) => {
    event.preventDefault();
    let variables: Record<string, unknown>;
    try {
      variables = {
        ra: numberField(coneForm, 'ra', 'RA'),
        dec: numberField(coneForm, 'dec', 'Dec'),
        radius: numberField(coneForm, 'radius', 'radius'),
        first: CONE_LIMIT,
      };
    } catch (error) {
      replace(coneResults, h('p', { class: 'error' }, describeError(error)));
      return;
    }
    replace(coneResults, h('p', { class: 'muted' }, 'Searching…'));
    gql<{ coneSearchPage: { items: ConeRow[]; hasNextPage: boolean } }>(CONE_QUERY, variables).then(
      ({ coneSearchPage: { items: coneSearch, hasNextPage } }) => {
        if (closed) return;
        replace(
          coneResults,
          h(
            'p',
            { class: 'muted small' },
            hasNextPage
              ? `the ${coneSearch.length} nearest objects; more lie in the cone: narrow the radius`
              : `${coneSearch.length} objects, nearest first`,
          ),
          coneSearch.length === 0
            ? null
            : h(
                'table',
                { class: 'results' },
                header(
                  'object',
                  'distance (″)',
                  'survey',
                  'class',
                  'latest mag',
                  'detections',
                  'last seen (UTC)',
                ),
                h(
                  'tbody',
                  {},
                  ...coneSearch.map(({ distanceArcsec, object: o }) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, objectLink(o.objectId)),
                      h('td', { class: 'num' }, distanceArcsec.toFixed(2)),
                      h('td', {}, o.survey),
                      h('td', {}, o.label),
                      h('td', { class: 'num' }, `${formatNumber(o.mag)} ${o.band}`),
                      h('td', { class: 'num' }, String(o.ndet)),
                      h('td', {}, formatJd(o.lastJd)),
                    ),
                  ),
                ),
              ),
        );
      },
      (error: unknown) => {
        if (!closed) replace(coneResults, h('p', { class: 'error' }, describeError(error)));
      },
    );
  });

  const filterResults = h('div', { id: 'filter-results' });
  const filterForm = h(
    'form',
    { id: 'filter-form', class: 'filter-form' },
    filterFields([]),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Search alerts')),
  );
  void loadClassLabels(gql).then((labels) => addClassOptions(filterForm, labels));

  let filter: AlertFilter = {};
  /** Cursors of the pages shown so far: cursors[n] leads to page n (null: the first page). */
  let cursors: (string | null)[] = [null];

  const showPage = (page: number) => {
    replace(filterResults, h('p', { class: 'muted' }, 'Searching…'));
    gql<{ search: { endCursor: string | null; hasNextPage: boolean; items: AlertSummary[] } }>(SEARCH_QUERY, {
      filter,
      first: PAGE_SIZE,
      after: cursors[page] ?? null,
    }).then(
      ({ search }) => {
        if (closed) return;
        if (search.endCursor !== null) cursors[page + 1] = search.endCursor;
        const previous = h(
          'button',
          { type: 'button', id: 'page-previous', disabled: page === 0 },
          '← Previous',
        );
        const next = h(
          'button',
          { type: 'button', id: 'page-next', disabled: !search.hasNextPage },
          'Next →',
        );
        previous.addEventListener('click', () => showPage(page - 1));
        next.addEventListener('click', () => showPage(page + 1));
        replace(
          filterResults,
          h(
            'div',
            { class: 'pager' },
            previous,
            h('span', { id: 'page-number' }, `page ${page + 1}`),
            next,
            h('span', { class: 'muted small' }, `${search.items.length} alerts on this page, newest first`),
          ),
          h(
            'table',
            { class: 'results', id: 'search-table' },
            header(
              'alert',
              'object',
              'survey',
              'observed (UTC)',
              'band',
              'mag',
              'class',
              'RA',
              'Dec',
              'ndet',
            ),
            h(
              'tbody',
              {},
              ...search.items.map((a) =>
                h(
                  'tr',
                  { dataset: { alertId: a.alertId } },
                  h('td', { class: 'mono' }, a.alertId),
                  h('td', {}, objectLink(a.objectId)),
                  h('td', {}, a.survey),
                  h('td', {}, formatJd(a.jd)),
                  h('td', { class: `band band-${a.band}` }, a.band),
                  h('td', { class: 'num' }, formatNumber(a.mag)),
                  h('td', {}, a.label),
                  h('td', { class: 'num' }, formatNumber(a.ra, 5)),
                  h('td', { class: 'num' }, formatNumber(a.dec, 5)),
                  h('td', { class: 'num' }, String(a.ndet)),
                ),
              ),
            ),
          ),
        );
      },
      (error: unknown) => {
        if (!closed) replace(filterResults, h('p', { class: 'error' }, describeError(error)));
      },
    );
  };

  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    try {
      filter = readFilter(filterForm);
    } catch (error) {
      replace(filterResults, h('p', { class: 'error' }, describeError(error)));
      return;
    }
    cursors = [null];
    showPage(0);
  });

  replace(
    main,
    h('h1', {}, 'Search the archive'),
    h('section', {}, h('h2', {}, 'Cone search'), coneForm, coneResults),
    h('section', {}, h('h2', {}, 'Alerts by filter'), filterForm, filterResults),
  );
  return () => {
    closed = true;
  };
}
