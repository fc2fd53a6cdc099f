import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureModelsInstalled, installConfiguredModels } from '../../../src/cli/models-command.ts';
import { listInstalledFiles } from '../../../src/models/install.ts';
import { runServiceIn } from '../../../src/cli/run.ts';
import { createLogger } from '../../../src/logger.ts';
import { ModelFilesError, openInstalledModels, versionDir } from '../../../src/models/manifest.ts';
import { loadSnnModel } from '../../../src/pipeline/classifiers/fink/snn.ts';
import type { SnnModelJson } from '../../../src/pipeline/classifiers/fink/snn.ts';
import { finkModels } from '../../helpers/fink-models.ts';
import { testConfig } from '../../helpers/context.ts';

// On a fresh machine the first use installs the models (pip download of the wheel): more than a test's 5 s.
beforeAll(() => finkModels(), 300_000);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function fakeCache(content: string): { cacheDir: string; file: string } {
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'fink-models-'));
  dirs.push(cacheDir);
  const dir = versionDir(cacheDir, '7.4.0');
  mkdirSync(path.join(dir, 'files', 'snn'), { recursive: true });
  const file = path.join(dir, 'files', 'snn', 'm.json');
  writeFileSync(file, content);
  const manifest = {
    format: 1,
    finkScienceVersion: '7.4.0',
    wheel: { file: 'w.whl', sha256: 'x' },
    files: {
      'snn/m.json': {
        sha256: createHash('sha256').update('{"a":1}').digest('hex'),
        bytes: 7,
        source: 'fink_science/data/models/snn_models/m/model.pt',
        sourceSha256: 'abc',
      },
    },
  };
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return { cacheDir, file };
}

describe('installed models', () => {
  it('reads a file whose SHA-256 matches the manifest, with its provenance', async () => {
    const { cacheDir } = fakeCache('{"a":1}');
    const models = await openInstalledModels(cacheDir, '7.4.0');
    expect(models.readJson<{ a: number }>('snn/m.json').a).toBe(1);
    expect(models.provenance('snn/m.json')).toEqual({
      modelFile: 'snn_models/m/model.pt',
      modelSha256: 'abc',
      finkScienceVersion: '7.4.0',
    });
  });

  it('a corrupt file is an error naming `fink models install`', async () => {
    const { cacheDir } = fakeCache('{"a":2}');
    const models = await openInstalledModels(cacheDir, '7.4.0');
    expect(() => models.read('snn/m.json')).toThrow(ModelFilesError);
    expect(() => models.read('snn/m.json')).toThrow(/corrupt.*fink models install/);
  });

  it('a missing file or manifest is an error naming `fink models install`', async () => {
    const { cacheDir, file } = fakeCache('{"a":1}');
    rmSync(file);
    const models = await openInstalledModels(cacheDir, '7.4.0');
    expect(() => models.read('snn/m.json')).toThrow(/missing.*fink models install/);
    expect(() => models.read('snn/other.json')).toThrow(/not among the installed.*fink models install/);
    await expect(openInstalledModels(path.join(cacheDir, 'nothing'), '7.4.0')).rejects.toThrow(
      /not installed.*fink models install/,
    );
  });

  it('a second install does nothing (idempotent)', async () => {
    await finkModels();
    const lines: string[] = [];
    const result = await installConfiguredModels(testConfig(), (line) => lines.push(line));
    expect(result.installed).toBe(false);
    expect(lines.join('\n')).toMatch(/nothing to do/);
    expect(Object.keys(result.manifest.files)).toContain('snn/snn_snia_vs_nonia.json');
  });

  it('SuperNNova models this implementation cannot evaluate exactly are refused, with the reason', async () => {
    const models = await finkModels();
    const broad = models.readJson<SnnModelJson>('snn/elasticc_broad.json');
    await expect(loadSnnModel(broad, 'elasticc_broad')).rejects.toThrow(
      /norm cosmo_quantile is not supported/,
    );
  });
});

describe('raw2science without the models', () => {
  async function startRaw2Science(cacheDir: string): Promise<unknown> {
    const config = testConfig({ models: { cacheDir }, log: { level: 'silent' } });
    const controller = new AbortController();
    try {
      await runServiceIn({
        name: 'raw2science',
        config,
        logger: createLogger(config.log),
        signal: controller.signal,
        markReady: () => undefined,
      });
      return undefined;
    } catch (err) {
      return err;
    } finally {
      controller.abort();
    }
  }

  it('refuses to start, naming `fink models install`, before it connects to anything', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'fink-models-'));
    dirs.push(cacheDir);
    const err = await startRaw2Science(cacheDir);
    expect(err).toBeInstanceOf(ModelFilesError);
    expect(String(err)).toMatch(/not installed.*fink models install/);
  });

  it('refuses to start on a corrupt model file, naming the file and `fink models install`', async () => {
    // The installed models, every file linked, except one SuperNNova model whose bytes changed.
    const installed = await finkModels();
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'fink-models-'));
    dirs.push(cacheDir);
    const dir = versionDir(cacheDir, installed.manifest.finkScienceVersion);
    const corrupt = 'snn/snn_snia_vs_nonia.json';
    for (const file of await listInstalledFiles(installed.dir)) {
      mkdirSync(path.dirname(path.join(dir, 'files', file)), { recursive: true });
      if (file === corrupt) writeFileSync(path.join(dir, 'files', file), '{"truncated":');
      else symlinkSync(path.join(installed.dir, 'files', file), path.join(dir, 'files', file));
    }
    writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(installed.manifest));
    const err = await startRaw2Science(cacheDir);
    expect(err).toBeInstanceOf(ModelFilesError);
    expect(String(err)).toMatch(/snn_snia_vs_nonia\.json is corrupt .*fink models install/);
  });
});

describe('ensureModelsInstalled (fink start raw2science, fink demo, fink test)', () => {
  it('does nothing and says nothing when the models are installed and intact', async () => {
    await finkModels();
    const lines: string[] = [];
    await ensureModelsInstalled(testConfig(), (line) => lines.push(line));
    expect(lines).toEqual([]);
  });
});
