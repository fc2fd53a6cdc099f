// The `fink` command end to end: real servers started, shown, stopped, and nothing left behind.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupAlive } from '../../src/cli/supervisor.ts';
import { createZtfDecoder } from '../../src/pipeline/decode/ztf-avro.ts';
import { createCliSandbox, runFink, type CliSandbox } from '../helpers/cli.ts';

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
    expect(result.stdout.trim()).toBe(`${service} stopped`);
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
