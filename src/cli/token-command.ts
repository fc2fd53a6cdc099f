// `fink token create|list|revoke`: API tokens for the GraphQL server.
//
//   fink token create --user alice --role annotator   prints the token once (it is not stored: keep it)
//   fink token list
//   fink token revoke 3f2a9c0d41b7e865
//
// Commands apply the migrations first (idempotent), so tokens can be made before the server has ever run.
// A revoked token stops working within the server's token cache time (server.tokenCacheMs, 1 s), and its open
// WebSocket sessions are closed (4403) within about a second.
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import type { Config } from '../config.ts';
import { MIGRATIONS_DIR } from '../project.ts';
import { issueToken, USER_NAME_PATTERN } from '../server/auth.ts';
import { ROLES, type Role } from '../resolvers/viewer.ts';
import { connectClickHouse } from '../storage/clickhouse.ts';
import { migrate } from '../storage/migrations.ts';
import { ClickHouseTokenStore, type TokenInfo } from '../storage/token-store.ts';
import { configOption } from './options.ts';

type GetConfig = (options: { config?: string }) => Config;

async function withTokenStore<T>(
  config: Config,
  use: (store: ClickHouseTokenStore) => Promise<T>,
): Promise<T> {
  await migrate(config.clickhouse, MIGRATIONS_DIR);
  const client = connectClickHouse(config.clickhouse);
  try {
    return await use(new ClickHouseTokenStore(client));
  } finally {
    await client.close();
  }
}

function userName(value: string): string {
  const user = value.trim();
  if (!USER_NAME_PATTERN.test(user)) {
    throw new InvalidArgumentError('expected 1 to 64 letters, digits or _ . @ + -');
  }
  return user;
}

export function registerTokenCommands(program: Command, getConfig: GetConfig): void {
  const token = program
    .command('token')
    .description('API tokens for the GraphQL server (Authorization: Bearer)');

  token
    .command('create')
    .description('create a token and print it once: only its hash is stored')
    .requiredOption('--user <name>', 'who the token acts as (letters, digits, _ . @ + -)', userName)
    .addOption(
      new Option('--role <role>', 'reader < annotator (annotations, votes) < admin')
        .choices(ROLES)
        .makeOptionMandatory(),
    )
    .addOption(configOption())
    .action(async (options: { user: string; role: Role; config?: string }) => {
      const issued = await withTokenStore(getConfig(options), (store) =>
        issueToken(store, { user: options.user, role: options.role }),
      );
      console.log(`created token ${issued.id} for ${issued.user} (${issued.role})`);
      console.log('keep it now, it cannot be shown again:');
      console.log(issued.token);
    });

  token
    .command('list')
    .description('list the tokens (ids, users, roles; never the tokens)')
    .addOption(configOption())
    .action(async (options: { config?: string }) => {
      const tokens = await withTokenStore(getConfig(options), (store) => store.list());
      console.log(tokens.length === 0 ? 'no tokens' : formatTokenTable(tokens));
    });

  token
    .command('revoke')
    .description('revoke a token: it stops working within about a second, its WebSocket sessions closed')
    .argument('<id>', 'token id (as listed; the part after fink_ of the token)')
    .addOption(configOption())
    .action(async (id: string, options: { config?: string }) => {
      const revoked = await withTokenStore(getConfig(options), (store) => store.revoke([id]));
      if (revoked.length === 0) {
        console.error(`fink: no token with id ${id}`);
        process.exitCode = 1;
        return;
      }
      console.log(`revoked token ${id}`);
    });
}

export function formatTokenTable(tokens: readonly TokenInfo[]): string {
  const header = ['ID', 'USER', 'ROLE', 'CREATED (UTC)', 'STATE'];
  const rows = tokens.map((t) => [
    t.id,
    t.user,
    t.role,
    t.createdAt.toISOString().slice(0, 19).replace('T', ' '),
    t.revoked ? 'revoked' : 'active',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
