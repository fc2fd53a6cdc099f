// `fink models install`: Fink's trained models and catalogs, from the fink-science wheel on PyPI, into a cache.
//
// The wheel ships the models (SuperNNova state dicts, scikit-learn pickles, ONNX forests in zip files) and the
// catalogs Fink cross-matches against. Nothing here needs Python at run time: the install converts, once, what
// TypeScript cannot read (a torch state dict, a scikit-learn forest or PCA) into plain arrays, with
// scripts/models/convert-models.py running in a virtual environment that holds numpy only.
//
// Layout of <cacheDir>/fink-science-<version>/:
//   wheel/fink_science-<version>-py3-none-any.whl    as pip downloaded it
//   venv-convert/                                     python + numpy, for the conversion
//   files/                                            what the classifiers and catalogs read
//   manifest.json                                     written last: every file with its SHA-256 and its source
//
// Idempotent: with a manifest whose files all match their SHA-256, it does nothing. Concurrent installs (two test
// workers) serialise on a lock directory, and the second finds the first's manifest.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ensurePythonEnv } from '../cli/python-env.ts';
import { PROJECT_ROOT } from '../project.ts';
import { acquireDirLock } from '../util/dir-lock.ts';
import { KNDETECT_FOREST, MANIFEST_FILE, ModelFilesError, readManifest, versionDir } from './manifest.ts';
import type { ModelManifest, ManifestEntry } from './manifest.ts';

export interface InstallModelsOptions {
  /** <cacheDir>/fink-science-<version> is created under it. */
  cacheDir: string;
  finkScienceVersion: string;
  /** The interpreter that runs pip and creates the conversion environment. */
  python?: string;
  /**
   * A checkout of b-biswas/kndetect (v1.0.0): fink-science 7.4.0's kilonova module loads its forest and principal
   * components from the kndetect package, which is neither in the wheel nor on PyPI. Without it the kilonova
   * classifier is not installed.
   */
  kndetectDir?: string | undefined;
  /** One line per step, for people (the CLI prints them). */
  progress?: (line: string) => void;
}

export interface InstallModelsResult {
  dir: string;
  manifest: ModelManifest;
  /** False when everything was already installed and intact. */
  installed: boolean;
  ms: number;
}

const CONVERT_SCRIPT = path.join(PROJECT_ROOT, 'scripts', 'models', 'convert-models.py');
const CONVERT_REQUIREMENTS = path.join(PROJECT_ROOT, 'scripts', 'models', 'requirements.txt');

export async function installModels(options: InstallModelsOptions): Promise<InstallModelsResult> {
  const started = Date.now();
  const progress = options.progress ?? (() => undefined);
  const version = options.finkScienceVersion;
  const dir = versionDir(options.cacheDir, version);

  const wantKndetect = options.kndetectDir !== undefined;
  const current = await intactManifest(dir, wantKndetect);
  if (current !== undefined) {
    progress(`models: fink-science ${version} already installed in ${dir} (nothing to do)`);
    return { dir, manifest: current, installed: false, ms: Date.now() - started };
  }

  await mkdir(dir, { recursive: true });
  const lockDir = path.join(dir, '.install.lock');
  const release = await acquireDirLock(lockDir, {
    timeoutMs: 10 * 60_000,
    pollMs: 250,
    timedOut: (owner) =>
      new ModelFilesError(
        `another process (pid ${owner || 'unknown'}) holds ${lockDir}; remove it if it is gone`,
      ),
  });
  try {
    const again = await intactManifest(dir, wantKndetect);
    if (again !== undefined) {
      progress(`models: installed by another process in ${dir}`);
      return { dir, manifest: again, installed: false, ms: Date.now() - started };
    }
    const python = options.python ?? 'python3';

    const wheelDir = path.join(dir, 'wheel');
    const wheelName = `fink_science-${version}-py3-none-any.whl`;
    const wheel = path.join(wheelDir, wheelName);
    if (!existsSync(wheel)) {
      progress(`models: downloading fink-science ${version} from PyPI (pip download, ~65 MB)...`);
      await mkdir(wheelDir, { recursive: true });
      const pip = await run(python, [
        '-m',
        'pip',
        'download',
        `fink-science==${version}`,
        '--no-deps',
        '--only-binary=:all:',
        '--disable-pip-version-check',
        '--no-input',
        '--progress-bar',
        'off',
        '-d',
        wheelDir,
      ]);
      if (pip.code !== 0 || !existsSync(wheel)) {
        throw new ModelFilesError(
          `pip could not download fink-science==${version} (exit ${pip.code}):\n${tail(pip.output)}`,
        );
      }
    }
    const wheelSha256 = await sha256File(wheel);

    progress('models: preparing the conversion environment (python -m venv, numpy)...');
    const envPython = await ensurePythonEnv(dir, CONVERT_REQUIREMENTS, { python, envName: 'venv-convert' });

    progress('models: extracting and converting the models and catalogs...');
    const staging = path.join(dir, 'files.tmp');
    await rm(staging, { recursive: true, force: true });
    const entries: Record<string, ManifestEntry> = {};
    const kndetectArgs =
      options.kndetectDir === undefined ? [] : ['--kndetect', path.resolve(options.kndetectDir)];
    const convert = await run(envPython, [CONVERT_SCRIPT, wheel, staging, ...kndetectArgs], (line) => {
      const step = parseStep(line);
      if (step === undefined) return;
      entries[step.file] = { sha256: '', bytes: 0, source: step.source, sourceSha256: step.sourceSha256 };
      progress(`models:   ${step.step} ${step.file}`);
    });
    if (convert.code !== 0) {
      throw new ModelFilesError(
        `converting the models failed (exit ${convert.code}):\n${tail(convert.output)}`,
      );
    }
    for (const [file, entry] of Object.entries(entries)) {
      const full = path.join(staging, file);
      entry.sha256 = await sha256File(full);
      entry.bytes = (await stat(full)).size;
    }
    const files = path.join(dir, 'files');
    await rm(files, { recursive: true, force: true });
    await rename(staging, files);

    const manifest: ModelManifest = {
      format: 1,
      finkScienceVersion: version,
      wheel: { file: wheelName, sha256: wheelSha256 },
      files: entries,
    };
    // Written last: an interrupted install has no manifest and is redone.
    await writeFile(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const ms = Date.now() - started;
    progress(
      `models: fink-science ${version} installed in ${dir} (${Object.keys(entries).length} files, ${(ms / 1000).toFixed(1)} s)`,
    );
    return { dir, manifest, installed: true, ms };
  } finally {
    await release();
  }
}

/**
 * The manifest when it exists, every file it lists is there with its SHA-256, and it holds kndetect's files when
 * they are wanted; undefined otherwise.
 */
async function intactManifest(dir: string, wantKndetect: boolean): Promise<ModelManifest | undefined> {
  let manifest: ModelManifest;
  try {
    manifest = await readManifest(dir);
  } catch {
    return undefined;
  }
  if (wantKndetect && manifest.files[KNDETECT_FOREST] === undefined) return undefined;
  for (const [file, entry] of Object.entries(manifest.files)) {
    const full = path.join(dir, 'files', file);
    const size = await stat(full).then(
      (s) => s.size,
      () => -1,
    );
    if (size !== entry.bytes || (await sha256File(full)) !== entry.sha256) return undefined;
  }
  return manifest;
}

interface Step {
  step: string;
  file: string;
  source: string;
  sourceSha256: string;
}

function parseStep(line: string): Step | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as Partial<Step>;
    if (typeof value.file !== 'string' || typeof value.source !== 'string') return undefined;
    return {
      step: String(value.step),
      file: value.file,
      source: value.source,
      sourceSha256: String(value.sourceSha256),
    };
  } catch {
    return undefined;
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface RunResult {
  code: number;
  output: string;
}

function run(command: string, args: string[], onStdoutLine?: (line: string) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      chunks.push(line);
      onStdoutLine?.(line);
    });
    createInterface({ input: child.stderr }).on('line', (line) => chunks.push(line));
    child.once('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(
          new ModelFilesError(
            `${command} was not found: \`fink models install\` needs Python 3 with pip and venv ` +
              '(on Debian: apt-get install python3 python3-venv python3-pip)',
            { cause: err },
          ),
        );
      } else reject(err);
    });
    child.once('close', (code) => resolve({ code: code ?? 1, output: chunks.join('\n') }));
  });
}

function tail(output: string, lines = 20): string {
  return output.trimEnd().split('\n').slice(-lines).join('\n');
}

/** For tests: the files a manifest lists, relative to its files/ directory. */
export async function listInstalledFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, 'files', rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name);
      if (entry.isDirectory()) await walk(child);
      else out.push(child);
    }
  };
  await walk('');
  return out.sort();
}
