// The download encoders (src/export): ids exact in every format, nulls, quoting, types read back by a parquet
// reader (hyparquet), VOTable fields with units and UCDs.
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { encodeTable, toCsv, toJson, toParquet, toVotable } from '../../src/export/encoders.ts';
import { cellOf, ExportError, selectColumns, type ExportTable } from '../../src/export/table.ts';

/** The bytes as an ArrayBuffer of their own (what hyparquet reads). */
function arrayBuffer(bytes: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(copy).set(bytes);
  return copy;
}

const BIG = 2890466950515015016n; // above 2^53: a double would round it to ...5015000 or ...5015032
const TABLE: ExportTable = {
  columns: [
    { name: 'i:candid', type: 'long', ucd: 'meta.id' },
    { name: 'i:objectId', type: 'string', ucd: 'meta.id;meta.main' },
    { name: 'i:jd', type: 'double', unit: 'd', ucd: 'time.epoch', description: 'Julian date <start>' },
    { name: 'i:fid', type: 'int' },
    { name: 'i:magpsf', type: 'float', unit: 'mag', ucd: 'phot.mag' },
    { name: 'd:flag', type: 'boolean' },
    { name: 'b:cutout', type: 'json' },
  ],
  rows: [
    {
      'i:candid': BIG,
      'i:objectId': 'ZTF21abfmbix',
      'i:jd': 2459000.5,
      'i:fid': 1,
      'i:magpsf': 18.5,
      'd:flag': true,
      'b:cutout': '[[1,2],[3,null]]',
    },
    {
      'i:candid': -1n,
      'i:objectId': 'a "quoted", name\nwith a line',
      'i:jd': 2459001.25,
      'i:fid': null,
      'i:magpsf': Number.NaN,
      'd:flag': false,
      'b:cutout': null,
    },
  ],
};

describe('json', () => {
  it('writes records with 64-bit ids as exact integer literals and NaN as null', () => {
    const text = toJson(TABLE);
    expect(text).toContain(`"i:candid":${BIG}`);
    expect(text).toContain('"i:candid":-1');
    expect(text).toContain('"i:magpsf":null');
    expect(text).toContain('"b:cutout":[[1,2],[3,null]]');
    const parsed = JSON.parse(text) as Record<string, unknown>[];
    expect(parsed).toHaveLength(2);
    expect(parsed[1]!['i:objectId']).toBe('a "quoted", name\nwith a line');
    expect(parsed[0]!['b:cutout']).toEqual([
      [1, 2],
      [3, null],
    ]);
    // Exactness is in the text: JSON.parse itself rounds, Python's json does not.
    expect(/"i:candid":(\d+)/.exec(text)![1]).toBe(BIG.toString());
  });
});

describe('csv', () => {
  it('writes RFC 4180 with quoted fields, plain integer ids, True/False and empty nulls', () => {
    const lines = toCsv(TABLE).split('\r\n');
    expect(lines[0]).toBe('i:candid,i:objectId,i:jd,i:fid,i:magpsf,d:flag,b:cutout');
    expect(lines[1]).toBe(`${BIG},ZTF21abfmbix,2459000.5,1,18.5,True,"[[1,2],[3,null]]"`);
    expect(lines[2]).toBe('-1,"a ""quoted"", name\nwith a line",2459001.25,,,False,');
  });
});

describe('parquet', () => {
  it('writes INT64 ids read back exactly, typed columns and nulls', async () => {
    const bytes = toParquet(TABLE);
    const buffer = arrayBuffer(bytes);
    const metadata = parquetMetadata(buffer);
    const types = Object.fromEntries(metadata.schema.slice(1).map((element) => [element.name, element.type]));
    expect(types).toEqual({
      'i:candid': 'INT64',
      'i:objectId': 'BYTE_ARRAY',
      'i:jd': 'DOUBLE',
      'i:fid': 'INT32',
      'i:magpsf': 'FLOAT',
      'd:flag': 'BOOLEAN',
      'b:cutout': 'BYTE_ARRAY',
    });
    const rows = (await parquetReadObjects({ file: buffer })) as Record<string, unknown>[];
    expect(rows.map((row) => row['i:candid'])).toEqual([BIG, -1n]);
    expect(rows[1]!['i:fid']).toBeNull();
    expect(rows[1]!['i:magpsf']).toBeNull();
    expect(rows[0]!['i:objectId']).toBe('ZTF21abfmbix');
    expect(rows.map((row) => row['d:flag'])).toEqual([true, false]);
  });

  it('writes a table without rows', () => {
    const bytes = encodeTable({ columns: TABLE.columns, rows: [] }, 'parquet');
    const buffer = arrayBuffer(bytes);
    expect(parquetMetadata(buffer).num_rows).toBe(0n);
  });
});

describe('votable', () => {
  it('gives each field a unique XML ID made from its name', () => {
    const text = toVotable({
      columns: [
        { name: 'a:b', type: 'int' },
        { name: 'a_b', type: 'int' },
        { name: '1x', type: 'int' },
      ],
      rows: [],
    });
    expect([...text.matchAll(/ID="([^"]+)"/g)].map((m) => m[1])).toEqual(['a_b', 'a_b_2', '_1x']);
  });

  it('declares each field with its datatype, unit, UCD and description, and escapes cells', () => {
    const text = toVotable(TABLE, { name: 'objects' });
    expect(text).toContain('<VOTABLE version="1.4"');
    expect(text).toContain('<TABLE name="objects" nrows="2">');
    expect(text).toContain('<FIELD ID="i_candid" name="i:candid" datatype="long" ucd="meta.id"/>');
    expect(text).toContain(
      '<FIELD ID="i_objectId" name="i:objectId" datatype="char" arraysize="*" ucd="meta.id;meta.main"/>',
    );
    expect(text).toContain(
      '<FIELD ID="i_jd" name="i:jd" datatype="double" unit="d" ucd="time.epoch"><DESCRIPTION>Julian date &lt;start&gt;</DESCRIPTION></FIELD>',
    );
    expect(text).toContain(`<TD>${BIG}</TD>`);
    expect(text).toContain('<TD>a &quot;quoted&quot;, name\nwith a line</TD>');
    expect(text).toContain('<TD>T</TD>');
    // Missing values (NaN included): empty cells, null in VOTable 1.3+.
    expect(text).toContain('<TD>-1</TD><TD>a');
    expect(text).toContain('<TD>2459001.25</TD><TD></TD><TD></TD><TD>F</TD><TD></TD></TR>');
  });
});

describe('columns', () => {
  it('selects columns in the order asked and names an unknown one', () => {
    expect(selectColumns(TABLE, ['i:jd', 'i:candid']).columns.map((c) => c.name)).toEqual([
      'i:jd',
      'i:candid',
    ]);
    expect(() => selectColumns(TABLE, ['i:jd', 'i:nosuch'])).toThrow(
      new ExportError('unknown column i:nosuch'),
    );
  });

  it.each([
    [{ name: 'x', type: 'long' } as const, '2890466950515015016', BIG],
    [{ name: 'x', type: 'long' } as const, 12, 12n],
    [{ name: 'x', type: 'long' } as const, 1.5, null],
    [{ name: 'x', type: 'int' } as const, 2.5, null],
    [{ name: 'x', type: 'double' } as const, Number.NaN, null],
    [{ name: 'x', type: 'double' } as const, 3n, 3],
    [{ name: 'x', type: 'boolean' } as const, 'yes', null],
    [{ name: 'x', type: 'string' } as const, 7, '7'],
  ])('cellOf(%o, %o) is %o', (column, value, expected) => {
    expect(cellOf(column, value)).toEqual(expected);
  });
});
