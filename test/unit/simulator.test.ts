// The simulator over large directories of alert files: every file sent once, in order, read as it is sent (not
// all opened at once: 2,000 files under `ulimit -n 256`, and not all held in memory).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Message } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAlertFiles, loadReplays, memoryReplay, runSimulator } from '../../datasim/simulator.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { PROJECT_ROOT } from '../../src/project.ts';

const silent = createLogger({ level: 'silent' });
const FILES = 2_000;
let dir: string;

/** File i's content: its index, so that order and identity can be checked. */
const content = (i: number): Buffer => Buffer.from(`alert-${String(i).padStart(5, '0')}`);

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fink-sim-'));
  // Spread over nested directories, as a downloaded night is.
  for (let i = 0; i < FILES; i++) {
    const sub = path.join(dir, `night-${i % 3}`, `part-${i % 7}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(path.join(sub, `${String(i).padStart(5, '0')}.avro`), content(i));
  }
  writeFileSync(path.join(dir, 'README.txt'), 'not an alert');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function collectingSink(): {
  sent: { topic: string; value: string }[];
  send: (t: string, m: Message[]) => Promise<void>;
} {
  const sent: { topic: string; value: string }[] = [];
  return {
    sent,
    send: (topic, messages) => {
      for (const message of messages) sent.push({ topic, value: String(message.value) });
      return Promise.resolve();
    },
  };
}

function simulatorConfig(overrides: Record<string, unknown>) {
  return loadConfig({ env: {}, overrides: { simulator: overrides } }).simulator;
}

describe('the simulator over a large directory', () => {
  it('sends every file once, in file-name order, and reads each when it is sent', async () => {
    const replays = await loadReplays(simulatorConfig({ dir, topic: 'sim', survey: 'ztf' }));
    expect(replays.map((r) => [r.survey, r.size])).toEqual([['ztf', FILES]]);
    // Changed on disk after loading: the replay must send what the file holds then, not a copy taken at load.
    const files = await listAlertFiles(dir);
    writeFileSync(files[0]!, 'rewritten after loading');

    const sink = collectingSink();
    const result = await runSimulator(
      replays,
      { rate: 0, count: 0, loop: false },
      sink,
      silent,
      new AbortController().signal,
    );

    expect(result.sent).toBe(FILES);
    expect(sink.sent).toHaveLength(FILES);
    expect(sink.sent[0]!.value).toBe('rewritten after loading');
    const expected = files.slice(1).map((file) => `alert-${path.basename(file, '.avro')}`);
    expect(sink.sent.slice(1).map((m) => m.value)).toEqual(expected);
    expect(new Set(sink.sent.map((m) => m.topic))).toEqual(new Set(['sim']));
    writeFileSync(files[0]!, content(Number(path.basename(files[0]!, '.avro'))));
  });

  it('interleaves two replays and loops to --count', async () => {
    const a = memoryReplay('ztf', 'a', [Buffer.from('a0'), Buffer.from('a1'), Buffer.from('a2')]);
    const b = memoryReplay('lsst', 'b', [Buffer.from('b0')]);
    const sink = collectingSink();
    const result = await runSimulator(
      [a, b],
      { rate: 0, count: 9, loop: true },
      sink,
      silent,
      new AbortController().signal,
    );
    expect(result.sent).toBe(9);
    // One alert of each replay in turn (a0 b0 a1 a2, again, then a0); each topic keeps its order.
    const of = (topic: string) => sink.sent.filter((m) => m.topic === topic).map((m) => m.value);
    expect(of('a')).toEqual(['a0', 'a1', 'a2', 'a0', 'a1', 'a2', 'a0']);
    expect(of('b')).toEqual(['b0', 'b0']);
  });

  it(`replays ${FILES} files under a limit of 256 open files`, async () => {
    const script = path.join(PROJECT_ROOT, 'test', 'helpers', 'simulate-dir.ts');
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        'sh',
        ['-c', 'ulimit -n 256 && exec "$0" --import tsx "$1" "$2"', process.execPath, script, dir],
        { cwd: PROJECT_ROOT, timeout: 60_000 },
        (error, stdout, stderr) =>
          error === null ? resolve(stdout) : reject(new Error(`${error.message}\n${stderr}`)),
      );
    });
    const bytes = Array.from({ length: FILES }, (_, i) => content(i).length).reduce((a, b) => a + b, 0);
    expect(JSON.parse(output.trim())).toEqual({ sent: FILES, bytes });
  });
});
