// Object: everything the archive knows of one object, from one query: summary, light curve, the latest alert's
// three cutouts, classification (latest, and per alert with the classifiers' names and versions), catalogue
// counterparts, watchlists, annotations and votes (with forms, which need a token with the annotator role), and
// follow-up requests (with a button to make one). New annotations by anyone appear live (annotationAdded).
import type uPlot from 'uplot';
import type { Client } from 'graphql-ws';
import { ApiError, createSocket, describeError, getToken, gql, TOKEN_EVENT } from '../api.ts';
import {
  availableScales,
  countPoints,
  drawLightCurve,
  SCALE_LABELS,
  type LightCurveCounts,
  type LightCurvePoint,
  type MagnitudeScale,
} from '../charts/light-curve.ts';
import { formatSexagesimal } from '../coords.ts';
import { fieldValue, h, numberField, replace, type Cleanup } from '../dom.ts';
import { downloadLinks } from '../downloads.ts';
import { formatIso, formatJd, formatNumber, jdToMjd } from '../format.ts';
import { externalLinks } from '../links.ts';
import { DOWNLOADS } from '../rest.ts';

const OBJECT_QUERY = `query ObjectPage($id: String!) {
  object(objectId: $id) {
    objectId survey ra dec band label mag peakMag ndet nlim firstJd lastJd rate rising colorGr ssName roid
    lastAlertId
    cutouts { science { png fits } template { png fits } difference { png fits } }
    lightCurve { jd band kind mag magErr limitMag negative dcMag dcMagErr flux fluxErr sourceId }
    classification { alertId jd label version processedAt scores { classifier label score version modelFile modelSha256 } }
    classificationHistory { alertId jd label version processedAt scores { classifier version } }
    crossmatches { catalog sourceId type distanceArcsec alertId }
    watchlists { id name owner public targetCount }
  }
}`;

const FOLLOWUPS_QUERY = `query Followups($id: String!) {
  followups(objectId: $id) { requestId facility priority note user createdAt }
}`;

const COLLAB_QUERY = `query ObjectCollab($id: String!) {
  object(objectId: $id) {
    annotations { id author text classification tags createdAt updatedAt version citations { kind value url } }
    votes { user label confidence comment createdAt }
    consensus { label share voters breakdown { label share voters confidence } }
  }
}`;

interface CutoutLink {
  png: string;
  fits: string;
}

interface Classification {
  alertId: string;
  jd: number;
  label: string;
  version: string;
  processedAt: string;
  scores: {
    classifier: string;
    label?: string;
    score?: number | null;
    version: string;
    modelFile?: string | null;
    modelSha256?: string | null;
  }[];
}

interface ObjectData {
  objectId: string;
  survey: string;
  ra: number;
  dec: number;
  band: string;
  label: string;
  mag: number | null;
  peakMag: number | null;
  ndet: number;
  nlim: number;
  firstJd: number;
  lastJd: number;
  rate: number | null;
  rising: boolean | null;
  colorGr: number | null;
  ssName: string | null;
  roid: number;
  lastAlertId: string;
  cutouts: { science: CutoutLink; template: CutoutLink; difference: CutoutLink };
  lightCurve: (LightCurvePoint & { sourceId: string | null })[];
  classification: Classification | null;
  classificationHistory: Classification[];
  crossmatches: {
    catalog: string;
    sourceId: string;
    type: string | null;
    distanceArcsec: number;
    alertId: string;
  }[];
  watchlists: { id: string; name: string; owner: string; public: boolean; targetCount: number }[];
}

interface Followup {
  requestId: string;
  facility: string;
  priority: string;
  note: string;
  user: string;
  createdAt: string;
}

interface Annotation {
  id: string;
  author: string;
  text: string;
  classification: string | null;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  version: number;
  citations: { kind: string; value: string; url: string }[];
}

interface Collab {
  annotations: Annotation[];
  votes: { user: string; label: string; confidence: number; comment: string | null; createdAt: string }[];
  consensus: {
    label: string | null;
    share: number;
    voters: number;
    breakdown: { label: string; share: number; voters: number; confidence: number }[];
  };
}

export function renderObject(main: HTMLElement, objectId: string): Cleanup {
  const cleanups: Cleanup[] = [];
  let closed = false;
  replace(main, h('h1', {}, objectId), h('p', { class: 'muted', id: 'object-loading' }, 'Loading…'));

  gql<{ object: ObjectData | null }>(OBJECT_QUERY, { id: objectId }).then(
    ({ object }) => {
      if (closed) return;
      if (object === null) {
        replace(
          main,
          h('h1', {}, objectId),
          h('p', { class: 'error' }, `No object ${objectId} in the archive.`),
        );
        return;
      }
      cleanups.push(...renderLoaded(main, object));
    },
    (error: unknown) => {
      if (!closed) replace(main, h('h1', {}, objectId), h('p', { class: 'error' }, describeError(error)));
    },
  );
  return () => {
    closed = true;
    for (const cleanup of cleanups) cleanup();
  };
}

function renderLoaded(main: HTMLElement, object: ObjectData): Cleanup[] {
  const chartBox = h('div', { class: 'chart', id: 'light-curve' });
  const collab = collabSections(object.objectId, () => refreshCollab());
  const countsLine = h('p', { class: 'muted small', id: 'light-curve-counts' });
  const scales = availableScales(object.lightCurve);
  const scaleToggle = scales.length > 1 ? magnitudeToggle(scales, (scale) => show(scale)) : null;
  replace(
    main,
    h(
      'h1',
      {},
      object.objectId,
      ' ',
      h('span', { class: 'badge', id: 'object-label' }, object.label),
      ' ',
      h('span', { class: 'muted small' }, object.survey),
    ),
    h(
      'div',
      { class: 'object-grid' },
      h(
        'div',
        { class: 'column' },
        summary(object, countPoints(object.lightCurve)),
        linksOut(object),
        h(
          'section',
          {},
          h(
            'h2',
            {},
            'Light curve ',
            downloadLinks('light-curve-download', object.objectId, DOWNLOADS.lightCurve(object.objectId)),
          ),
          scaleToggle ?? '',
          countsLine,
          chartBox,
          pointsTable(object.lightCurve),
        ),
        cutouts(object),
      ),
      h(
        'div',
        { class: 'column' },
        classification(object),
        crossmatches(object),
        watchlists(object),
        ...collab.sections,
        followupSection(object.objectId),
      ),
    ),
  );

  const cleanups: Cleanup[] = [];
  let chart: uPlot | null = null;
  let resize: ResizeObserver | null = null;
  const clearChart = () => {
    resize?.disconnect();
    chart?.destroy();
    resize = null;
    chart = null;
  };
  // Draws the light curve on one magnitude scale; the counts line says what was drawn.
  const show = (scale: MagnitudeScale) => {
    clearChart();
    const counts = countPoints(object.lightCurve, scale);
    replace(countsLine, countsText(counts, scale));
    chartBox.dataset.scale = scale;
    if (counts.plotted === 0) {
      chartBox.dataset.points = '0';
      replace(chartBox, h('p', { class: 'muted' }, 'No light-curve point.'));
      return;
    }
    replace(chartBox);
    const drawn = drawLightCurve(chartBox, object.lightCurve, scale);
    chart = drawn;
    // What was actually handed to the chart, for whoever checks it (the browser tests do).
    chartBox.dataset.points = String(
      drawn.data.slice(1).reduce((n, values) => n + Array.from(values).filter((v) => v != null).length, 0),
    );
    resize = new ResizeObserver(() => chart?.setSize({ width: chartBox.clientWidth, height: 320 }));
    resize.observe(chartBox);
  };
  show('difference');
  cleanups.push(clearChart);

  const refreshCollab = () =>
    gql<{ object: Collab | null }>(COLLAB_QUERY, { id: object.objectId }).then(
      ({ object: found }) => {
        if (found !== null) collab.show(found);
      },
      (error: unknown) => collab.fail(describeError(error)),
    );
  void refreshCollab();
  cleanups.push(watchAnnotations(object.objectId, () => void refreshCollab()));
  return cleanups;
}

/** Re-reads the annotations whenever anyone adds or edits one on this object. */
function watchAnnotations(objectId: string, onChange: () => void): Cleanup {
  const socket: Client = createSocket();
  const stop = socket.subscribe(
    {
      query: 'subscription($id: String) { annotationAdded(objectId: $id) { annotationId version } }',
      variables: { id: objectId },
    },
    { next: () => onChange(), error: () => undefined, complete: () => undefined },
  );
  return () => {
    stop();
    void socket.dispose();
  };
}

function countsText(counts: LightCurveCounts, scale: MagnitudeScale): string {
  return [
    `${counts.plotted} points: ${plural(counts.detections, 'detection')}`,
    counts.negative > 0 ? ` (${counts.negative} ${scale === 'flux' ? 'negative flux' : 'negative'})` : '',
    scale === 'difference' ? `, ${plural(counts.upperLimits, 'upper limit')}` : '',
    counts.forced > 0 ? `, ${counts.forced} forced` : '',
    counts.unplottable > 0
      ? scale === 'apparent'
        ? ` (${counts.unplottable} without an apparent magnitude, upper limits included, not drawn)`
        : scale === 'flux'
          ? ` (${counts.unplottable} without a flux, upper limits included, not drawn)`
          : ` (${counts.unplottable} without a magnitude, not drawn)`
      : '',
  ].join('');
}

/**
 * Difference magnitude, apparent (DC) magnitude (when some detection has one: ZTF) and difference flux in nJy
 * (when points carry one: Rubin): offered when there is more than one to choose from.
 */
function magnitudeToggle(
  scales: readonly MagnitudeScale[],
  onChange: (scale: MagnitudeScale) => void,
): HTMLElement {
  return h(
    'fieldset',
    { class: 'small', id: 'magnitude-scale' },
    ...scales.map((scale) =>
      h(
        'label',
        {},
        h('input', {
          type: 'radio',
          name: 'magnitude-scale',
          value: scale,
          checked: scale === 'difference',
          onchange: () => onChange(scale),
        }),
        ` ${SCALE_LABELS[scale]} `,
      ),
    ),
  );
}

/** Catalogues and viewers at the position, solar-system services, the object at the other brokers. */
function linksOut(object: ObjectData): HTMLElement {
  const links = externalLinks(object);
  const groups = [...new Set(links.map((link) => link.group))];
  return h(
    'section',
    { id: 'links-out' },
    h('h2', {}, 'Elsewhere'),
    ...groups.map((group) =>
      h(
        'p',
        { class: 'links small' },
        h('span', { class: 'muted' }, `${group}: `),
        ...links
          .filter((link) => link.group === group)
          .map((link) =>
            h(
              'a',
              { href: link.url, target: '_blank', rel: 'noopener noreferrer', dataset: { link: link.key } },
              link.label,
            ),
          ),
      ),
    ),
  );
}

function definitionList(entries: [string, string | Node][]): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    ...entries.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
  );
}

/**
 * The header's counts are those of the stored light curve, the points the chart draws on the difference scale
 * (negative detections included, as ndet counts them). The latest alert's own ndet / nlim can differ (its history
 * window, or history points the light curve merged at one time and band): shown next to them when they do.
 */
function detectionCounts(object: ObjectData, counts: LightCurveCounts): HTMLElement {
  const negative = counts.negative > 0 ? ` (${counts.negative} negative)` : '';
  const alertCounts =
    object.ndet === counts.detections && object.nlim === counts.upperLimits
      ? ''
      : ` · latest alert ${object.ndet} / ${object.nlim}`;
  return h(
    'span',
    { id: 'object-detections' },
    `${counts.detections}${negative} / ${counts.upperLimits}`,
    h('span', { class: 'muted small' }, alertCounts),
  );
}

function summary(object: ObjectData, counts: LightCurveCounts): HTMLElement {
  return h(
    'section',
    {},
    definitionList([
      ['RA, Dec (°)', `${object.ra.toFixed(6)}, ${object.dec.toFixed(6)}`],
      ['RA, Dec (hms, dms)', formatSexagesimal(object.ra, object.dec)],
      ['latest mag', `${formatNumber(object.mag)} (${object.band})`],
      ['peak mag', formatNumber(object.peakMag)],
      ['detections / limits', detectionCounts(object, counts)],
      ['first / last', `${formatJd(object.firstJd)} / ${formatJd(object.lastJd)}`],
      [
        'rate (mag/day)',
        `${formatNumber(object.rate, 3)}${object.rising === null ? '' : object.rising ? ' rising' : ' fading'}`,
      ],
      ['g − r', formatNumber(object.colorGr)],
      [
        'solar system',
        object.ssName === null ? `roid ${object.roid}` : `${object.ssName} (roid ${object.roid})`,
      ],
      ['latest alert', object.lastAlertId],
    ]),
  );
}

function pointsTable(points: ObjectData['lightCurve']): HTMLElement {
  return h(
    'details',
    {},
    h('summary', {}, 'Points as a table'),
    h(
      'div',
      { class: 'table-wrap short' },
      h(
        'table',
        { id: 'light-curve-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['MJD', 'date (UTC)', 'band', 'kind', 'mag', 'err', 'DC mag', 'DC err', 'limit'].map((c) =>
              h('th', {}, c),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...points.map((p) =>
            h(
              'tr',
              {},
              h('td', { class: 'num' }, jdToMjd(p.jd).toFixed(5)),
              h('td', {}, formatJd(p.jd)),
              h('td', { class: `band band-${p.band}` }, p.band),
              h('td', {}, p.kind === 'detection' && p.negative ? 'detection (negative)' : p.kind),
              h('td', { class: 'num' }, formatNumber(p.mag)),
              h('td', { class: 'num' }, formatNumber(p.magErr)),
              h('td', { class: 'num' }, formatNumber(p.dcMag)),
              h('td', { class: 'num' }, formatNumber(p.dcMagErr)),
              h('td', { class: 'num' }, formatNumber(p.limitMag)),
            ),
          ),
        ),
      ),
    ),
  );
}

function cutouts(object: ObjectData): HTMLElement {
  const kinds = ['science', 'template', 'difference'] as const;
  return h(
    'section',
    {},
    h('h2', {}, 'Cutouts ', h('span', { class: 'muted small' }, `alert ${object.lastAlertId}`)),
    h(
      'div',
      { class: 'cutouts', id: 'cutouts' },
      ...kinds.map((kind) =>
        h(
          'figure',
          {},
          h('img', {
            src: object.cutouts[kind].png,
            alt: `${kind} cutout`,
            width: 150,
            height: 150,
            dataset: { kind },
            onerror: (event: Event) => void cutoutPlaceholder(event.target as HTMLImageElement),
          }),
          h('figcaption', {}, kind, ' · ', h('a', { href: object.cutouts[kind].fits }, 'FITS')),
        ),
      ),
    ),
  );
}

/**
 * A cutout that did not load becomes a placeholder saying why: the server answers an unreadable one (a corrupt
 * stamp from upstream) 422 with the reason, a missing one 404.
 */
async function cutoutPlaceholder(img: HTMLImageElement): Promise<void> {
  let reason = 'cutout unavailable';
  try {
    const response = await fetch(img.src);
    const body = (await response.json()) as { error?: { message?: string } };
    if (typeof body.error?.message === 'string') reason = body.error.message;
  } catch {
    // The reason stays generic: the placeholder shows all the same.
  }
  img.replaceWith(
    h(
      'div',
      {
        class: 'cutout-placeholder',
        role: 'img',
        'aria-label': reason,
        dataset: { kind: img.dataset.kind ?? '' },
      },
      reason,
    ),
  );
}

function classification(object: ObjectData): HTMLElement {
  const latest = object.classification;
  return h(
    'section',
    { id: 'classification' },
    h('h2', {}, 'Classification'),
    latest === null
      ? h('p', { class: 'muted' }, 'Not classified.')
      : h(
          'div',
          {},
          h(
            'p',
            {},
            h('strong', {}, latest.label),
            ` · broker ${latest.version} · computed ${formatIso(latest.processedAt)}`,
          ),
          h(
            'table',
            { class: 'compact', id: 'classification-scores' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['classifier', 'version', 'model (fink-science wheel)', 'label', 'score'].map((c) =>
                  h('th', {}, c),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              ...latest.scores.map((s) =>
                h(
                  'tr',
                  {},
                  h('td', {}, s.classifier),
                  h('td', { class: 'mono' }, s.version),
                  // The model file, its SHA-256 on hover: which trained model made the score.
                  h('td', { class: 'mono small wrap-any', title: s.modelSha256 ?? '' }, s.modelFile ?? ''),
                  h('td', {}, s.label ?? ''),
                  h('td', { class: 'num' }, formatNumber(s.score ?? null, 3)),
                ),
              ),
            ),
          ),
        ),
    h(
      'details',
      {},
      h('summary', {}, `History (${object.classificationHistory.length} alerts)`),
      h(
        'div',
        { class: 'table-wrap short', id: 'classification-history-wrap' },
        h(
          'table',
          { class: 'compact', id: 'classification-history' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ...['observed (UTC)', 'alert', 'label', 'broker', 'classifiers'].map((c) => h('th', {}, c)),
            ),
          ),
          h(
            'tbody',
            {},
            ...object.classificationHistory.map((c) =>
              h(
                'tr',
                {},
                // The date and the label wrap, and so do the classifiers: the table stays within its panel.
                h('td', { class: 'wrap' }, formatJd(c.jd)),
                h('td', { class: 'mono' }, c.alertId),
                h('td', { class: 'wrap' }, c.label),
                h('td', { class: 'mono' }, c.version),
                h(
                  'td',
                  { class: 'small wrap-any' },
                  c.scores.map((s) => `${s.classifier} ${s.version}`).join(', '),
                ),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

function crossmatches(object: ObjectData): HTMLElement {
  return h(
    'section',
    { id: 'crossmatches' },
    h('h2', {}, 'Cross-matches'),
    object.crossmatches.length === 0
      ? h('p', { class: 'muted' }, 'No catalogue counterpart.')
      : h(
          'table',
          { class: 'compact' },
          h(
            'thead',
            {},
            h('tr', {}, ...['catalog', 'source', 'type', 'distance (″)'].map((c) => h('th', {}, c))),
          ),
          h(
            'tbody',
            {},
            ...object.crossmatches.map((m) =>
              h(
                'tr',
                {},
                h('td', {}, m.catalog),
                h('td', {}, m.sourceId),
                h('td', {}, m.type ?? ''),
                h('td', { class: 'num' }, m.distanceArcsec.toFixed(2)),
              ),
            ),
          ),
        ),
  );
}

function watchlists(object: ObjectData): HTMLElement {
  return h(
    'section',
    { id: 'watchlists' },
    h('h2', {}, 'Watchlists'),
    object.watchlists.length === 0
      ? h('p', { class: 'muted' }, 'In no watchlist visible to you.')
      : h(
          'ul',
          {},
          ...object.watchlists.map((w) =>
            h(
              'li',
              {},
              h('strong', {}, w.name),
              ` by ${w.owner}${w.public ? ' (public)' : ' (private)'}, ${w.targetCount} targets`,
            ),
          ),
        ),
  );
}

/** Shows a mutation's outcome in `status`: the error (UNAUTHENTICATED without a token), or `done`. */
async function submit(status: HTMLElement, run: () => Promise<unknown>, done: string): Promise<boolean> {
  status.className = 'form-status';
  status.textContent = 'Sending…';
  try {
    await run();
  } catch (error) {
    status.className = 'form-status error';
    status.textContent =
      error instanceof ApiError && error.code === 'UNAUTHENTICATED'
        ? `${error.describe()} — paste an API token (annotator role) in the header first`
        : describeError(error);
    return false;
  }
  status.className = 'form-status ok';
  status.textContent = done;
  return true;
}

interface CollabView {
  sections: HTMLElement[];
  show(collab: Collab): void;
  fail(message: string): void;
}

/**
 * Annotations and votes: the forms stay (with their outcome) while the lists are redrawn after every change,
 * whether made here or announced by annotationAdded.
 */
function collabSections(objectId: string, refresh: () => Promise<void>): CollabView {
  const annotationStatus = h('p', { class: 'form-status', id: 'annotation-status', role: 'status' });
  const annotationForm = h(
    'form',
    { id: 'annotation-form', class: 'stacked' },
    h('textarea', {
      name: 'text',
      rows: 3,
      placeholder: 'What you see (up to 10,000 characters)',
      required: true,
    }),
    h(
      'div',
      { class: 'row' },
      h('input', { name: 'classification', placeholder: 'classification (optional)' }),
      h('input', { name: 'tags', placeholder: 'tags, comma separated' }),
      h('button', { type: 'submit' }, 'Add annotation'),
    ),
    annotationStatus,
  );
  annotationForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = fieldValue(annotationForm, 'text') ?? '';
    const classification = fieldValue(annotationForm, 'classification');
    const tags = (fieldValue(annotationForm, 'tags') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== '');
    void submit(
      annotationStatus,
      () =>
        gql(
          `mutation($id: String!, $input: AnnotationInput!) { addAnnotation(objectId: $id, input: $input) { id } }`,
          {
            id: objectId,
            input: { text, tags, ...(classification === undefined ? {} : { classification }) },
          },
        ),
      'Annotation added.',
    ).then((ok) => {
      if (ok) {
        annotationForm.reset();
        void refresh();
      }
    });
  });

  const voteStatus = h('p', { class: 'form-status', id: 'vote-status', role: 'status' });
  const voteForm = h(
    'form',
    { id: 'vote-form', class: 'row' },
    h('input', { name: 'label', placeholder: 'class', required: true, size: 14 }),
    h('input', { name: 'confidence', placeholder: 'confidence 0–1', value: '1', size: 6 }),
    h('input', { name: 'comment', placeholder: 'comment (optional)' }),
    h('button', { type: 'submit' }, 'Vote'),
  );
  voteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    let confidence: number | undefined;
    try {
      confidence = numberField(voteForm, 'confidence', 'confidence');
    } catch (error) {
      voteStatus.textContent = describeError(error);
      return;
    }
    const comment = fieldValue(voteForm, 'comment');
    void submit(
      voteStatus,
      () =>
        gql(
          `mutation($id: String!, $label: String!, $confidence: Float!, $comment: String) {
             castVote(objectId: $id, label: $label, confidence: $confidence, comment: $comment) { label } }`,
          {
            id: objectId,
            label: fieldValue(voteForm, 'label') ?? '',
            confidence: confidence ?? 1,
            comment: comment ?? null,
          },
        ),
      'Vote recorded.',
    ).then((ok) => {
      if (ok) void refresh();
    });
  });

  const annotationsTitle = h('h2', {}, 'Annotations');
  const annotationList = h('div', { id: 'annotation-list' }, h('p', { class: 'muted' }, 'Loading…'));
  const voteList = h('div', { id: 'vote-list' });
  return {
    sections: [
      h('section', { id: 'annotations' }, annotationsTitle, annotationList, annotationForm),
      h('section', { id: 'votes' }, h('h2', {}, 'Community votes'), voteList, voteForm, voteStatus),
    ],
    fail(message) {
      replace(annotationList, h('p', { class: 'error' }, message));
    },
    show(collab) {
      annotationsTitle.textContent = `Annotations (${collab.annotations.length})`;
      replace(annotationList, annotationItems(collab.annotations));
      replace(voteList, ...voteItems(collab));
    },
  };
}

function annotationItems(annotations: Annotation[]): HTMLElement {
  return annotations.length === 0
    ? h('p', { class: 'muted' }, 'No annotation yet.')
    : h(
        'ul',
        { class: 'annotations' },
        ...annotations.map((a) =>
          h(
            'li',
            { dataset: { annotationId: a.id } },
            h(
              'div',
              { class: 'small muted' },
              `${a.author} · ${formatIso(a.createdAt)}`,
              a.version > 1 ? ` · edited ${formatIso(a.updatedAt)} (v${a.version})` : '',
              a.classification === null ? '' : ' · ',
              a.classification === null ? '' : h('span', { class: 'badge' }, a.classification),
              ...a.tags.map((t) => h('span', { class: 'tag' }, t)),
            ),
            h('p', { class: 'annotation-text' }, a.text),
            a.citations.length === 0
              ? null
              : h(
                  'p',
                  { class: 'small' },
                  ...a.citations.map((c) =>
                    h(
                      'a',
                      { href: c.url, target: '_blank', rel: 'noopener', class: 'citation' },
                      `${c.kind} ${c.value}`,
                    ),
                  ),
                ),
          ),
        ),
      );
}

function voteItems(collab: Collab): (HTMLElement | null)[] {
  const consensus = collab.consensus;
  return [
    h(
      'p',
      {},
      consensus.label === null
        ? 'No consensus yet.'
        : h(
            'span',
            {},
            'Consensus: ',
            h('strong', {}, consensus.label),
            ` (${(consensus.share * 100).toFixed(0)}% of ${consensus.voters} voters)`,
          ),
    ),
    collab.votes.length === 0
      ? null
      : h(
          'table',
          { class: 'compact' },
          h(
            'thead',
            {},
            h('tr', {}, ...['user', 'class', 'confidence', 'comment'].map((c) => h('th', {}, c))),
          ),
          h(
            'tbody',
            {},
            ...collab.votes.map((v) =>
              h(
                'tr',
                {},
                h('td', {}, v.user),
                h('td', {}, v.label),
                h('td', { class: 'num' }, v.confidence.toFixed(2)),
                h('td', {}, v.comment ?? ''),
              ),
            ),
          ),
        ),
  ];
}

function followupSection(objectId: string): HTMLElement {
  const list = h('ul', { id: 'followups' });
  const show = (followups: Followup[]) =>
    replace(
      list,
      ...(followups.length === 0
        ? [h('li', { class: 'muted' }, 'No follow-up requested.')]
        : followups.map((f) =>
            h(
              'li',
              {},
              `${formatIso(f.createdAt)} · ${f.user} asked ${f.facility} (${f.priority.toLowerCase()})`,
              f.note ? `: ${f.note}` : '',
            ),
          )),
    );
  // Requests are not public: reading them needs a token, as making one does.
  const load = async () => {
    if (getToken() === null) {
      replace(list, h('li', { class: 'muted' }, 'Follow-up requests are listed with an API token.'));
      return;
    }
    await gql<{ followups: Followup[] }>(FOLLOWUPS_QUERY, { id: objectId }).then(
      ({ followups }) => show(followups),
      (error: unknown) =>
        replace(
          list,
          h(
            'li',
            { class: 'muted' },
            error instanceof ApiError && error.code === 'UNAUTHENTICATED'
              ? 'Follow-up requests are listed with an API token.'
              : describeError(error),
          ),
        ),
    );
  };
  void load();
  // Once the page is left, the next token change finds the list detached and stops listening.
  const onToken = () => {
    if (list.isConnected) void load();
    else window.removeEventListener(TOKEN_EVENT, onToken);
  };
  window.addEventListener(TOKEN_EVENT, onToken);
  const status = h('p', { class: 'form-status', id: 'followup-status', role: 'status' });
  const form = h(
    'form',
    { id: 'followup-form', class: 'row' },
    h('input', { name: 'facility', placeholder: 'facility', required: true, size: 12 }),
    h(
      'select',
      { name: 'priority' },
      ...['LOW', 'NORMAL', 'HIGH', 'URGENT'].map((p) =>
        h('option', { value: p, selected: p === 'NORMAL' }, p.toLowerCase()),
      ),
    ),
    h('input', { name: 'note', placeholder: 'note (optional)' }),
    h('button', { type: 'submit' }, 'Request follow-up'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void submit(
      status,
      () =>
        gql(
          `mutation($id: String!, $facility: String!, $priority: FollowupPriority!, $note: String!) {
             requestFollowup(objectId: $id, facility: $facility, priority: $priority, note: $note) { requestId } }`,
          {
            id: objectId,
            facility: fieldValue(form, 'facility') ?? '',
            priority: fieldValue(form, 'priority') ?? 'NORMAL',
            note: fieldValue(form, 'note') ?? '',
          },
        ),
      'Follow-up requested.',
    ).then((ok) => {
      if (!ok) return;
      form.reset();
      void load();
    });
  });
  return h('section', {}, h('h2', {}, 'Follow-up'), list, form, status);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
