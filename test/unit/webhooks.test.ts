import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import {
  createWebhookDispatcher,
  isRetriableStatus,
  signPayload,
  verifySignature,
} from '../../src/server/webhooks.ts';

const logger = createLogger({ level: 'silent' });
const SECRET = 'a-webhook-secret-of-some-length';

describe('signPayload / verifySignature', () => {
  it('is sha256= and the hex HMAC-SHA256 of the exact body', () => {
    const body = '{"type":"followup","objectId":"ZTF21abcdefg"}';
    const expected = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(signPayload(SECRET, body)).toBe(`sha256=${expected}`);
    // A known vector (RFC 4231 test case 2): key "Jefe", data "what do ya want for nothing?".
    expect(signPayload('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  it.each([
    ['the signature itself', true, (body: string) => signPayload(SECRET, body)],
    ['a signature of another body', false, (body: string) => signPayload(SECRET, `${body} `)],
    ['a signature with another secret', false, (body: string) => signPayload(`${SECRET}x`, body)],
    ['the bare hex without sha256=', false, (body: string) => signPayload(SECRET, body).slice(7)],
    ['a truncated signature', false, (body: string) => signPayload(SECRET, body).slice(0, -1)],
    ['no header', false, () => undefined],
  ])('verifySignature given %s: accepted %s', (_, accepted, header) => {
    const body = JSON.stringify({ type: 'followup', note: 'café ☄' });
    expect(verifySignature(SECRET, body, header(body))).toBe(accepted);
    expect(verifySignature(SECRET, Buffer.from(body), header(body))).toBe(accepted);
  });

  it.each([
    [200, false],
    [400, false],
    [404, false],
    [429, true],
    [500, true],
    [503, true],
  ])('status %i is retriable: %s', (status, retriable) => {
    expect(isRetriableStatus(status)).toBe(retriable);
  });
});

interface Received {
  body: string;
  headers: IncomingMessage['headers'];
}

/** A local endpoint answering the statuses given, in turn (the last one repeats), recording every request. */
async function endpoint(statuses: number[]): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.statusCode = statuses[Math.min(received.length, statuses.length) - 1]!;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, received, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('createWebhookDispatcher', () => {
  const payload = { type: 'followup', requestId: 'r1', objectId: 'ZTF21abcdefg', note: 'tonight ☄' };

  it('retries 503 twice then succeeds on the third attempt, same signed body and delivery id each time', async () => {
    const hook = await endpoint([503, 503, 200]);
    servers.push(hook.server);
    const dispatcher = createWebhookDispatcher({ logger, attempts: 5, timeoutMs: 2000, initialDelayMs: 5 });
    const [result] = await dispatcher.dispatch([{ id: 'w1', url: hook.url, secret: SECRET }], payload);
    expect(result).toMatchObject({ webhookId: 'w1', ok: true, attempts: 3, status: 200 });
    expect(hook.received).toHaveLength(3);
    for (const { body, headers } of hook.received) {
      expect(JSON.parse(body)).toEqual(payload);
      expect(headers['content-type']).toBe('application/json');
      expect(verifySignature(SECRET, body, headers['x-fink-signature'] as string)).toBe(true);
      expect(headers['x-fink-delivery']).toBe(result!.deliveryId);
      expect(headers['x-fink-event']).toBe('followup');
    }
  });

  it('does not retry a 400: one attempt, reported as failed', async () => {
    const hook = await endpoint([400, 200]);
    servers.push(hook.server);
    const dispatcher = createWebhookDispatcher({ logger, attempts: 5, timeoutMs: 2000, initialDelayMs: 5 });
    const [result] = await dispatcher.dispatch([{ id: 'w1', url: hook.url, secret: SECRET }], payload);
    expect(result).toMatchObject({ ok: false, attempts: 1, status: 400 });
    expect(hook.received).toHaveLength(1);
  });

  it('retries 429 and stops after the configured attempts', async () => {
    const hook = await endpoint([429]);
    servers.push(hook.server);
    const dispatcher = createWebhookDispatcher({ logger, attempts: 3, timeoutMs: 2000, initialDelayMs: 1 });
    const [result] = await dispatcher.dispatch([{ id: 'w1', url: hook.url, secret: SECRET }], payload);
    expect(result).toMatchObject({ ok: false, attempts: 3, status: 429 });
    expect(hook.received).toHaveLength(3);
  });

  it('retries network errors and timeouts (no status), through an injected fetch', async () => {
    const calls: string[] = [];
    const fakeFetch: typeof fetch = (input) => {
      calls.push(input instanceof Request ? input.url : input.toString());
      if (calls.length === 1)
        return Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
      if (calls.length === 2) return Promise.reject(new DOMException('timed out', 'TimeoutError'));
      return Promise.resolve(new Response(null, { status: 204 }));
    };
    const dispatcher = createWebhookDispatcher({
      fetch: fakeFetch,
      logger,
      attempts: 4,
      timeoutMs: 100,
      initialDelayMs: 1,
    });
    const results = await dispatcher.dispatch(
      [{ id: 'w1', url: 'http://hook.invalid/x', secret: SECRET }],
      payload,
    );
    expect(results).toMatchObject([{ ok: true, attempts: 3, status: 204 }]);
    expect(calls).toEqual(['http://hook.invalid/x', 'http://hook.invalid/x', 'http://hook.invalid/x']);
  });

  it('times out a webhook that does not answer and gives up after the attempts', async () => {
    const server = createServer(() => {
      // Never answers.
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dispatcher = createWebhookDispatcher({ logger, attempts: 2, timeoutMs: 150, initialDelayMs: 1 });
    const [result] = await dispatcher.dispatch(
      [{ id: 'slow', url: `http://127.0.0.1:${port}/`, secret: SECRET }],
      payload,
    );
    expect(result).toMatchObject({ ok: false, attempts: 2, status: null });
    server.closeAllConnections();
  });

  it('signs each webhook with its own secret, and idle() waits for deliveries in flight', async () => {
    const a = await endpoint([200]);
    const b = await endpoint([503, 201]);
    servers.push(a.server, b.server);
    const dispatcher = createWebhookDispatcher({ logger, attempts: 3, timeoutMs: 2000, initialDelayMs: 20 });
    void dispatcher.dispatch(
      [
        { id: 'a', url: a.url, secret: 'secret-of-webhook-a' },
        { id: 'b', url: b.url, secret: 'secret-of-webhook-b' },
      ],
      payload,
    );
    await dispatcher.idle();
    expect(b.received).toHaveLength(2);
    expect(
      verifySignature(
        'secret-of-webhook-a',
        a.received[0]!.body,
        a.received[0]!.headers['x-fink-signature'] as string,
      ),
    ).toBe(true);
    expect(
      verifySignature(
        'secret-of-webhook-b',
        b.received[1]!.body,
        b.received[1]!.headers['x-fink-signature'] as string,
      ),
    ).toBe(true);
    expect(a.received[0]!.body).toBe(b.received[1]!.body);
  });
});
