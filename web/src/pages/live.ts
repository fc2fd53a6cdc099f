// Live: alerts as raw2science publishes them, through the liveAlerts subscription with the form's filter. Pausing
// keeps receiving (into a buffer, its size shown) and shows the buffered alerts on resume, so nothing is lost; the
// rate is alerts received per second over the last 10 s, paused or not.
import type { Client } from 'graphql-ws';
import {
  createSocket,
  describeError,
  describeSubscriptionError,
  gql,
  TOKEN_EVENT,
  type AlertSummary,
} from '../api.ts';
import { h, replace, type Cleanup } from '../dom.ts';
import {
  addClassOptions,
  filterFields,
  loadClassLabels,
  readFilter,
  type AlertFilter,
} from '../filter-form.ts';
import { formatJd, formatNumber, formatTime } from '../format.ts';

/** Rows kept in the table: older ones are dropped from the page (they are in the archive). */
const MAX_ROWS = 1000;
const RATE_WINDOW_MS = 10_000;

const LIVE_ALERTS = `subscription Live($filter: AlertFilter) {
  liveAlerts(filter: $filter) {
    receivedAt
    alert { alertId objectId survey jd band mag magErr label ra dec ndet rising }
  }
}`;

interface LiveAlert {
  receivedAt: number;
  alert: AlertSummary & { rising: boolean | null };
}

export function renderLive(main: HTMLElement): Cleanup {
  const status = h('span', { id: 'live-status', class: 'status' }, 'connecting…');
  const received = h('strong', { id: 'live-received' }, '0');
  const rate = h('strong', { id: 'live-rate' }, '0.0');
  const buffered = h('strong', { id: 'live-buffered' }, '0');
  const shown = h('span', { id: 'live-shown' });
  const error = h('p', { class: 'error', id: 'live-error', role: 'alert' });
  const pauseButton = h('button', { type: 'button', id: 'live-pause' }, 'Pause');
  const tbody = h('tbody', { id: 'live-rows' });
  const form = h(
    'form',
    { class: 'filter-form', id: 'live-filter' },
    filterFields([]),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit' }, 'Apply filter'),
      pauseButton,
      h('button', { type: 'button', id: 'live-clear' }, 'Clear list'),
    ),
  );

  replace(
    main,
    h('h1', {}, 'Live alerts'),
    form,
    h(
      'p',
      { class: 'counters' },
      status,
      ' · received ',
      received,
      ' · ',
      rate,
      ' alerts/s (last 10 s) · buffered while paused ',
      buffered,
      ' · ',
      shown,
    ),
    error,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'alerts', id: 'live-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...[
              'received',
              'alertId',
              'object',
              'survey',
              'observed (UTC)',
              'band',
              'mag',
              'class',
              'RA',
              'Dec',
              'ndet',
            ].map((name) => h('th', {}, name)),
          ),
        ),
        tbody,
      ),
    ),
  );

  let total = 0;
  let paused = false;
  let buffer: LiveAlert[] = [];
  let arrivals: number[] = [];
  let filter: AlertFilter = {};
  let socket: Client | null = null;
  let unsubscribe: (() => void) | null = null;

  const updateCounters = () => {
    const now = performance.now();
    arrivals = arrivals.filter((t) => now - t <= RATE_WINDOW_MS);
    received.textContent = String(total);
    rate.textContent = (arrivals.length / (RATE_WINDOW_MS / 1000)).toFixed(1);
    buffered.textContent = String(buffer.length);
    shown.textContent = `${tbody.rows.length} shown`;
  };

  const row = (live: LiveAlert): HTMLTableRowElement => {
    const a = live.alert;
    return h(
      'tr',
      { dataset: { alertId: a.alertId } },
      h('td', {}, formatTime(live.receivedAt)),
      h('td', { class: 'mono' }, a.alertId),
      h('td', {}, h('a', { href: `#/object/${encodeURIComponent(a.objectId)}` }, a.objectId)),
      h('td', {}, a.survey),
      h('td', {}, formatJd(a.jd)),
      h('td', { class: `band band-${a.band}` }, a.band),
      h('td', { class: 'num' }, formatNumber(a.mag)),
      h('td', {}, a.label),
      h('td', { class: 'num' }, formatNumber(a.ra, 5)),
      h('td', { class: 'num' }, formatNumber(a.dec, 5)),
      h('td', { class: 'num' }, String(a.ndet)),
    );
  };

  /** Newest first: a batch is inserted at the top in arrival order reversed. */
  const show = (alerts: LiveAlert[]) => {
    const fragment = document.createDocumentFragment();
    for (let i = alerts.length - 1; i >= 0; i--) fragment.appendChild(row(alerts[i]!));
    tbody.insertBefore(fragment, tbody.firstChild);
    while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(-1);
  };

  // Alerts arrive in bursts (a replayed night): rows are added once per animation frame, not once per alert.
  let pending: LiveAlert[] = [];
  let frame: number | null = null;
  const flush = () => {
    frame = null;
    show(pending);
    pending = [];
    updateCounters();
  };

  const onAlert = (live: LiveAlert) => {
    total += 1;
    arrivals.push(performance.now());
    if (paused) buffer.push(live);
    else {
      pending.push(live);
      frame ??= requestAnimationFrame(flush);
    }
    updateCounters();
  };

  const subscribe = () => {
    unsubscribe?.();
    void socket?.dispose();
    status.textContent = 'connecting…';
    status.className = 'status';
    socket = createSocket({
      onConnected: () => {
        status.textContent = 'live';
        status.className = 'status ok';
      },
      onClosed: () => {
        status.textContent = 'disconnected, retrying…';
        status.className = 'status warn';
      },
    });
    unsubscribe = socket.subscribe<{ liveAlerts: LiveAlert }>(
      { query: LIVE_ALERTS, variables: { filter } },
      {
        next: (result) => {
          if (result.errors !== undefined) error.textContent = describeSubscriptionError(result.errors);
          if (result.data?.liveAlerts !== undefined) onAlert(result.data.liveAlerts);
        },
        error: (e) => {
          error.textContent = describeSubscriptionError(e);
          status.textContent = 'stopped';
          status.className = 'status warn';
        },
        complete: () => undefined,
      },
    );
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    try {
      filter = readFilter(form);
    } catch (e) {
      error.textContent = describeError(e);
      return;
    }
    error.textContent = '';
    subscribe();
  });
  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    main.classList.toggle('paused', paused);
    if (!paused) {
      show(buffer);
      buffer = [];
    }
    updateCounters();
  });
  form.querySelector('#live-clear')!.addEventListener('click', () => {
    replace(tbody);
    updateCounters();
  });

  void loadClassLabels(gql).then((labels) => addClassOptions(form, labels));

  subscribe();
  const ticker = setInterval(updateCounters, 1000);
  const onToken = () => subscribe();
  window.addEventListener(TOKEN_EVENT, onToken);
  updateCounters();

  return () => {
    clearInterval(ticker);
    if (frame !== null) cancelAnimationFrame(frame);
    window.removeEventListener(TOKEN_EVENT, onToken);
    unsubscribe?.();
    void socket?.dispose();
  };
}
