import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configToEnv, loadConfig } from '../../src/config.ts';
import { PROJECT_ROOT } from '../../src/project.ts';

function configFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fink-config-')), 'fink.yaml');
  writeFileSync(file, text);
  return file;
}

describe('loadConfig', () => {
  it('gives documented defaults with no file and no environment', () => {
    const config = loadConfig({ env: {}, cwd: '/srv/fink' });
    expect(config.stateDir).toBe('/srv/fink/.fink');
    expect(config.sharedDir).toBe('/srv/shared');
    expect(config.clickhouse.url).toBe('http://127.0.0.1:18123');
    expect(config.clickhouse.database).toBe('fink');
    expect(config.kafka.brokers).toEqual(['127.0.0.1:19092']);
    expect(config.simulator.dir).toBe('/srv/shared/datasim/ztf');
    expect(config.pipeline.metricsHost).toBe('127.0.0.1');
    expect(config.file).toBeUndefined();
  });

  it('lets a container open the metrics to its pod address', () => {
    const config = loadConfig({ env: { FINK_PIPELINE__METRICS_HOST: '0.0.0.0' } });
    expect(config.pipeline.metricsHost).toBe('0.0.0.0');
  });

  it('reads a file, lets the environment override it, and explicit overrides win last', () => {
    const file = configFile('kafka:\n  port: 29092\nclickhouse:\n  database: archive\n  httpPort: 28123\n');
    const config = loadConfig({
      file,
      env: { FINK_KAFKA__PORT: '39092' },
      overrides: { clickhouse: { database: 'other' } },
    });
    expect(config.kafka.brokers).toEqual(['127.0.0.1:39092']);
    expect(config.clickhouse.url).toBe('http://127.0.0.1:28123');
    expect(config.clickhouse.database).toBe('other');
    expect(config.file).toBe(file);
  });

  it('reads FINK_CONFIG when no file is given', () => {
    const file = configFile('simulator:\n  topic: night-1\n');
    expect(loadConfig({ env: { FINK_CONFIG: file } }).simulator.topic).toBe('night-1');
  });

  it('points at external servers as configured', () => {
    const config = loadConfig({
      env: {
        FINK_CLICKHOUSE__MODE: 'external',
        FINK_CLICKHOUSE__URL: 'https://ch.example.org:8443',
        FINK_KAFKA__MODE: 'external',
        FINK_KAFKA__BROKERS: '[kafka-1:9092, kafka-2:9092]',
      },
    });
    expect(config.clickhouse.url).toBe('https://ch.example.org:8443');
    expect(config.kafka.brokers).toEqual(['kafka-1:9092', 'kafka-2:9092']);
  });

  it.each<[string, { file?: string; env?: Record<string, string> }, RegExp]>([
    ['an unknown key in a file', { file: 'kafka:\n  prot: 1\n' }, /unknown config key kafka\.prot/],
    ['an unknown section in a file', { file: 'kafak:\n  port: 1\n' }, /unknown config key kafak/],
    ['a wrong type in a file', { file: 'kafka:\n  port: many\n' }, /invalid config key kafka\.port/],
    [
      'an out-of-range port',
      { file: 'clickhouse:\n  httpPort: 70000\n' },
      /invalid config key clickhouse\.httpPort/,
    ],
    ['a bad enum value', { file: 'kafka:\n  mode: remote\n' }, /invalid config key kafka\.mode/],
    ['an unknown environment variable', { env: { FINK_KAFKA__PROT: '1' } }, /FINK_KAFKA__PROT/],
    ['a wrong type in the environment', { env: { FINK_SIMULATOR__RATE: 'fast' } }, /simulator\.rate/],
    [
      'a database name that is not an identifier',
      { env: { FINK_CLICKHOUSE__DATABASE: 'a;b' } },
      /clickhouse\.database/,
    ],
    ['a file that is not a mapping', { file: '- a\n- b\n' }, /must hold a mapping/],
  ])('fails on %s, naming it', (_, { file, env }, message) => {
    expect(() =>
      loadConfig({ file: file === undefined ? undefined : configFile(file), env: env ?? {} }),
    ).toThrow(message);
  });

  it('names the file that cannot be read', () => {
    expect(() => loadConfig({ file: '/nonexistent/fink.yaml', env: {} })).toThrow(
      /\/nonexistent\/fink\.yaml/,
    );
  });

  it('round-trips through the environment handed to background services', () => {
    const original = loadConfig({
      env: { FINK_CLICKHOUSE__PASSWORD: '"12345"', FINK_SIMULATOR__LOOP: 'true', FINK_KAFKA__PORT: '29092' },
    });
    expect(original.clickhouse.password).toBe('12345');
    const copy = loadConfig({ env: configToEnv(original) });
    expect({ ...copy, file: undefined }).toEqual({ ...original, file: undefined });
  });
});

describe('conf/fink.example.yaml', () => {
  it('is a valid config whose values are the defaults', () => {
    const example = loadConfig({ file: path.join(PROJECT_ROOT, 'conf', 'fink.example.yaml'), env: {} });
    expect({ ...example, file: undefined }).toEqual({ ...loadConfig({ env: {} }), file: undefined });
  });
});
