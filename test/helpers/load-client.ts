// Load for the abuse test (test/integration/abuse.test.ts), run in child processes of their own (fork with tsx)
// so that their work never takes the event loop of the process that measures the server's latency.
//
//   fork('test/helpers/load-client.ts') then send one LoadRole; the child answers { type: 'ready', ... } once
//   its load runs, { type: 'report', ... } on { type: 'report' }, and exits on { type: 'stop' }.
//
// Roles: `subscribers` (graphql-ws connections holding live subscriptions), `flood` (bare WebSocket
// connections), `slow` (a subscriber that never reads its socket), `requests` (HTTP POSTs in a loop, e.g. alias
// bombs), `producer` (replays the science messages of one topic onto another at a rate). Every client binds its
// own loopback address (127.0.0.x), so that the server sees each role as a separate client address.
import { Agent, request } from 'node:http';
import { createClient, type Client } from 'graphql-ws';
import type { Message } from 'kafkajs';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { CachingPartitioner, createKafka, sendInChunks } from '../../src/pipeline/kafka.ts';

export type LoadRole =
  | {
      type: 'subscribers';
      url: string;
      localAddress: string;
      connections: number;
      /** One subscription per query on every connection. */
      queries: { query: string; variables?: Record<string, unknown> }[];
    }
  | { type: 'flood'; url: string; localAddress: string; connections: number }
  | { type: 'slow'; url: string; localAddress: string; query: string }
  | {
      type: 'requests';
      url: string;
      localAddress: string;
      /** Bodies sent in turn, `concurrency` in flight, until stopped. */
      bodies: { name: string; body: string }[];
      concurrency: number;
    }
  | { type: 'producer'; fromTopic: string; toTopic: string; rate: number };

export interface LoadReport {
  type: 'report';
  role: LoadRole['type'];
  /** Counters by name (deliveries, closes by code, HTTP statuses, error codes...). */
  counts: Record<string, number>;
  /** Latency percentiles of the requests role, per body name [ms]. */
  latencies?: Record<string, { n: number; p50: number; p99: number; max: number }>;
  rssBytes: number;
}

export type LoadMessage = { type: 'ready'; counts: Record<string, number> } | LoadReport;

const counts: Record<string, number> = {};
const count = (name: string, n = 1) => (counts[name] = (counts[name] ?? 0) + n);
const stops: (() => Promise<void> | void)[] = [];
const beforeReport: (() => Promise<void>)[] = [];

function send(message: LoadMessage): void {
  process.send?.(message);
}

/** A WebSocket class bound to one local address (graphql-ws takes a class, not options). */
function boundWebSocket(localAddress: string): unknown {
  return class extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols, { localAddress });
    }
  };
}

async function subscribers(role: Extract<LoadRole, { type: 'subscribers' }>): Promise<void> {
  const clients: Client[] = [];
  let connected = 0;
  await new Promise<void>((resolve) => {
    let settled = 0;
    const settle = () => {
      if (++settled === role.connections) resolve();
    };
    for (let c = 0; c < role.connections; c++) {
      let first = true;
      const client = createClient({
        url: role.url,
        webSocketImpl: boundWebSocket(role.localAddress),
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => count('connection errors'),
        on: {
          connected: () => {
            connected++;
            if (first) settle();
            first = false;
          },
          closed: (event) => {
            count(`closed ${(event as { code?: number }).code ?? '?'}`);
            if (first) settle();
            first = false;
          },
        },
      });
      clients.push(client);
      for (const operation of role.queries) {
        client.subscribe(operation, {
          next: (result) => {
            if (result.errors !== undefined) count(`error ${String(result.errors[0]?.extensions?.code)}`);
            else count('deliveries');
          },
          error: () => count('subscription errors'),
          complete: () => count('completed'),
        });
      }
    }
  });
  count('connected', connected);
  stops.push(async () => {
    await Promise.all(clients.map(async (client) => client.dispose()));
  });
}

async function flood(role: Extract<LoadRole, { type: 'flood' }>): Promise<void> {
  const sockets: WebSocket[] = [];
  await Promise.all(
    Array.from(
      { length: role.connections },
      () =>
        new Promise<void>((resolve) => {
          const socket = new WebSocket(role.url, 'graphql-transport-ws', { localAddress: role.localAddress });
          sockets.push(socket);
          socket.on('open', () => {
            count('opened');
            socket.send(JSON.stringify({ type: 'connection_init' }));
            resolve();
          });
          socket.on('unexpected-response', (_req, res) => {
            count(`refused ${res.statusCode}`);
            res.resume();
            resolve();
          });
          socket.on('error', () => {
            count('socket errors');
            resolve();
          });
          socket.on('close', (code) => count(`closed ${code}`));
        }),
    ),
  );
  stops.push(() => {
    for (const socket of sockets) socket.terminate();
  });
}

async function slow(role: Extract<LoadRole, { type: 'slow' }>): Promise<void> {
  const socket = new WebSocket(role.url, 'graphql-transport-ws', { localAddress: role.localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { type: string };
      if (message.type !== 'connection_ack') return;
      for (let i = 0; i < 20; i++) {
        socket.send(JSON.stringify({ id: String(i), type: 'subscribe', payload: { query: role.query } }));
      }
      // From here on nothing is read: the server's send buffer for this client only grows.
      socket.pause();
      resolve();
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
  });
  socket.on('close', (code) => count(`closed ${code}`));
  // The server's close frame waits behind what was never read: read it all at report time, to see the code.
  beforeReport.push(async () => {
    if (socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.resume();
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 15_000))]);
  });
  stops.push(() => socket.terminate());
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

const latencies: Record<string, number[]> = {};

function requests(role: Extract<LoadRole, { type: 'requests' }>): void {
  const agent = new Agent({ keepAlive: true, localAddress: role.localAddress, maxSockets: role.concurrency });
  const target = new URL(role.url);
  let running = true;
  let next = 0;
  const post = (name: string, body: string) =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            (latencies[name] ??= []).push(performance.now() - started);
            count(`${name} ${res.statusCode}`);
            try {
              const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                errors?: { extensions?: { code?: string } }[];
              };
              const code = parsed.errors?.[0]?.extensions?.code;
              if (code !== undefined) count(`${name} ${code}`);
            } catch {
              count(`${name} unparsable`);
            }
            resolve();
          });
          res.on('error', () => resolve());
        },
      );
      req.on('error', () => {
        count(`${name} request errors`);
        resolve();
      });
      req.end(body);
    });
  const worker = async () => {
    while (running) {
      const { name, body } = role.bodies[next++ % role.bodies.length]!;
      await post(name, body);
    }
  };
  const workers = Array.from({ length: role.concurrency }, worker);
  stops.push(async () => {
    running = false;
    await Promise.all(workers);
    agent.destroy();
  });
}

async function producer(role: Extract<LoadRole, { type: 'producer' }>): Promise<void> {
  const config = loadConfig();
  const kafka = createKafka(config.kafka, createLogger({ level: 'error' }), 'abuse-producer');
  const messages: Message[] = [];
  const consumer = kafka.consumer({ groupId: `abuse-replay-${process.pid}-${Date.now()}` });
  await consumer.connect();
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(role.fromTopic);
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.offset), 0);
  await consumer.subscribe({ topic: role.fromTopic, fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: ({ message }) => {
        messages.push({ key: message.key, value: message.value, headers: message.headers });
        if (messages.length >= total) resolve();
        return Promise.resolve();
      },
    });
  });
  await consumer.disconnect();
  const out = kafka.producer({ createPartitioner: CachingPartitioner, idempotent: false });
  await out.connect();
  let running = true;
  const loop = (async () => {
    const started = performance.now();
    let sent = 0;
    while (running) {
      const due = Math.floor((role.rate * (performance.now() - started)) / 1000);
      const batch: Message[] = [];
      for (; sent < due; sent++) batch.push(messages[sent % messages.length]!);
      if (batch.length > 0) {
        await sendInChunks(out, role.toTopic, batch, config.kafka.maxRequestBytes);
        count('sent', batch.length);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  count('captured', messages.length);
  stops.push(async () => {
    running = false;
    await loop;
    await out.disconnect();
  });
}

process.on('message', (message: LoadRole | { type: 'report' } | { type: 'stop' }) => {
  void (async () => {
    if (message.type === 'report') {
      for (const prepare of beforeReport.splice(0)) await prepare();
      const byName = Object.fromEntries(Object.entries(latencies).map(([name, v]) => [name, percentiles(v)]));
      send({
        type: 'report',
        role: role ?? 'requests',
        counts: { ...counts },
        latencies: byName,
        rssBytes: process.memoryUsage.rss(),
      });
      return;
    }
    if (message.type === 'stop') {
      for (const stop of stops) await stop();
      process.exit(0);
    }
    role = message.type;
    if (message.type === 'subscribers') await subscribers(message);
    else if (message.type === 'flood') await flood(message);
    else if (message.type === 'slow') await slow(message);
    else if (message.type === 'requests') requests(message);
    else await producer(message);
    send({ type: 'ready', counts: { ...counts } });
  })().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
});

let role: LoadRole['type'] | undefined;
