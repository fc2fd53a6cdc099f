// WebSocket connections by client address (a cap per address) and by API token (so that a revoked token's
// sessions can be closed), and the sweep that closes them: once a second, the tokens of every open connection
// are read in one batched store read; a revoked or deleted token's connections are closed with 4403.
import type { Logger } from '../logger.ts';
import type { TokenStore } from '../storage/token-store.ts';

export const REVOKED_CLOSE_CODE = 4403;

export interface Closable {
  close(code: number, reason: string): void;
}

export class ConnectionRegistry {
  private readonly byAddress = new Map<string, number>();
  private readonly byToken = new Map<string, Set<Closable>>();

  /** Counts a connection of `address` unless it already holds `max`; false: refuse it. */
  open(address: string, max: number): boolean {
    const held = this.byAddress.get(address) ?? 0;
    if (held >= max) return false;
    this.byAddress.set(address, held + 1);
    return true;
  }

  closed(address: string): void {
    const held = (this.byAddress.get(address) ?? 1) - 1;
    if (held <= 0) this.byAddress.delete(address);
    else this.byAddress.set(address, held);
  }

  connectionsOf(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  addToken(tokenId: string, connection: Closable): void {
    let set = this.byToken.get(tokenId);
    if (set === undefined) this.byToken.set(tokenId, (set = new Set()));
    set.add(connection);
  }

  removeToken(tokenId: string, connection: Closable): void {
    const set = this.byToken.get(tokenId);
    set?.delete(connection);
    if (set?.size === 0) this.byToken.delete(tokenId);
  }

  tokenIds(): string[] {
    return [...this.byToken.keys()];
  }

  /** Closes every connection of the token; answers how many there were. */
  closeToken(tokenId: string, code: number, reason: string): number {
    const set = this.byToken.get(tokenId);
    this.byToken.delete(tokenId);
    for (const connection of set ?? []) connection.close(code, reason);
    return set?.size ?? 0;
  }
}

export interface RevocationSweep {
  /** One sweep now (tests); resolves when it is done. */
  sweep(): Promise<void>;
  stop(): void;
}

export function startRevocationSweep(options: {
  registry: ConnectionRegistry;
  tokens: TokenStore;
  intervalMs: number;
  logger: Logger;
  /** Told the ids found revoked, e.g. to drop them from a token cache. */
  onRevoked?: (ids: string[]) => void;
}): RevocationSweep {
  const { registry, tokens, logger } = options;
  let running: Promise<void> | null = null;
  const sweep = async () => {
    const ids = registry.tokenIds();
    if (ids.length === 0) return;
    const records = new Map((await tokens.byIds(ids)).map((record) => [record.id, record]));
    const revoked = ids.filter((id) => records.get(id)?.revoked !== false);
    for (const id of revoked) {
      const closed = registry.closeToken(id, REVOKED_CLOSE_CODE, 'the API token was revoked');
      logger.info({ tokenId: id, connections: closed }, 'connections of a revoked token closed');
    }
    if (revoked.length > 0) options.onRevoked?.(revoked);
  };
  const once = () => {
    // A slow store read is not stacked up: the next tick waits for it.
    running ??= sweep()
      .catch((error: unknown) => logger.warn({ err: error }, 'token revocation sweep failed'))
      .finally(() => (running = null));
    return running;
  };
  const timer = setInterval(() => void once(), options.intervalMs);
  timer.unref();
  return { sweep: once, stop: () => clearInterval(timer) };
}
