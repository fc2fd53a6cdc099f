// Search: a name (resolved as the REST API's resolver does: TNS, SIMBAD, asteroids), a cone search (objects nearest
// first; positions in degrees or sexagesimal), the latest objects of a class, and a filter search over the archive
// (alerts newest first, by pages: the API's keyset cursors; "previous" replays the cursor that led to the page
// before). Cone searches and latest objects are downloadable from the REST API (CSV, Parquet, VOTable).
import { describeError, gql, type AlertSummary } from '../api.ts';
import { parseDec, parseRa, splitPosition } from '../coords.ts';
import { fieldValue, h, numberField, replace, type Cleanup } from '../dom.ts';
import { downloadLinks } from '../downloads.ts';
import {
  DOWNLOADS,
  looksLikeObjectId,
  resolvedTarget,
  resolveName,
  RESOLVERS,
  RestUnavailable,
  type Resolver,
} from '../rest.ts';
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
const LATEST_DEFAULT = 10;
/** MJD 0: latest objects of any date, as Fink's latests without a start date. */
const EPOCH_JD = 2400000.5;

const LATEST_QUERY = `query Latest($label: String!, $since: Float, $first: Int) {
  latestObjects(label: $label, sinceJd: $since, first: $first) { objectId survey label mag band ndet lastJd ra dec }
}`;

const NAME_FALLBACK_QUERY = `query Name($name: String!, $first: Int) {
  object(objectId: $name) { objectId }
  solarSystemObjects(name: $name, first: $first) { objectId }
}`;

const SSO_QUERY = `query Sso($name: String!, $first: Int) { solarSystemObjects(name: $name, first: $first) { objectId } }`;

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

export function renderSearch(main: HTMLElement, params: URLSearchParams = new URLSearchParams()): Cleanup {
  let closed = false;
  const isClosed = () => closed;
  const coneResults = h('div', { id: 'cone-results' });
  const coneForm = h(
    'form',
    { id: 'cone-form', class: 'row' },
    h('label', {}, 'RA ', h('input', { name: 'ra', required: true, size: 14, placeholder: '° or hh:mm:ss' })),
    h('label', {}, 'Dec ', h('input', { name: 'dec', size: 14, placeholder: '° or ±dd:mm:ss' })),
    h('label', {}, 'radius″ ', h('input', { name: 'radius', inputmode: 'decimal', value: '10', size: 6 })),
    h('button', { type: 'submit' }, 'Cone search'),
  );
  coneForm.addEventListener('submit', (event) => {
    event.preventDefault();
    let variables: { ra: number; dec: number; radius: number; first: number };
    try {
      const raText = fieldValue(coneForm, 'ra') ?? '';
      const decText = fieldValue(coneForm, 'dec');
      // A whole position pasted into the RA box ("12:55:17.3 +02:53:49") is split there.
      const whole = decText === undefined ? splitPosition(raText) : null;
      const radius = numberField(coneForm, 'radius', 'radius') ?? 10;
      variables = {
        ra: whole?.ra ?? parseRa(raText),
        dec: whole?.dec ?? parseDec(decText ?? ''),
        radius,
        first: CONE_LIMIT,
      };
    } catch (error) {
      replace(coneResults, h('p', { class: 'error' }, describeError(error)));
      return;
    }
    const { ra, dec, radius } = variables;
    replace(coneResults, h('p', { class: 'muted' }, 'Searching…'));
    gql<{ coneSearchPage: { items: ConeRow[]; hasNextPage: boolean } }>(CONE_QUERY, variables).then(
      ({ coneSearchPage: { items: coneSearch, hasNextPage } }) => {
        if (closed) return;
        replace(
          coneResults,
          h(
            'p',
            { class: 'muted small', id: 'cone-summary' },
            hasNextPage
              ? `the ${coneSearch.length} nearest objects within ${radius}″ of RA ${ra.toFixed(6)}°, Dec ${dec.toFixed(6)}°; more lie in the cone: narrow the radius `
              : `${coneSearch.length} objects within ${radius}″ of RA ${ra.toFixed(6)}°, Dec ${dec.toFixed(6)}°, nearest first `,
            downloadLinks(
              'cone-download',
              `cone-${ra.toFixed(4)}-${dec.toFixed(4)}-${radius}`,
              DOWNLOADS.cone(ra, dec, radius),
            ),
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
            downloadLinks('search-download', 'search', DOWNLOADS.search(filter)),
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

  const runCone = (ra: string, dec: string, radius: string) => {
    (coneForm.elements.namedItem('ra') as HTMLInputElement).value = ra;
    (coneForm.elements.namedItem('dec') as HTMLInputElement).value = dec;
    (coneForm.elements.namedItem('radius') as HTMLInputElement).value = radius;
    coneForm.requestSubmit();
  };
  const names = nameSection(isClosed, (ra, dec) => runCone(String(ra), String(dec), '10'));
  const latest = latestSection(isClosed);

  replace(
    main,
    h('h1', {}, 'Search the archive'),
    names.section,
    h('section', {}, h('h2', {}, 'Cone search'), coneForm, coneResults),
    latest,
    h('section', {}, h('h2', {}, 'Alerts by filter'), filterForm, filterResults),
  );
  // #/search?ra=&dec=&radius= (the sky map's clicks) runs that cone; #/search?name= resolves the name.
  const ra = params.get('ra');
  const dec = params.get('dec');
  if (ra !== null && dec !== null) runCone(ra, dec, params.get('radius') ?? '10');
  const name = params.get('name');
  if (name !== null) names.resolve(name);
  return () => {
    closed = true;
  };
}

/** Which resolver a name is for when the user left the choice to us (as Fink's portal guesses it). */
export function guessResolver(name: string): Resolver {
  if (/^(AT|SN|TDE|FRB|Kilonova)\s*\d{4}/i.test(name)) return 'tns';
  // An asteroid number, or a provisional designation such as 2005 WM38 / 2005WM38.
  if (/^\d+$/.test(name) || /^\d{4}\s?[A-Z]{2}\d{0,3}$/.test(name)) return 'ssodnet';
  return 'simbad';
}

/** The name box: the REST resolver's answer as links (objects, asteroids' objects, positions to search around). */
function nameSection(
  isClosed: () => boolean,
  coneAt: (ra: number, dec: number) => void,
): { section: HTMLElement; resolve: (name: string) => void } {
  const results = h('div', { id: 'name-results' });
  const form = h(
    'form',
    { id: 'name-form', class: 'row' },
    h('input', { name: 'name', required: true, size: 24, placeholder: 'ZTF21…, SN 2023abc, M31, 58270' }),
    h(
      'select',
      { name: 'resolver', 'aria-label': 'resolver' },
      h('option', { value: 'auto' }, 'guess the resolver'),
      ...RESOLVERS.map((r) => h('option', { value: r }, r)),
    ),
    h('button', { type: 'submit' }, 'Resolve'),
  );
  const resolve = (name: string) => {
    const chosen = fieldValue(form, 'resolver') ?? 'auto';
    (form.elements.namedItem('name') as HTMLInputElement).value = name;
    replace(results, h('p', { class: 'muted' }, 'Resolving…'));
    void resolveInto(results, name, chosen, isClosed, coneAt);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = fieldValue(form, 'name');
    if (name !== undefined) resolve(name);
  });
  return {
    section: h('section', {}, h('h2', {}, 'Object or name'), form, results),
    resolve,
  };
}

async function resolveInto(
  results: HTMLElement,
  name: string,
  chosen: string,
  isClosed: () => boolean,
  coneAt: (ra: number, dec: number) => void,
): Promise<void> {
  const show = (...children: (HTMLElement | string | null)[]) => {
    if (!isClosed()) replace(results, ...children);
  };
  const objectList = (ids: readonly string[]) =>
    h('ul', { class: 'resolved-objects' }, ...ids.map((id) => h('li', {}, objectLink(id))));
  if (chosen === 'auto' && looksLikeObjectId(name)) {
    show(h('p', { class: 'small', id: 'name-source' }, 'An object id:'), objectList([name]));
    return;
  }
  const resolver = chosen === 'auto' ? guessResolver(name) : (chosen as Resolver);
  let rows: Record<string, unknown>[];
  try {
    rows = await resolveName(resolver, name);
  } catch (error) {
    if (!(error instanceof RestUnavailable)) {
      show(h('p', { class: 'error' }, describeError(error)));
      return;
    }
    // The REST API is not served here: the stored objects of that id or asteroid name, from GraphQL.
    try {
      const found = await gql<{
        object: { objectId: string } | null;
        solarSystemObjects: { objectId: string }[];
      }>(NAME_FALLBACK_QUERY, { name, first: CONE_LIMIT });
      const ids = [
        ...new Set([
          ...(found.object === null ? [] : [found.object.objectId]),
          ...found.solarSystemObjects.map((o) => o.objectId),
        ]),
      ];
      show(
        h(
          'p',
          { class: 'small muted', id: 'name-source' },
          `The REST resolver is not available here; ${ids.length} stored objects of that id or asteroid name.`,
        ),
        ids.length === 0 ? null : objectList(ids),
      );
    } catch (fallbackError) {
      show(h('p', { class: 'error' }, describeError(fallbackError)));
    }
    return;
  }
  const targets = rows.map(resolvedTarget);
  const items = await Promise.all(
    targets.map(async (target) => {
      let ids = target.objectIds;
      if (target.ssName !== null) {
        const found = await gql<{ solarSystemObjects: { objectId: string }[] }>(SSO_QUERY, {
          name: target.ssName,
          first: CONE_LIMIT,
        }).catch(() => ({ solarSystemObjects: [] }));
        ids = [...new Set([...ids, ...found.solarSystemObjects.map((o) => o.objectId)])];
      }
      const position = target.position;
      return h(
        'li',
        {},
        h('span', { class: 'small muted' }, target.fields.map(([k, v]) => `${k}: ${v}`).join(' · ')),
        ' ',
        ...ids.flatMap((id) => [objectLink(id), ' ']),
        position === null
          ? null
          : h(
              'button',
              { type: 'button', class: 'cone-here', onclick: () => coneAt(position.ra, position.dec) },
              'Cone search here',
            ),
      );
    }),
  );
  show(
    h('p', { class: 'small', id: 'name-source' }, `${resolver}: ${rows.length} matches for “${name}”`),
    items.length === 0 ? null : h('ul', { class: 'resolved' }, ...items),
  );
}

interface LatestObject {
  objectId: string;
  survey: string;
  label: string;
  mag: number | null;
  band: string;
  ndet: number;
  lastJd: number;
}

/** The latest objects of a class (any date), downloadable as Fink's latests. */
function latestSection(isClosed: () => boolean): HTMLElement {
  const results = h('div', { id: 'latest-results' });
  const form = h(
    'form',
    { id: 'latest-form', class: 'row' },
    h('label', {}, 'Class ', h('select', { name: 'label', required: true })),
    h(
      'label',
      {},
      'how many ',
      h('input', { name: 'n', inputmode: 'numeric', value: String(LATEST_DEFAULT), size: 4 }),
    ),
    h('button', { type: 'submit' }, 'Latest objects'),
  );
  void loadClassLabels(gql).then((labels) => {
    const select = form.elements.namedItem('label');
    if (select instanceof HTMLSelectElement)
      for (const label of labels) select.appendChild(h('option', { value: label }, label));
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const label = fieldValue(form, 'label');
    let n: number;
    try {
      n = numberField(form, 'n', 'how many') ?? LATEST_DEFAULT;
    } catch (error) {
      replace(results, h('p', { class: 'error' }, describeError(error)));
      return;
    }
    if (label === undefined) return;
    replace(results, h('p', { class: 'muted' }, 'Searching…'));
    gql<{ latestObjects: LatestObject[] }>(LATEST_QUERY, { label, since: EPOCH_JD, first: n }).then(
      ({ latestObjects }) => {
        if (isClosed()) return;
        replace(
          results,
          h(
            'p',
            { class: 'muted small' },
            `${latestObjects.length} objects of class ${label}, most recent first `,
            downloadLinks(
              'latest-download',
              `latest-${label.replace(/\W+/g, '_')}`,
              DOWNLOADS.latests(label, n),
            ),
          ),
          h(
            'table',
            { class: 'results', id: 'latest-table' },
            header('object', 'survey', 'class', 'latest mag', 'detections', 'last seen (UTC)'),
            h(
              'tbody',
              {},
              ...latestObjects.map((o) =>
                h(
                  'tr',
                  {},
                  h('td', {}, objectLink(o.objectId)),
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
        if (!isClosed()) replace(results, h('p', { class: 'error' }, describeError(error)));
      },
    );
  });
  return h('section', {}, h('h2', {}, 'Latest objects of a class'), form, results);
}
