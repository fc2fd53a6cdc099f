// Signed webhook deliveries (follow-up requests POSTed to the facilities' endpoints).
//
// Each delivery is one POST of a JSON body with these headers:
//   Content-Type: application/json
//   X-Fink-Delivery: <uuid>            the same on every attempt of one delivery: receivers deduplicate on it
//   X-Fink-Event: <payload.type>       e.g. followup
//   X-Fink-Signature: sha256=<hex>     HMAC-SHA256 of the exact body bytes, keyed with the webhook's secret
//
// How a receiver verifies (any language; with this module, `verifySignature(secret, rawBody, header)`):
//   1. read the raw request body as bytes, BEFORE any JSON parsing or re-serialisation (a re-encoded body differs);
//   2. compute hex(HMAC-SHA256(key = the secret given at registerWebhook, message = those bytes));
//   3. compare "sha256=" + that hex with the X-Fink-Signature header in constant time (crypto.timingSafeEqual,
//      hmac.compare_digest), and reject the request when they differ;
//   4. ignore a X-Fink-Delivery id already processed (retries and at-least-once delivery repeat it).
//
// Retries: network errors, timeouts, 5xx and 429 are retried with exponential back-off (and at least a 429's
// Retry-After, capped), up to `attempts` attempts in all; any other status (2xx done, other 4xx refused) is final.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../logger.ts';
import type { DeliveryResult, WebhookDispatcher, WebhookTarget } from '../resolvers/services.ts';

export interface WebhookDispatcherDeps {
  /** Defaults to the global fetch (tests pass their own). */
  fetch?: typeof fetch;
  logger: Logger;
  /** Attempts in all per delivery, at least 1 (config server.webhookAttempts). */
  attempts: number;
  /** Timeout of each attempt (config server.webhookTimeoutMs). */
  timeoutMs: number;
  /** First back-off; doubles each retry up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

export const SIGNATURE_HEADER = 'X-Fink-Signature';
export const DELIVERY_HEADER = 'X-Fink-Delivery';
export const EVENT_HEADER = 'X-Fink-Event';

/** `sha256=<hex HMAC-SHA256 of body keyed with secret>`: the X-Fink-Signature header value. */
export function signPayload(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** True when `header` is the signature of exactly these body bytes; constant-time on the digest. */
export function verifySignature(
  secret: string,
  body: string | Uint8Array,
  header: string | null | undefined,
): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signPayload(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Whether an HTTP status is worth another attempt: the server is overloaded or broken, not refusing. */
export function isRetriableStatus(status: number): boolean {
  return status >= 500 || status === 429;
}

/** Retry-After (seconds or an HTTP date) in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

export function createWebhookDispatcher(deps: WebhookDispatcherDeps): WebhookDispatcher {
  const doFetch = deps.fetch ?? fetch;
  const attempts = Math.max(1, Math.floor(deps.attempts));
  const { timeoutMs } = deps;
  const initialDelayMs = deps.initialDelayMs ?? 500;
  const maxDelayMs = deps.maxDelayMs ?? 60_000;
  const logger = deps.logger.child({ module: 'webhooks' });
  const inFlight = new Set<Promise<unknown>>();

  async function deliver(webhook: WebhookTarget, body: string, event: string): Promise<DeliveryResult> {
    const deliveryId = randomUUID();
    const headers = {
      'Content-Type': 'application/json',
      [SIGNATURE_HEADER]: signPayload(webhook.secret, body),
      [DELIVERY_HEADER]: deliveryId,
      [EVENT_HEADER]: event,
    };
    // The URL may carry credentials in its query: log only its origin.
    const fields = { webhookId: webhook.id, deliveryId, origin: originOf(webhook.url), event };
    let status: number | null = null;
    for (let attempt = 1; ; attempt++) {
      let retryAfter: number | undefined;
      let failure: string;
      try {
        const response = await doFetch(webhook.url, {
          method: 'POST',
          headers,
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'manual',
        });
        status = response.status;
        // The body is not read; cancelling it frees the connection.
        await response.body?.cancel().catch(() => undefined);
        if (response.status >= 200 && response.status < 300) {
          logger.info({ ...fields, status, attempts: attempt }, 'webhook delivered');
          return { webhookId: webhook.id, deliveryId, ok: true, attempts: attempt, status };
        }
        if (!isRetriableStatus(response.status)) {
          logger.warn({ ...fields, status, attempts: attempt }, 'webhook refused the delivery');
          return { webhookId: webhook.id, deliveryId, ok: false, attempts: attempt, status };
        }
        retryAfter = response.status === 429 ? retryAfterMs(response.headers.get('retry-after')) : undefined;
        failure = `status ${response.status}`;
      } catch (err) {
        status = null;
        failure = (err as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : errorText(err);
      }
      if (attempt >= attempts) {
        logger.warn({ ...fields, status, attempts: attempt, failure }, 'webhook delivery failed');
        return { webhookId: webhook.id, deliveryId, ok: false, attempts: attempt, status };
      }
      const backoff = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      const wait = Math.min(maxDelayMs, Math.max(backoff, retryAfter ?? 0));
      logger.info({ ...fields, attempt, failure, delayMs: wait }, 'webhook attempt failed; retrying');
      await delay(wait);
    }
  }

  return {
    dispatch(webhooks, payload) {
      const body = JSON.stringify(payload);
      const all = Promise.all(
        webhooks.map((webhook) =>
          deliver(webhook, body, payload.type).catch((err: unknown): DeliveryResult => {
            logger.error({ err, webhookId: webhook.id }, 'webhook delivery crashed');
            return { webhookId: webhook.id, deliveryId: '', ok: false, attempts: 0, status: null };
          }),
        ),
      );
      inFlight.add(all);
      void all.finally(() => inFlight.delete(all));
      return all;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}

/** fetch wraps network failures as "fetch failed" with the reason in `cause`. */
function errorText(err: unknown): string {
  const error = err as Error & { cause?: { code?: string; message?: string } };
  const cause = error.cause?.code ?? error.cause?.message;
  return cause === undefined ? error.message : `${error.message} (${cause})`;
}
