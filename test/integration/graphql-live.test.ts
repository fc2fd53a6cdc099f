// Live subscriptions over real WebSockets: the simulator's real ZTF alerts go through raw2science to the science
// topic, the server pushes the ones matching each filter; subscribers of the same operation share one execution;
// limits per connection; and a Python client (gql, from PyPI) receives them too.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { ClickHouseAlertStore } from '../../src/storage/alert-store.ts';
import { runCommand } from '../../src/storage/clickhouse.ts';
import { sql } from '../../src/storage/sql.ts';
import { PROJECT_ROOT } from '../../src/project.ts';
import { createApiSandbox, type ApiSandbox } from '../helpers/api.ts';
import { finkClientPython } from '../helpers/fink-client.ts';
import { waitFor } from '../helpers/wait.ts';

let api: ApiSandbox;
const GQL_SUBSCRIBER = path.join(PROJECT_ROOT, 'test', 'interop', 'gql_subscribe.py');

beforeAll(async () => {
  api = await createApiSandbox('live', { withAlerts: false, server: { maxSubscriptionsPerConnection: 3 } });
  await api.pipeline.start('raw2science');
}, 300_000);

afterAll(async () => {
  await api?.stop();
});

interface LiveAlert {
  receivedAt: number;
  alert: { alertId: string; band: string; mag: number | null; label: string };
}

const LIVE = `subscription($filter: AlertFilter) {
  liveAlerts(filter: $filter) { receivedAt alert { alertId band mag label } } }`;

/** Subscribes and collects what arrives; `done` rejects on an error message. */
function collect(client: Client, variables: Record<string, unknown>) {
  const received: LiveAlert[] = [];
  const errors: unknown[] = [];
  const stop = client.subscribe<{ liveAlerts: LiveAlert }>(
    { query: LIVE, variables },
    {
      next: (result) => {
        if (result.errors !== undefined) errors.push(...result.errors);
        if (result.data?.liveAlerts !== undefined) received.push(result.data.liveAlerts);
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return { received, errors, stop };
}

describe('live alerts', () => {
  it('pushes each subscriber the alerts its filter selects, running each distinct filter once per alert', async () => {
    const clients = [api.wsClient(), api.wsClient(), api.wsClient()];
    const gBright = { filter: { band: ['g'], mag: { max: 19 } } };
    const all = {};
    const a = collect(clients[0]!, gBright);
    const b = collect(clients[1]!, gBright);
    const c = collect(clients[2]!, all);
    await waitFor(() => api.launched.server.shared.activeExecutions === 2, 30_000);
    const evaluationsBefore = api.launched.live.counters.filterEvaluations;

    await api.pipeline.publish(api.payloads);
    // raw2science publishes one science message per stored alert (570 messages pass the cuts).
    await waitFor(() => c.received.length >= 570, 120_000);
    const expected = c.received.filter(
      (live) => live.alert.band === 'g' && live.alert.mag !== null && live.alert.mag <= 19,
    );
    await waitFor(
      () => a.received.length === expected.length && b.received.length === expected.length,
      30_000,
    );

    expect(expected.length).toBeGreaterThan(0);
    expect(a.received.map((x) => x.alert.alertId)).toEqual(expected.map((x) => x.alert.alertId));
    expect(b.received.map((x) => x.alert.alertId)).toEqual(expected.map((x) => x.alert.alertId));
    expect([...a.errors, ...b.errors, ...c.errors]).toEqual([]);
    // Two distinct operations: each alert was filtered twice, not three times.
    expect(api.launched.live.counters.filterEvaluations - evaluationsBefore).toBe(2 * c.received.length);
    expect(api.launched.server.shared.executionsStarted).toBe(2);

    // The alerts pushed are the stored ones.
    const store = new ClickHouseAlertStore(api.pipeline.db.client);
    const sample = await store.alertsByIds([BigInt(c.received[0]!.alert.alertId)]);
    expect(sample[0]?.label).toBe(c.received[0]!.alert.label);

    for (const subscription of [a, b, c]) subscription.stop();
    for (const client of clients) await client.dispose();
    await waitFor(() => api.launched.server.shared.activeExecutions === 0, 30_000);
  });

  it('refuses an invalid filter with BAD_USER_INPUT naming it, and keeps serving the connection', async () => {
    const client = api.wsClient();
    const bad = collect(client, { filter: { cone: { ra: 10, dec: 10, radiusArcsec: -5 } } });
    await waitFor(() => bad.errors.length > 0, 30_000);
    expect(JSON.stringify(bad.errors)).toContain('filter.cone.radiusArcsec');
    const result = await new Promise<unknown>((resolve, reject) => {
      client.subscribe(
        { query: '{ classes { label } }' },
        { next: resolve, error: reject, complete: () => undefined },
      );
    });
    expect(result).toHaveProperty('data.classes');
    await client.dispose();
  });

  it('refuses a filter naming an unknown class with BAD_USER_INPUT listing the valid classes', async () => {
    const client = api.wsClient();
    const bad = collect(client, { filter: { or: [{ band: ['g'] }, { label: ['SN candidat'] }] } });
    await waitFor(() => bad.errors.length > 0, 30_000);
    const text = JSON.stringify(bad.errors);
    expect(text).toContain('filter.or[1].label[0]');
    expect(text).toContain("unknown class 'SN candidat'");
    expect(text).toContain("'SN candidate'");
    await client.dispose();
  });

  it('limits subscriptions per connection', async () => {
    const client = api.wsClient();
    const subscriptions = [0, 1, 2, 3].map(() => collect(client, {}));
    await waitFor(() => subscriptions[3]!.errors.length > 0, 30_000);
    expect(JSON.stringify(subscriptions[3]!.errors)).toContain('at most 3');
    expect(subscriptions.slice(0, 3).every((s) => s.errors.length === 0)).toBe(true);
    for (const s of subscriptions) s.stop();
    await client.dispose();
  });

  it('refuses a connection with a wrong token', async () => {
    const client = api.wsClient('fink_0000000000000000_wrong');
    const failed = collect(client, {});
    await waitFor(() => failed.errors.length > 0, 30_000);
    expect(failed.received).toEqual([]);
    await client.dispose();
  });
});

describe('a Python notebook client (gql from PyPI)', () => {
  it('subscribes over graphql-ws and receives the live alerts of its filter', async () => {
    const python = await finkClientPython();
    const executions = api.launched.server.shared.activeExecutions;
    const child = spawn(
      python,
      [
        GQL_SUBSCRIBER,
        '--url',
        `${api.url.replace(/^http/, 'ws')}/graphql`,
        '--count',
        '20',
        '--timeout',
        '150',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await waitFor(() => api.launched.server.shared.activeExecutions > executions, 120_000);
    await api.pipeline.publish(api.payloads);
    const code = await exited;
    // gql may log a close-handshake timeout on stderr as it leaves; the exit code says whether it got its alerts.
    expect(code, Buffer.concat(err).toString()).toBe(0);
    const lines = Buffer.concat(out)
      .toString()
      .trim()
      .split('\n')
      .filter((line) => line !== 'READY')
      .map((line) => JSON.parse(line) as LiveAlert);
    expect(lines).toHaveLength(20);
    for (const line of lines) {
      expect(line.alert.band).toBe('r');
      expect(line.alert.alertId).toMatch(/^\d+$/);
    }
  }, 300_000);
});

describe('collaboration events', () => {
  it('pushes annotations (for the object asked) and follow-up requests to subscribers, through the events topic', async () => {
    const token = await api.token('events_annotator', 'annotator');
    // Annotations and follow-up requests are about objects the archive holds (no alerts were stored here).
    await runCommand(
      api.pipeline.db.client,
      sql`INSERT INTO objects (survey, object_id, version) VALUES ('ztf', 'ZTF21other', 1), ('ztf', 'ZTF21watched', 1)`,
    );
    const client = api.wsClient();
    const events: { annotationAdded?: { objectId: string }; followupRequests?: { facility: string } }[] = [];
    const subscribe = (query: string) =>
      client.subscribe<(typeof events)[number]>(
        { query },
        { next: (r) => r.data && events.push(r.data), error: () => undefined, complete: () => undefined },
      );
    const before = api.launched.server.shared.activeExecutions;
    const stops = [
      subscribe(
        'subscription { annotationAdded(objectId: "ZTF21watched") { annotationId objectId version } }',
      ),
      subscribe('subscription { followupRequests(facility: "NOT") { requestId facility objectId } }'),
    ];
    await waitFor(() => api.launched.server.shared.activeExecutions === before + 2, 30_000);
    const annotate = (objectId: string) =>
      api.query(
        `mutation($id: String!) { addAnnotation(objectId: $id, input: { text: "candidate" }) { id } }`,
        { id: objectId },
        token,
      );
    expect((await annotate('ZTF21other')).errors).toBeUndefined();
    expect((await annotate('ZTF21watched')).errors).toBeUndefined();
    const followup = await api.query(
      `mutation { requestFollowup(objectId: "ZTF21watched", facility: "NOT", priority: HIGH, note: "spectrum") { requestId } }`,
      undefined,
      token,
    );
    expect(followup.errors).toBeUndefined();
    await waitFor(() => events.length >= 2, 30_000);
    expect(events).toContainEqual({
      annotationAdded: expect.objectContaining({ objectId: 'ZTF21watched', version: 1 }) as unknown,
    });
    expect(events).toContainEqual({
      followupRequests: expect.objectContaining({ facility: 'NOT', objectId: 'ZTF21watched' }) as unknown,
    });
    // The annotation on the other object was not pushed to this subscriber.
    expect(events.filter((e) => e.annotationAdded !== undefined)).toHaveLength(1);
    for (const stop of stops) stop();
    await client.dispose();
  });
});
