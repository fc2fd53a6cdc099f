import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CatalogReadError,
  catalogFormat,
  CoordinateError,
  openCatalog,
  parseDec,
  parseRa,
} from '../../src/catalogs/reader.ts';
import type { CatalogColumns } from '../../src/catalogs/reader.ts';
import { loadConfig } from '../../src/config.ts';
import type { CatalogSource } from '../../src/storage/catalog-store.ts';

const CATALOGS = path.join(loadConfig().sharedDir, 'catalogs');

function tempFile(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'fink-reader-')), name);
  writeFileSync(file, text);
  return file;
}

async function readAll(file: string, columns: CatalogColumns): Promise<CatalogSource[]> {
  const sources: CatalogSource[] = [];
  for await (const source of (await openCatalog(file, columns)).sources()) sources.push(source);
  return sources;
}

describe('parseRa', () => {
  it.each([
    // decimal: degrees
    [0, 0],
    [359.999, 359.999],
    ['187.5', 187.5],
    [' 10.25 ', 10.25],
    ['1.5e2', 150],
    [12n, 12],
    // sexagesimal: hours
    ['12 34 56.7', (12 + 34 / 60 + 56.7 / 3600) * 15],
    ['12:34:56.7', (12 + 34 / 60 + 56.7 / 3600) * 15],
    ['12h34m56.7s', (12 + 34 / 60 + 56.7 / 3600) * 15],
    ['12h 34m 56.7s', (12 + 34 / 60 + 56.7 / 3600) * 15],
    ['00 01 16.37', (1 / 60 + 16.37 / 3600) * 15],
    ['23 59 59.999', (23 + 59 / 60 + 59.999 / 3600) * 15],
    ['12 30', 187.5],
    ['12h30.5m', (12 + 30.5 / 60) * 15],
    ['+06 00 00', 90],
    // hours or degrees named by a unit
    ['12.5h', 187.5],
    ['187.5d', 187.5],
    ['180d30m00s', 180.5],
    ['180°30\'36"', 180.51],
  ])('%s is %f degrees', (value, degrees) => {
    expect(parseRa(value)).toBeCloseTo(degrees, 10);
  });

  it.each([
    [null, /empty/],
    ['', /empty/],
    ['   ', /empty/],
    ['abc', /neither degrees nor sexagesimal/],
    ['12 34 56 78', /neither/],
    ['24 00 00', /hours must be below 24/],
    ['12 60 00', /minutes must be below 60/],
    ['12 34 60', /seconds must be below 60/],
    ['12 34.5 10', /minutes must be whole/],
    ['-01 00 00', /cannot be negative/],
    ['360', /outside \[0, 360\)/],
    [-0.5, /outside \[0, 360\)/],
    ['25h', /375° is outside/],
    [Number.NaN, /not a finite number/],
    [Number.POSITIVE_INFINITY, /not a finite number/],
    [true, /not a coordinate/],
  ])('rejects %s', (value, message) => {
    expect(() => parseRa(value)).toThrow(CoordinateError);
    expect(() => parseRa(value)).toThrow(message);
  });
});

describe('parseDec', () => {
  it.each([
    [0, 0],
    ['-12.5', -12.5],
    [90, 90],
    ['-90', -90],
    ['+29 35 34.0', 29 + 35 / 60 + 34 / 3600],
    ['-31 50 43.0', -(31 + 50 / 60 + 43 / 3600)],
    ['+12:34:56', 12 + 34 / 60 + 56 / 3600],
    ['12 34 56', 12 + 34 / 60 + 56 / 3600],
    ['-12d34m56s', -(12 + 34 / 60 + 56 / 3600)],
    ['-12°34\'56"', -(12 + 34 / 60 + 56 / 3600)],
    // The sign belongs to the whole value: -00 must not lose it.
    ['-00 30 00', -0.5],
    ['-00:30:00', -0.5],
    ['-00 00 01.5', -1.5 / 3600],
    ['- 00 30 00', -0.5],
    ['+00 30 00', 0.5],
    ['00 30 00', 0.5],
    ['-00 30', -0.5],
    ['-0.5d', -0.5],
    ['90 00 00', 90],
    ['-90:00:00', -90],
  ])('%s is %f degrees', (value, degrees) => {
    expect(parseDec(value)).toBeCloseTo(degrees, 12);
  });

  it('returns 0, not -0, for a zero declination', () => {
    expect(Object.is(parseDec('-00 00 00'), 0)).toBe(true);
    expect(Object.is(parseDec(-0), 0)).toBe(true);
  });

  it.each([
    ['', /empty/],
    [undefined, /empty/],
    ['north', /neither/],
    ['90 00 01', /outside \[-90, 90\]/],
    ['-91', /outside \[-90, 90\]/],
    [90.0001, /outside/],
    ['12h30m', /not in hours/],
    ['12.5h', /not in hours/],
    ['+12 61 00', /minutes must be below 60/],
    ['+12 30 60', /seconds must be below 60/],
  ])('rejects %s', (value, message) => {
    expect(() => parseDec(value)).toThrow(CoordinateError);
    expect(() => parseDec(value)).toThrow(message);
  });
});

describe('catalogFormat', () => {
  it.each([
    ['a/b.csv', 'csv'],
    ['B.CSV', 'csv'],
    ['x.parquet', 'parquet'],
    ['x.pq', 'parquet'],
  ])('%s is %s', (file, format) => {
    expect(catalogFormat(file)).toBe(format);
  });

  it('rejects other extensions, naming them', () => {
    expect(() => catalogFormat('stars.vot')).toThrow(/unknown catalog format '\.vot'/);
  });
});

describe('reading CSV', () => {
  const CSV = [
    'name , R.A. , Dec , kind , note',
    '"star, one" , "00 01 16.37" , "+29 35 34.0" , "EW" , "a ""quoted"" note"',
    '"two" , "23:59:59.9" , "-00:30:00" , "" , ""',
    '',
    'three , 10.5 , -5.25 , M , x',
  ].join('\n');

  it('reads quoted fields with spaces around them, sexagesimal and degrees, and the extra columns', async () => {
    const file = tempFile('mixed.csv', CSV);
    const sources = await readAll(file, {
      ra: 'R.A.',
      dec: 'Dec',
      id: 'name',
      type: 'kind',
      extra: ['note'],
    });
    expect(sources).toEqual([
      {
        sourceId: 'star, one',
        ra: expect.closeTo((1 / 60 + 16.37 / 3600) * 15, 10) as number,
        dec: expect.closeTo(29 + 35 / 60 + 34 / 3600, 10) as number,
        type: 'EW',
        extra: { note: 'a "quoted" note' },
      },
      {
        sourceId: 'two',
        ra: expect.closeTo((23 + 59 / 60 + 59.9 / 3600) * 15, 10) as number,
        dec: -0.5,
        type: null,
        extra: { note: '' },
      },
      { sourceId: 'three', ra: 10.5, dec: -5.25, type: 'M', extra: { note: 'x' } },
    ]);
  });

  it('numbers sources by row when there is no id column, and gives no type without a type column', async () => {
    const file = tempFile('plain.csv', 'ra,dec\n1,2\n3,4\n');
    expect(await readAll(file, { ra: 'ra', dec: 'dec' })).toEqual([
      { sourceId: '1', ra: 1, dec: 2, type: null, extra: null },
      { sourceId: '2', ra: 3, dec: 4, type: null, extra: null },
    ]);
  });

  it('names a missing column and lists the columns the file has', async () => {
    const file = tempFile('mixed.csv', CSV);
    await expect(openCatalog(file, { ra: 'RA', dec: 'Dec' })).rejects.toThrow(
      "mixed.csv: no column 'RA' (--ra); the file's columns are: 'name', 'R.A.', 'Dec', 'kind', 'note'",
    );
    await expect(openCatalog(file, { ra: 'R.A.', dec: 'Dec', type: 'class' })).rejects.toThrow(
      /no column 'class' \(--type-column\)/,
    );
    await expect(openCatalog(file, { ra: 'R.A.', dec: 'Dec', extra: ['note', 'flux'] })).rejects.toThrow(
      /no column 'flux' \(--columns\)/,
    );
  });

  it.each([
    ['ra,dec\n1,2\n1,95\n', "row 2 (line 3), column 'dec': declination 95° is outside [-90, 90]"],
    ['ra,dec\n1,2\n\n"24 00 00",2\n', "row 2 (line 4), column 'ra': '24 00 00': hours must be below 24"],
    ['ra,dec\n,2\n', "row 1 (line 2), column 'ra': empty value"],
    ['ra,dec\n1,"12h00m"\n', "row 1 (line 2), column 'dec': '12h00m': a declination is not in hours"],
  ])('names the row, line and column of a bad coordinate (%#)', async (text, message) => {
    const file = tempFile('bad.csv', text);
    const read = readAll(file, { ra: 'ra', dec: 'dec' });
    await expect(read).rejects.toBeInstanceOf(CatalogReadError);
    await expect(readAll(file, { ra: 'ra', dec: 'dec' })).rejects.toThrow(`bad.csv: ${message}`);
  });

  it('rejects an empty id and a ragged row', async () => {
    await expect(
      readAll(tempFile('ids.csv', 'id,ra,dec\na,1,1\n"",2,2\n'), { ra: 'ra', dec: 'dec', id: 'id' }),
    ).rejects.toThrow("ids.csv: row 2 (line 3), column 'id': empty source id");
    await expect(
      readAll(tempFile('ragged.csv', 'ra,dec\n1,2\n3,4,5\n'), { ra: 'ra', dec: 'dec' }),
    ).rejects.toThrow(/ragged\.csv: not valid CSV: .*line 3/);
  });

  it('rejects a file that does not exist, naming it', async () => {
    await expect(openCatalog('/nonexistent/stars.csv', { ra: 'ra', dec: 'dec' })).rejects.toThrow(
      'cannot read /nonexistent/stars.csv: ENOENT',
    );
    await expect(openCatalog('/nonexistent/stars.parquet', { ra: 'ra', dec: 'dec' })).rejects.toThrow(
      CatalogReadError,
    );
  });

  it('rejects an empty file and a column named twice', async () => {
    await expect(openCatalog(tempFile('empty.csv', ''), { ra: 'ra', dec: 'dec' })).rejects.toThrow(
      /empty file/,
    );
    await expect(
      openCatalog(tempFile('twice.csv', 'ra,dec,ra\n1,2,3\n'), { ra: 'ra', dec: 'dec' }),
    ).rejects.toThrow("twice.csv: column 'ra' (--ra) appears 2 times");
  });

  it('reads the real 3HSP file: 2013 blazars, sexagesimal, 32 of them at -00 declinations', async () => {
    const sources = await readAll(path.join(CATALOGS, '3hsp.csv'), {
      ra: 'R.A.',
      dec: 'Dec',
      id: '3HSP Source name',
    });
    expect(sources).toHaveLength(2013);
    expect(sources[0]).toEqual({
      sourceId: '3HSPJ000116.4+293534',
      ra: expect.closeTo((1 / 60 + 16.37 / 3600) * 15, 10) as number,
      dec: expect.closeTo(29 + 35 / 60 + 34 / 3600, 10) as number,
      type: null,
      extra: null,
    });
    // Names encode the position: a J...-00... name must have a negative declination.
    const minusZero = sources.filter((s) => /^3HSPJ\d{6}\.\d-00/.test(s.sourceId));
    expect(minusZero).toHaveLength(32);
    for (const source of minusZero) {
      expect(source.dec).toBeLessThan(0);
      expect(source.dec).toBeGreaterThan(-1);
    }
  });
});

describe('reading Parquet', () => {
  it('reads the real GCVS file with its padded type column trimmed', async () => {
    const file = await openCatalog(path.join(CATALOGS, 'gcvs.parquet'), {
      ra: 'ra',
      dec: 'dec',
      type: 'VarType',
    });
    expect(file).toMatchObject({ format: 'parquet', columns: ['ra', 'dec', 'VarType'], rowCount: 59_099 });
    const sources: CatalogSource[] = [];
    for await (const source of file.sources()) sources.push(source);
    expect(sources).toHaveLength(59_099);
    expect(sources[1]).toEqual({
      sourceId: '2',
      ra: 5.596458333333333,
      dec: 26.996055555555557,
      type: 'M',
      extra: null,
    });
  });

  it('names a missing column and lists the available ones', async () => {
    await expect(
      openCatalog(path.join(CATALOGS, 'spicy.parquet'), { ra: 'ra', dec: 'DEdeg' }),
    ).rejects.toThrow(
      "spicy.parquet: no column 'ra' (--ra); the file's columns are: 'RAdeg', 'DEdeg', 'class'",
    );
  });

  it('rejects a file that is not Parquet', async () => {
    await expect(
      openCatalog(tempFile('fake.parquet', 'ra,dec\n1,2\n'), { ra: 'ra', dec: 'dec' }),
    ).rejects.toThrow(/fake\.parquet: not a readable Parquet file/);
  });
});
