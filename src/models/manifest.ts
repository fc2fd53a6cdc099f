// The installed models: the manifest `fink models install` writes, and verified reads of the files it lists.
//
// Every file is checked against its SHA-256 when it is opened, so a truncated or edited model fails loudly, with
// the command that repairs it, instead of scoring alerts with wrong weights.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export const MANIFEST_FILE = 'manifest.json';
/** Present when the install was given a kndetect checkout (models.kndetectDir). */
export const KNDETECT_FOREST = 'forest/kn_partial.json';

export class ModelFilesError extends Error {
  override name = 'ModelFilesError';
}

export interface ManifestEntry {
  sha256: string;
  bytes: number;
  /** The file of the wheel it comes from (fink_science/data/models/...), and that file's SHA-256. */
  source: string;
  sourceSha256: string;
}

export interface ModelManifest {
  format: 1;
  finkScienceVersion: string;
  wheel: { file: string; sha256: string };
  /** Keyed by the path under files/. */
  files: Record<string, ManifestEntry>;
}

/** Where one fink-science version is installed. */
export function versionDir(cacheDir: string, finkScienceVersion: string): string {
  return path.join(cacheDir, `fink-science-${finkScienceVersion}`);
}

const REPAIR = 'run `fink models install`';

export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ModelFilesError(`Fink's models are not installed (no ${file}); ${REPAIR}`);
  }
  return parseManifest(text, file);
}

function parseManifest(text: string, file: string): ModelManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ModelFilesError(`${file} is not JSON (an interrupted install?); ${REPAIR}`);
  }
  const m = value as Partial<ModelManifest>;
  if (m.format !== 1 || typeof m.finkScienceVersion !== 'string' || typeof m.files !== 'object' || !m.files) {
    throw new ModelFilesError(`${file} is not a model manifest this version reads; ${REPAIR}`);
  }
  return m as ModelManifest;
}

/** What a stored score says about the model that made it. */
export interface ModelProvenance {
  /** The model's file in the fink-science wheel, e.g. snn_models/snn_snia_vs_nonia/model.pt. */
  modelFile: string;
  /** SHA-256 of that file as shipped. */
  modelSha256: string;
  finkScienceVersion: string;
}

/** Verified access to the installed files of one fink-science version. */
export interface InstalledModels {
  readonly dir: string;
  readonly manifest: ModelManifest;
  /** The bytes of files/<file>, after checking its SHA-256 against the manifest. */
  read(file: string): Buffer;
  readJson<T>(file: string): T;
  /** The absolute path of files/<file>, checked like read() (for readers that open files themselves). */
  verifiedPath(file: string): string;
  provenance(file: string): ModelProvenance;
}

export async function openInstalledModels(
  cacheDir: string,
  finkScienceVersion: string,
): Promise<InstalledModels> {
  const dir = versionDir(cacheDir, finkScienceVersion);
  const manifest = await readManifest(dir);
  if (manifest.finkScienceVersion !== finkScienceVersion) {
    throw new ModelFilesError(
      `${dir} holds fink-science ${manifest.finkScienceVersion}, not ${finkScienceVersion}; ${REPAIR}`,
    );
  }
  return installedModelsFrom(dir, manifest);
}

/** Synchronous variant for callers that already hold the manifest. */
export function openInstalledModelsSync(cacheDir: string, finkScienceVersion: string): InstalledModels {
  const dir = versionDir(cacheDir, finkScienceVersion);
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ModelFilesError(`Fink's models are not installed (no ${file}); ${REPAIR}`);
  }
  return installedModelsFrom(dir, parseManifest(text, file));
}

function installedModelsFrom(dir: string, manifest: ModelManifest): InstalledModels {
  const entryOf = (file: string): ManifestEntry => {
    const entry = manifest.files[file];
    if (entry === undefined) {
      throw new ModelFilesError(
        `${file} is not among the installed model files of fink-science ${manifest.finkScienceVersion}; ${REPAIR}`,
      );
    }
    return entry;
  };
  const read = (file: string): Buffer => {
    const entry = entryOf(file);
    const full = path.join(dir, 'files', file);
    let bytes: Buffer;
    try {
      bytes = readFileSync(full);
    } catch {
      throw new ModelFilesError(`model file ${full} is missing; ${REPAIR}`);
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== entry.sha256) {
      throw new ModelFilesError(
        `model file ${full} is corrupt (SHA-256 ${digest}, expected ${entry.sha256}); ${REPAIR}`,
      );
    }
    return bytes;
  };
  return {
    dir,
    manifest,
    read,
    readJson<T>(file: string): T {
      return JSON.parse(read(file).toString('utf8')) as T;
    },
    verifiedPath(file: string): string {
      read(file);
      return path.join(dir, 'files', file);
    },
    provenance(file: string): ModelProvenance {
      const entry = entryOf(file);
      return {
        modelFile: entry.source.replace(/^fink_science\/data\/models\//, ''),
        modelSha256: entry.sourceSha256,
        finkScienceVersion: manifest.finkScienceVersion,
      };
    },
  };
}
