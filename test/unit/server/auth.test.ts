import type { GraphQLError, GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  createAuthenticator,
  generateToken,
  hashSecret,
  issueToken,
  parseToken,
  secretMatches,
  tokenFromAuthorization,
  tokenFromConnectionParams,
  TokenRequestError,
} from '../../../src/server/auth.ts';
import { authChecker } from '../../../src/resolvers/auth-checker.ts';
import type { ServerContext } from '../../../src/resolvers/context.ts';
import type { Role, Viewer } from '../../../src/resolvers/viewer.ts';
import type { TokenInfo, TokenRecord, TokenStore } from '../../../src/storage/token-store.ts';

/** An in-memory TokenStore that counts reads. */
class MemoryTokenStore implements TokenStore {
  readonly rows = new Map<string, TokenRecord>();
  reads = 0;
  failNext = false;

  create(tokens: readonly Omit<TokenRecord, 'revoked'>[]): Promise<void> {
    for (const token of tokens) this.rows.set(token.id, { ...token, revoked: false });
    return Promise.resolve();
  }

  byIds(ids: readonly string[]): Promise<TokenRecord[]> {
    this.reads += 1;
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('ClickHouse is down'));
    }
    return Promise.resolve(ids.flatMap((id) => (this.rows.has(id) ? [{ ...this.rows.get(id)! }] : [])));
  }

  list(): Promise<TokenInfo[]> {
    return Promise.resolve([...this.rows.values()]);
  }

  revoke(ids: readonly string[]): Promise<string[]> {
    const known = ids.filter((id) => this.rows.has(id));
    for (const id of known) this.rows.get(id)!.revoked = true;
    return Promise.resolve(known);
  }
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<GraphQLError> {
  const error = (await promise.then(
    () => {
      throw new Error(`expected ${code}, but it succeeded`);
    },
    (err: unknown) => err,
  )) as GraphQLError;
  expect(error.extensions?.['code']).toBe(code);
  return error;
}

describe('token format', () => {
  it('generates fink_<16 hex>_<43 base64url> tokens that parse back to their parts', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const { id, secret, token } = generateToken();
      expect(token).toMatch(/^fink_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      expect(parseToken(token)).toEqual({ id, secret });
      seen.add(token);
    }
    expect(seen.size).toBe(50);
  });

  it.each([
    ['empty', ''],
    ['no prefix', '0123456789abcdef_' + 'a'.repeat(43)],
    ['other prefix', 'fonk_0123456789abcdef_' + 'a'.repeat(43)],
    ['short id', 'fink_0123456789abcde_' + 'a'.repeat(43)],
    ['upper-case id', 'fink_0123456789ABCDEF_' + 'a'.repeat(43)],
    ['short secret', 'fink_0123456789abcdef_' + 'a'.repeat(42)],
    ['long secret', 'fink_0123456789abcdef_' + 'a'.repeat(44)],
    ['padding in the secret', 'fink_0123456789abcdef_' + 'a'.repeat(42) + '='],
    ['trailing space', 'fink_0123456789abcdef_' + 'a'.repeat(43) + ' '],
  ])('refuses a malformed token: %s', (_, token) => {
    expect(parseToken(token)).toBeNull();
  });

  it('hashes a secret to SHA-256 hex and compares it in constant time', () => {
    // echo -n abc | sha256sum
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(secretMatches('abc', hashSecret('abc'))).toBe(true);
    expect(secretMatches('abd', hashSecret('abc'))).toBe(false);
    expect(secretMatches('abc', '')).toBe(false);
    expect(secretMatches('abc', 'not hex')).toBe(false);
  });
});

describe('Authorization values', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
  ])('%j -> %j', (header, token) => {
    expect(tokenFromAuthorization(header)).toBe(token);
  });

  it.each(['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'abc', 'Token abc'])(
    'refuses %j as UNAUTHENTICATED',
    async (header) => {
      await expectCode(
        Promise.resolve().then(() => tokenFromAuthorization(header)),
        'UNAUTHENTICATED',
      );
    },
  );

  it.each<[string, unknown, string | undefined]>([
    ['no payload', undefined, undefined],
    ['null payload', null, undefined],
    ['an empty payload', {}, undefined],
    ['Authorization', { Authorization: 'Bearer t1' }, 't1'],
    ['authorization', { authorization: 'bearer  t2 ' }, 't2'],
    ['a bare token in Authorization', { Authorization: 't6' }, 't6'],
    ['a bare token', { token: ' t3 ' }, 't3'],
    ['an empty token', { token: '' }, undefined],
    ['Authorization before token', { Authorization: 'Bearer t4', token: 't5' }, 't4'],
    ['an empty Authorization, then token', { Authorization: '', token: 't7' }, 't7'],
  ])('reads connection params with %s', (_, params, expected) => {
    expect(tokenFromConnectionParams(params)).toBe(expected);
  });

  it.each<[string, unknown]>([
    ['a number', { token: 42 }],
    ['another scheme', { Authorization: 'Basic dXNlcjpwYXNz' }],
    ['a token with spaces', { token: 'a b' }],
  ])('refuses a connection token that is %s', async (_, params) => {
    await expectCode(
      Promise.resolve().then(() => tokenFromConnectionParams(params)),
      'UNAUTHENTICATED',
    );
  });
});

describe('createAuthenticator', () => {
  async function setup(role: Role = 'annotator', cacheMs = 5000) {
    const store = new MemoryTokenStore();
    let clock = 1_000_000;
    const authenticate = createAuthenticator(store, { cacheMs, now: () => clock });
    const issued = await issueToken(store, { user: 'alice', role });
    return { store, authenticate, issued, advance: (ms: number) => (clock += ms) };
  }

  it('answers null without a token and the viewer for a valid one', async () => {
    const { authenticate, issued } = await setup();
    expect(await authenticate(undefined)).toBeNull();
    expect(await authenticate(`Bearer ${issued.token}`)).toEqual<Viewer>({
      user: 'alice',
      role: 'annotator',
      tokenId: issued.id,
    });
  });

  it('refuses malformed, unknown and wrong tokens as UNAUTHENTICATED', async () => {
    const { authenticate, issued } = await setup();
    const other = generateToken();
    await expectCode(authenticate('Bearer nonsense'), 'UNAUTHENTICATED');
    await expectCode(authenticate(`Bearer ${other.token}`), 'UNAUTHENTICATED');
    // The right id with another secret.
    await expectCode(authenticate(`Bearer fink_${issued.id}_${other.secret}`), 'UNAUTHENTICATED');
  });

  it('caches the stored row for cacheMs, then sees a revocation', async () => {
    const { store, authenticate, issued, advance } = await setup();
    await authenticate(`Bearer ${issued.token}`);
    await authenticate(`Bearer ${issued.token}`);
    expect(store.reads).toBe(1);
    await store.revoke([issued.id]);
    advance(4000);
    expect(await authenticate(`Bearer ${issued.token}`)).not.toBeNull();
    advance(1001);
    await expectCode(authenticate(`Bearer ${issued.token}`), 'UNAUTHENTICATED');
    expect(store.reads).toBe(2);
  });

  it('shares one read among concurrent requests and does not remember a failed read', async () => {
    const { store, authenticate, issued } = await setup();
    store.failNext = true;
    await expect(authenticate(`Bearer ${issued.token}`)).rejects.toThrow('ClickHouse is down');
    const viewers = await Promise.all(
      Array.from({ length: 5 }, () => authenticate(`Bearer ${issued.token}`)),
    );
    expect(viewers.every((viewer) => viewer?.user === 'alice')).toBe(true);
    expect(store.reads).toBe(2);
  });

  it('reads every time with cacheMs 0', async () => {
    const { store, authenticate, issued } = await setup('reader', 0);
    await authenticate(`Bearer ${issued.token}`);
    await store.revoke([issued.id]);
    await expectCode(authenticate(`Bearer ${issued.token}`), 'UNAUTHENTICATED');
    expect(store.reads).toBe(2);
  });

  it('stores only the hash of the secret', async () => {
    const { store, issued } = await setup();
    const row = store.rows.get(issued.id)!;
    expect(row.secretHash).toBe(hashSecret(parseToken(issued.token)!.secret));
    expect(JSON.stringify(row)).not.toContain(parseToken(issued.token)!.secret);
  });

  it('refuses to issue a token for an invalid user name', async () => {
    await expect(issueToken(new MemoryTokenStore(), { user: 'a b', role: 'reader' })).rejects.toThrow(
      TokenRequestError,
    );
  });
});

describe('authChecker', () => {
  const info = { fieldName: 'addAnnotation' } as GraphQLResolveInfo;
  const check = (viewer: Viewer | null, roles: Role[]) =>
    Promise.resolve().then(() =>
      authChecker({ context: { viewer } as ServerContext, info, root: {}, args: {} }, roles),
    );
  const as = (role: Role): Viewer => ({ user: role, role, tokenId: 't' });

  it.each<[string, Viewer | null, Role[], string | true]>([
    ['anonymous', null, ['annotator'], 'UNAUTHENTICATED'],
    ['anonymous, no role named', null, [], 'UNAUTHENTICATED'],
    ['a reader', as('reader'), ['annotator'], 'FORBIDDEN'],
    ['an annotator', as('annotator'), ['annotator'], true],
    ['an admin', as('admin'), ['annotator'], true],
    ['an annotator, admin only', as('annotator'), ['admin'], 'FORBIDDEN'],
    ['a reader, no role named', as('reader'), [], true],
    ['a reader, either role', as('reader'), ['admin', 'reader'], true],
  ])('%s', async (_, viewer, roles, expected) => {
    if (expected === true) {
      expect(await check(viewer, roles)).toBe(true);
      return;
    }
    const error = await expectCode(check(viewer, roles), expected);
    if (expected === 'FORBIDDEN')
      expect(error.message).toMatch(/addAnnotation needs the (annotator|admin) role/);
  });
});
