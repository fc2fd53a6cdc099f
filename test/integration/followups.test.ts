// Follow-up requests and webhooks on the real ClickHouse and Kafka, with the resolvers executed in process: the
// request is stored, published as JSON on the follow-up topic and as a FollowupEvent, and POSTed, signed, to the
// webhooks whose facility filter matches, without the mutation waiting for them.
import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type * as GraphQL from 'graphql';
import type { ExecutionResult, GraphQLSchema } from 'graphql';
import type { Kafka, Producer } from 'kafkajs';
import { buildSchema } from 'type-graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { FollowupResolver, type FollowupContext } from '../../src/resolvers/followup.resolver.ts';
import { WebhookResolver } from '../../src/resolvers/webhook.resolver.ts';
import { authChecker } from '../../src/resolvers/auth-checker.ts';
import type { EventPublisher, ServerEvent } from '../../src/events.ts';
import { createKafkaFollowupPublisher } from '../../src/server/followups.ts';
import { createWebhookDispatcher, verifySignature } from '../../src/server/webhooks.ts';
import { type WebhookDispatcher } from '../../src/resolvers/services.ts';
import type { Role, Viewer } from '../../src/resolvers/viewer.ts';
import { ClickHouseFollowupStore } from '../../src/storage/followup-store.ts';
import { ClickHouseWebhookStore } from '../../src/storage/webhook-store.ts';
import { createMigratedDatabase, type TestDatabase } from '../helpers/clickhouse.ts';
import { connectedProducer, consumeMessages, createTestTopic, testKafka } from '../helpers/kafka.ts';
import { waitFor } from '../helpers/wait.ts';

// The graphql instance type-graphql builds with (its CommonJS main): see watchlists.test.ts.
const { graphql } = createRequire(import.meta.url)('graphql') as typeof GraphQL;

const logger = createLogger({ level: 'silent' });

interface Delivery {
  body: string;
  headers: IncomingMessage['headers'];
}

/** A webhook receiver on port 0; `hold` keeps requests unanswered until release() (a slow facility). */
async function receiver(options: { hold?: boolean } = {}) {
  const received: Delivery[] = [];
  const pending: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      if (options.hold === true) pending.push(res);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/fink`,
    received,
    pending,
    release: () => pending.splice(0).forEach((res) => res.writeHead(200).end()),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let db: TestDatabase;
let kafka: Kafka;
let producer: Producer;
let topic: string;
let schema: GraphQLSchema;
let dispatcher: WebhookDispatcher;
const events: ServerEvent[] = [];

beforeAll(async () => {
  db = await createMigratedDatabase('followups');
  kafka = testKafka();
  producer = await connectedProducer(kafka);
  topic = await createTestTopic(kafka, 'followups');
  schema = await buildSchema({
    resolvers: [FollowupResolver, WebhookResolver],
    authChecker,
    validate: false,
  });
  dispatcher = createWebhookDispatcher({ logger, attempts: 3, timeoutMs: 5000, initialDelayMs: 10 });
});

afterAll(async () => {
  await dispatcher?.idle();
  await producer?.disconnect();
  await db?.drop();
});

function viewer(user: string, role: Role): Viewer {
  return { user, role, tokenId: `token-${user}` };
}
const ANN = viewer('ann', 'annotator');
const READER = viewer('rita', 'reader');
const ADMIN = viewer('root', 'admin');

async function run(who: Viewer | null, source: string, variables: Record<string, unknown> = {}) {
  const recorder: EventPublisher = {
    publish: (published) => {
      events.push(...published);
      return Promise.resolve();
    },
  };
  const context: FollowupContext = {
    viewer: who,
    stores: {
      followups: new ClickHouseFollowupStore(db.client),
      webhooks: new ClickHouseWebhookStore(db.client),
    },
    followups: createKafkaFollowupPublisher(producer, topic),
    webhooks: dispatcher,
    events: recorder,
    logger,
    // Every object exists but those starting with ZTFmissing (graphql-api.test.ts reads the real table).
    loaders: {
      object: {
        load: (id: string) => Promise.resolve(id.startsWith('ZTFmissing') ? null : { objectId: id }),
      },
    },
  };
  return graphql({ schema, source, variableValues: variables, contextValue: context });
}

function codeOf(result: ExecutionResult): unknown {
  return result.errors?.[0]?.extensions?.['code'];
}

async function ok<T>(who: Viewer | null, source: string, variables?: Record<string, unknown>): Promise<T> {
  const result = await run(who, source, variables);
  expect(result.errors, JSON.stringify(result.errors)).toBeUndefined();
  return result.data as T;
}

const REGISTER = `mutation ($url: String!, $secret: String!, $facilities: [String!]) {
  registerWebhook(url: $url, secret: $secret, facilities: $facilities) { id url facilities owner createdAt }
}`;
const REQUEST = `mutation ($objectId: String!, $facility: String!, $priority: FollowupPriority, $note: String) {
  requestFollowup(objectId: $objectId, facility: $facility, priority: $priority, note: $note) {
    requestId objectId facility priority note user createdAt
  }
}`;
const LIST_WEBHOOKS = `{ webhooks { id url facilities } }`;

describe('webhooks', () => {
  it('are managed by admins only, with http(s) URLs and a long enough secret', async () => {
    const args = { url: 'https://facility.example/hook', secret: 's'.repeat(16), facilities: ['LCO'] };
    expect(codeOf(await run(null, REGISTER, args))).toBe('UNAUTHENTICATED');
    expect(codeOf(await run(ANN, REGISTER, args))).toBe('FORBIDDEN');
    expect(codeOf(await run(ANN, LIST_WEBHOOKS))).toBe('FORBIDDEN');
    expect(codeOf(await run(ANN, `mutation { deleteWebhook(id: "x") }`))).toBe('FORBIDDEN');
    for (const url of [
      'ftp://facility.example/hook',
      'not a url',
      'file:///etc/passwd',
      'javascript:alert(1)',
    ]) {
      const result = await run(ADMIN, REGISTER, { ...args, url });
      expect(codeOf(result), url).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.extensions?.['argument']).toBe('url');
    }
    expect(codeOf(await run(ADMIN, REGISTER, { ...args, secret: 'short' }))).toBe('BAD_USER_INPUT');

    const { registerWebhook } = await ok<{
      registerWebhook: { id: string; owner: string; facilities: string[] };
    }>(ADMIN, REGISTER, args);
    expect(registerWebhook).toMatchObject({ owner: 'root', facilities: ['LCO'] });
    const listed = (await ok<{ webhooks: { id: string }[] }>(ADMIN, LIST_WEBHOOKS)).webhooks.map((w) => w.id);
    expect(listed).toContain(registerWebhook.id);
    // The secret is write-only: the type has no field for it.
    expect(codeOf(await run(ADMIN, `{ webhooks { secret } }`))).toBe(undefined);
    expect((await run(ADMIN, `{ webhooks { secret } }`)).errors?.[0]?.message).toMatch(
      /Cannot query field "secret"/,
    );

    expect(
      await ok(ADMIN, `mutation ($id: String!) { deleteWebhook(id: $id) }`, { id: registerWebhook.id }),
    ).toEqual({
      deleteWebhook: true,
    });
    const after = (await ok<{ webhooks: { id: string }[] }>(ADMIN, LIST_WEBHOOKS)).webhooks.map((w) => w.id);
    expect(after).not.toContain(registerWebhook.id);
    expect(codeOf(await run(ADMIN, `mutation { deleteWebhook(id: "${registerWebhook.id}") }`))).toBe(
      'NOT_FOUND',
    );
  });
});

describe('requestFollowup', () => {
  it('is for annotators, and checks its arguments', async () => {
    const args = { objectId: 'ZTF21abcdefg', facility: 'LCO' };
    expect(codeOf(await run(null, REQUEST, args))).toBe('UNAUTHENTICATED');
    expect(codeOf(await run(READER, REQUEST, args))).toBe('FORBIDDEN');
    expect(codeOf(await run(ANN, REQUEST, { ...args, objectId: 'bad id;' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await run(ANN, REQUEST, { ...args, facility: '' }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await run(ANN, REQUEST, { ...args, note: 'n'.repeat(2001) }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await run(ANN, REQUEST, { ...args, objectId: 'ZTFmissing1' }))).toBe('NOT_FOUND');
    // An unknown enum value fails variable coercion in graphql-js itself (Apollo reports it as BAD_USER_INPUT).
    const badPriority = await run(ANN, REQUEST, { ...args, priority: 'WHENEVER' });
    expect(badPriority.errors?.[0]?.message).toMatch(/FollowupPriority/);
    // Nothing of the refused requests reached the store.
    const stored = await ok<{ followups: unknown[] }>(
      READER,
      `{ followups(objectId: "ZTF21abcdefg") { requestId } }`,
    );
    expect(stored.followups).toEqual([]);
    const missing = await ok<{ followups: unknown[] }>(
      READER,
      `{ followups(objectId: "ZTFmissing1") { requestId } }`,
    );
    expect(missing.followups).toEqual([]);
  });

  it('stores the request, publishes it to Kafka and as an event, and posts it signed to the matching webhooks', async () => {
    const lco = await receiver();
    const everything = await receiver();
    const other = await receiver();
    try {
      const secrets = {
        lco: 'lco-secret-0123456789',
        all: 'all-secret-0123456789',
        other: 'other-secret-0123456789',
      };
      await ok(ADMIN, REGISTER, { url: lco.url, secret: secrets.lco, facilities: ['lco', 'SOAR'] });
      await ok(ADMIN, REGISTER, { url: everything.url, secret: secrets.all, facilities: [] });
      await ok(ADMIN, REGISTER, { url: other.url, secret: secrets.other, facilities: ['Gemini'] });

      const { requestFollowup } = await ok<{ requestFollowup: Record<string, string> }>(ANN, REQUEST, {
        objectId: 'ZTF21abcdefg',
        facility: 'LCO',
        priority: 'URGENT',
        note: 'rising fast: spectrum tonight ☄',
      });
      expect(requestFollowup).toMatchObject({
        objectId: 'ZTF21abcdefg',
        facility: 'LCO',
        priority: 'URGENT',
        note: 'rising fast: spectrum tonight ☄',
        user: 'ann',
      });
      const expected = { type: 'followup', ...requestFollowup };

      // Kafka: one JSON message keyed by the object id.
      const [message] = await consumeMessages(kafka, topic, 1, 30_000);
      expect(message?.key?.toString()).toBe('ZTF21abcdefg');
      expect(JSON.parse(message!.value!.toString())).toEqual(expected);
      // The server event.
      expect(events).toContainEqual(expected);
      // Stored.
      const listed = await ok<{ followups: Record<string, string>[] }>(
        READER,
        `{ followups(objectId: "ZTF21abcdefg") { requestId facility priority user createdAt } }`,
      );
      expect(listed.followups).toContainEqual({
        requestId: requestFollowup['requestId'],
        facility: 'LCO',
        priority: 'URGENT',
        user: 'ann',
        createdAt: requestFollowup['createdAt'],
      });

      // Webhooks: the LCO filter (case-insensitive) and the catch-all get it, signed with their own secret.
      await waitFor(() => lco.received.length === 1 && everything.received.length === 1, 15_000, 50);
      await dispatcher.idle();
      for (const [hook, secret] of [
        [lco, secrets.lco],
        [everything, secrets.all],
      ] as const) {
        const [delivery] = hook.received;
        expect(JSON.parse(delivery!.body)).toEqual(expected);
        expect(delivery!.headers['content-type']).toBe('application/json');
        expect(delivery!.headers['x-fink-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
        expect(verifySignature(secret, delivery!.body, delivery!.headers['x-fink-signature'] as string)).toBe(
          true,
        );
        expect(
          verifySignature(secrets.other, delivery!.body, delivery!.headers['x-fink-signature'] as string),
        ).toBe(false);
        expect(delivery!.headers['x-fink-delivery']).toMatch(/^[0-9a-f-]{36}$/);
      }
      expect(other.received).toEqual([]);
    } finally {
      await dispatcher.idle();
      await Promise.all([lco.close(), everything.close(), other.close()]);
    }
  });

  it('answers without waiting for a webhook that has not responded', async () => {
    const slow = await receiver({ hold: true });
    try {
      await ok(ADMIN, REGISTER, {
        url: slow.url,
        secret: 'slow-secret-0123456789',
        facilities: ['Slowscope'],
      });
      const { requestFollowup } = await ok<{ requestFollowup: { requestId: string } }>(ANN, REQUEST, {
        objectId: 'ZTF22slowone',
        facility: 'Slowscope',
      });
      expect(requestFollowup.requestId).toMatch(/^[0-9a-f-]{36}$/);
      // The mutation has answered; the webhook has the request but has not responded yet.
      await waitFor(() => slow.pending.length === 1, 15_000, 50);
      expect(JSON.parse(slow.received[0]!.body)).toMatchObject({
        requestId: requestFollowup.requestId,
        priority: 'NORMAL',
        note: '',
      });
      slow.release();
      await dispatcher.idle();
      expect(slow.received).toHaveLength(1);
    } finally {
      slow.release();
      await slow.close();
    }
  });
});
