// API tokens: their format and how a request's token becomes a Viewer (the role check of `@Authorized` fields is
// src/resolvers/auth-checker.ts).
//
// A token is `fink_<id>_<secret>`: <id> (16 hex digits) finds the stored row, <secret> (32 random bytes,
// base64url) is checked against the SHA-256 stored for it with a constant-time comparison. The token itself is
// shown once, when it is created, and never stored or logged.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TokenRecord, TokenStore } from '../storage/token-store.ts';
import { unauthenticated } from '../resolvers/errors.ts';
import { ROLES, type Role, type Viewer } from '../resolvers/viewer.ts';

export const TOKEN_PREFIX = 'fink_';
const TOKEN_PATTERN = /^fink_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const BEARER_PATTERN = /^Bearer[ \t]+(\S+)[ \t]*$/i;

export interface TokenParts {
  id: string;
  secret: string;
}

export interface IssuedToken {
  /** The whole token: shown to its owner once, never stored. */
  token: string;
  id: string;
  user: string;
  role: Role;
  createdAt: Date;
}

/** A new random token (not yet stored). */
export function generateToken(): TokenParts & { token: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${TOKEN_PREFIX}${id}_${secret}` };
}

/** The id and secret of a well-formed token, null for anything else. */
export function parseToken(token: string): TokenParts | null {
  const match = TOKEN_PATTERN.exec(token);
  return match === null ? null : { id: match[1]!, secret: match[2]! };
}

/** SHA-256 of a secret, lowercase hex: what the store keeps. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether `secret` hashes to `storedHash`, compared in constant time (no timing oracle on the hash). */
export function secretMatches(secret: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash, 'hex');
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** User names tokens are issued for (they show as annotation authors). */
export const USER_NAME_PATTERN = /^[\p{L}\p{N}_.@+-]{1,64}$/u;

export class TokenRequestError extends Error {
  override name = 'TokenRequestError';
}

/** Creates and stores a token for `user`; the answer holds the token, which nothing can show again. */
export async function issueToken(
  tokens: TokenStore,
  request: { user: string; role: Role },
): Promise<IssuedToken> {
  const user = request.user.trim();
  if (!USER_NAME_PATTERN.test(user)) {
    throw new TokenRequestError('a user name is 1 to 64 letters, digits or _ . @ + -');
  }
  if (!ROLES.includes(request.role)) throw new TokenRequestError(`a role is one of ${ROLES.join(', ')}`);
  const { id, secret, token } = generateToken();
  // Whole seconds: what the DateTime column keeps, so the answer matches what listing shows later.
  const createdAt = new Date(Math.floor(Date.now() / 1000) * 1000);
  await tokens.create([{ id, user, role: request.role, secretHash: hashSecret(secret), createdAt }]);
  return { token, id, user, role: request.role, createdAt };
}

/**
 * The token of an `Authorization` value: undefined when there is none (anonymous), the token when it is
 * `Bearer <token>`; anything else is UNAUTHENTICATED (a client that sends credentials means to use them).
 */
export function tokenFromAuthorization(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.trim() === '') return undefined;
  const match = BEARER_PATTERN.exec(authorization);
  if (match === null) throw unauthenticated('the Authorization header must be "Bearer <token>"');
  return match[1]!;
}

/**
 * The token carried by a graphql-ws connection_init payload: `{ Authorization: 'Bearer <token>' }` (or
 * `authorization`; a bare token there is accepted too) or `{ token: '<token>' }`. Undefined when the payload
 * carries none; the server hands `Bearer <token>` to the authenticator, which checks it.
 */
export function tokenFromConnectionParams(params: unknown): string | undefined {
  if (params === null || typeof params !== 'object') return undefined;
  const fields = params as Record<string, unknown>;
  for (const name of ['Authorization', 'authorization', 'token'] as const) {
    const value = fields[name];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw unauthenticated(`connection_init ${name} must be a string`);
    if (value.trim() === '') continue;
    if (name === 'token' || !/^bearer\s/i.test(value.trim())) {
      if (/\s/.test(value.trim())) throw unauthenticated(`connection_init ${name} must be "Bearer <token>"`);
      return value.trim();
    }
    return tokenFromAuthorization(value);
  }
  return undefined;
}

export interface AuthenticatorOptions {
  /** How long a token's stored row is reused (revocation takes effect within this); 0: read every time. */
  cacheMs?: number;
  /** Rows kept at most; the oldest entries go first beyond it (a flood of made-up ids cannot grow it). */
  maxCacheEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

export type Authenticator = (authorization: string | undefined) => Promise<Viewer | null>;

/** How long a token's row is reused when the caller does not say (server.tokenCacheMs's default). */
export const DEFAULT_AUTH_CACHE_MS = 1000;

/**
 * Resolves an `Authorization` value (HTTP header, or tokenFromConnectionParams) to the Viewer it proves:
 * null when there is none, UNAUTHENTICATED when it is malformed, unknown, revoked or wrong. Stored rows are
 * cached by token id for `cacheMs` (concurrent requests share one read); the secret is checked every time.
 * Storage errors propagate (they are not the client's fault and must not read as a bad token).
 */
export function createAuthenticator(tokens: TokenStore, options: AuthenticatorOptions = {}): Authenticator {
  const cacheMs = options.cacheMs ?? DEFAULT_AUTH_CACHE_MS;
  const maxEntries = options.maxCacheEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { expires: number; record: Promise<TokenRecord | null> }>();

  function lookup(id: string): Promise<TokenRecord | null> {
    const cached = cache.get(id);
    if (cached !== undefined && cached.expires > now()) return cached.record;
    cache.delete(id);
    const record = tokens.byIds([id]).then((records) => records.find((r) => r.id === id) ?? null);
    if (cacheMs > 0) {
      cache.set(id, { expires: now() + cacheMs, record });
      // A failed read is not remembered: the next request asks again.
      record.catch(() => cache.delete(id));
      while (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    }
    return record;
  }

  return async (authorization) => {
    const token = tokenFromAuthorization(authorization);
    if (token === undefined) return null;
    const parts = parseToken(token);
    if (parts === null) throw unauthenticated('the API token is malformed');
    const record = await lookup(parts.id);
    // One message for unknown, revoked and wrong: the answer says nothing about which ids exist.
    if (record === null || record.revoked || !secretMatches(parts.secret, record.secretHash)) {
      throw unauthenticated('the API token is unknown or revoked');
    }
    return { user: record.user, role: record.role, tokenId: record.id };
  };
}
