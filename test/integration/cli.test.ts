// The `fink` command end to end: real servers started, shown, stopped, and nothing left behind.
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/cli/supervisor.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { createCliSandbox, runFink, type CliSandbox } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait.ts';

let sandbox: CliSandbox;
beforeAll(async () => {
  sandbox = await createCliSandbox();
});
afterAll(async () => {
  // Whatever a failed assertion left running.
  await sandbox.fink('stop', 'all');
});

function recordedPid(service: string): number {
  const record = JSON.parse(readFileSync(path.join(sandbox.stateDir, 'run', `${service}.json`), 'utf8')) as {
    pid: number;
  };
  return record.pid;
}

describe.each(['clickhouse', 'kafka'])('fink start|show|stop %s', (service) => {
  let pid: number;

  it('starts it and waits until it answers', async () => {
    const result = await sandbox.fink('start', service);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^${service} started \\(pid \\d+, log .*${service}\\.log\\)`));
    pid = recordedPid(service);
    expect(groupAlive(pid)).toBe(true);
  });

  it('shows it running with pid, uptime and log', async () => {
    const result = await sandbox.fink('show');
    const row = result.stdout.split('\n').find((line) => line.startsWith(`${service} `));
    expect(row).toMatch(new RegExp(`^${service}\\s+running\\s+${pid}\\s+\\d+s\\s+\\S+${service}\\.log$`));
  });

  it('says so instead of starting a second one', async () => {
    const result = await sandbox.fink('start', service);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${service} is already running (pid ${pid}`);
    expect(recordedPid(service)).toBe(pid);
  });

  it('stops it gracefully and leaves no process of it behind', async () => {
    const result = await sandbox.fink('stop', service);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(new RegExp(`^${service} stopped \\(SIGTERM, \\d+\\.\\d s\\)$`));
    expect(groupAlive(pid)).toBe(false);
    const show = await sandbox.fink('show');
    expect(show.stdout).toMatch(new RegExp(`^${service}\\s+stopped\\s+-`, 'm'));
  });

  it('says it is not running when stopped again', async () => {
    const result = await sandbox.fink('stop', service);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`${service} is not running`);
  });
});

describe('fink stop all', () => {
  it('stops every running service and leaves nothing running', async () => {
    expect((await sandbox.fink('start', 'clickhouse')).code).toBe(0);
    expect((await sandbox.fink('start', 'kafka')).code).toBe(0);
    const pids = [recordedPid('clickhouse'), recordedPid('kafka')];
    const result = await sandbox.fink('stop', 'all');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('kafka stopped');
    expect(result.stdout).toContain('clickhouse stopped');
    for (const pid of pids) expect(groupAlive(pid)).toBe(false);
    const show = await sandbox.fink('show');
    expect(show.stdout).not.toMatch(/running/);
  });
});

describe('fink stop clickhouse while clients keep it busy', () => {
  it('cancels the running queries and stops it without SIGKILL', async () => {
    expect((await sandbox.fink('start', 'clickhouse')).code).toBe(0);
    const pid = recordedPid('clickhouse');
    const url = `http://127.0.0.1:${sandbox.ports.clickhouseHttp}/`;
    // 18.16 waits for every open connection, then 10 s more for each one still busy: three queries that sleep
    // for minutes and one idle keep-alive connection would keep it past services.stopTimeoutMs (20 s).
    const agent = new http.Agent({ keepAlive: true });
    await httpQuery(url, 'SELECT 1', agent);
    const slow = 'SELECT sum(sleepEachRow(0.5)) FROM numbers(1000) SETTINGS max_block_size = 1';
    const running = [1, 2, 3].map(() => httpQuery(url, slow, new http.Agent()).catch((err: Error) => err));
    await waitFor(
      async () =>
        Number(
          await httpQuery(url, "SELECT count() FROM system.processes WHERE query LIKE '%sleepEachRow%'"),
        ) >= 4,
      30_000,
    );
    const result = await sandbox.fink('stop', 'clickhouse');
    agent.destroy();
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(/^clickhouse stopped \(SIGTERM, \d+\.\d s\)$/);
    expect(groupAlive(pid)).toBe(false);
    const log = readFileSync(path.join(sandbox.stateDir, 'logs', 'clickhouse.log'), 'utf8');
    expect(log.trimEnd().split('\n').at(-1)).toMatch(/clickhouse exited after SIGTERM/);
    // The queries were cancelled (code 394), not left to finish.
    for (const outcome of await Promise.all(running)) expect(String(outcome)).toMatch(/394|cancel/i);
  });
});

/** One query over HTTP; resolves with the body, rejects with the server's error text. */
function httpQuery(url: string, query: string, agent?: http.Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8').trim();
        if (response.statusCode === 200 && !body.includes('DB::Exception')) resolve(body);
        else reject(new Error(body));
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(query);
  });
}

describe('fink errors', () => {
  it('refuses to start on a port another process holds, naming the port', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(sandbox.ports.clickhouseHttp, '127.0.0.1', resolve));
    try {
      const result = await sandbox.fink('start', 'clickhouse');
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`127.0.0.1:${sandbox.ports.clickhouseHttp} is already in use`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('names an unknown service and lists the known ones', async () => {
    const result = await sandbox.fink('start', 'stream3raw');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("unknown service 'stream3raw'; known: clickhouse, kafka");
  });

  it('names a bad config key and starts nothing', async () => {
    const result = await sandbox.fink(
      'start',
      'clickhouse',
      '-c',
      path.join(sandbox.stateDir, 'missing.yaml'),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('missing.yaml');
    const bad = await sandbox.fink('show');
    expect(bad.stdout).not.toMatch(/running/);
    const env = await runFink(['show'], { ...sandbox.env, FINK_KAFKA__PORT: 'ninety' });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain('invalid config key kafka.port');
  });
});

describe('fink datasim generate', () => {
  it('writes the requested number of decodable synthetic alerts, the same for the same seed', async () => {
    const first = path.join(sandbox.stateDir, 'synth-a');
    const second = path.join(sandbox.stateDir, 'synth-b');
    for (const out of [first, second]) {
      const result = await sandbox.fink('datasim', 'generate', '--count', '40', '--seed', '7', '--out', out);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^wrote 40 synthetic alerts/);
    }
    const names = readdirSync(first).sort();
    expect(names).toHaveLength(40);
    expect(readdirSync(second).sort()).toEqual(names);
    const decoder = createZtfDecoder();
    for (const name of names) {
      const bytes = readFileSync(path.join(first, name));
      expect(Buffer.compare(bytes, readFileSync(path.join(second, name)))).toBe(0);
      expect(`${decoder.decode(bytes).candid}.avro`).toBe(name);
    }
  });

  it('refuses a count that is not a positive integer', async () => {
    const result = await sandbox.fink('datasim', 'generate', '--count', '-3', '--out', sandbox.stateDir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("expected a positive integer, got '-3'");
  });
});
