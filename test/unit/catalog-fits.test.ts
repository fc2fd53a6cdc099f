import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FitsTableError, readFitsTable } from '../../src/catalogs/fits-table.ts';
import { openCatalogFiles, parseRa } from '../../src/catalogs/reader.ts';
import { wheelCatalogDir } from '../../src/cli/catalog-command.ts';
import { finkModels } from '../helpers/fink-models.ts';
import { testConfig } from '../helpers/context.ts';

// On a fresh machine the first use installs the models (pip download of the wheel): more than a test's 5 s.
beforeAll(() => finkModels(), 300_000);

async function lacFiles(): Promise<string[]> {
  await finkModels();
  const dir = wheelCatalogDir(testConfig());
  return [path.join(dir, 'table-4LAC-DR3-h.fits'), path.join(dir, 'table-4LAC-DR3-l.fits')];
}

describe('FITS binary tables (4LAC DR3 from the fink-science wheel)', () => {
  it('reads the columns and rows astropy reads', async () => {
    const [high] = await lacFiles();
    const table = readFitsTable(readFileSync(high!), '4lac-h');
    expect(table.rowCount).toBe(3407);
    expect(table.columns.slice(0, 4).map((c) => `${c.name}:${c.type}`)).toEqual([
      'Source_Name:A',
      'DataRelease:I',
      'RAJ2000:E',
      'DEJ2000:E',
    ]);
    const col = (name: string) => table.columns.find((c) => c.name === name)!;
    expect(table.value(0, col('Source_Name'))).toBe('4FGL J0001.2+4741');
    expect(table.value(0, col('RAJ2000'))).toBe(Math.fround(0.3126));
    expect(table.value(0, col('DEJ2000'))).toBe(Math.fround(47.6859));
  });

  it('two files make one catalog, checked before reading', async () => {
    const files = await lacFiles();
    const catalog = await openCatalogFiles(files, { ra: 'RAJ2000', dec: 'DEJ2000', id: 'Source_Name' });
    expect(catalog.rowCount).toBe(3407 + 407);
    let n = 0;
    for await (const source of catalog.sources()) {
      n++;
      expect(source.ra).toBeGreaterThanOrEqual(0);
    }
    expect(n).toBe(3814);
    await expect(openCatalogFiles(files, { ra: 'RA', dec: 'DEJ2000' })).rejects.toThrow(/no column 'RA'/);
  });

  it('refuses what is not a FITS table', () => {
    expect(() => readFitsTable(Buffer.from('not fits at all'), 'x.fits')).toThrow(FitsTableError);
  });
});

describe('parseRa wrap360', () => {
  it('reads exactly 360 as 0 only when asked', () => {
    expect(parseRa(360, { wrap360: true })).toBe(0);
    expect(() => parseRa(360)).toThrow(/outside/);
    expect(() => parseRa(360.5, { wrap360: true })).toThrow(/outside/);
  });
});
