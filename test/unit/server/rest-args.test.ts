// Arguments of the REST API as Fink takes them: query, JSON or form; each refusal names its argument.
import { describe, expect, it } from 'vitest';
import {
  booleanArg,
  checkArgs,
  columnsArg,
  dateArg,
  integerArg,
  listArg,
  numberArg,
  outputFormat,
  parsePayload,
  RestError,
} from '../../../src/server/rest/args.ts';
import { jdToIso } from '../../../src/server/rest/fink-rows.ts';

function refusal(fn: () => unknown): { status: number; argument: string | undefined; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof RestError) return { status: err.status, argument: err.argument, message: err.message };
    throw err;
  }
  throw new Error('expected a RestError');
}

describe('parsePayload', () => {
  it('merges query parameters with a JSON body, the body winning', () => {
    const payload = parsePayload(
      new URLSearchParams('objectId=ZTF1&output-format=csv'),
      '{"output-format": "json", "withupperlim": true}',
      'application/json',
    );
    expect(payload).toEqual({ objectId: 'ZTF1', 'output-format': 'json', withupperlim: true });
  });

  it('reads a form body', () => {
    const payload = parsePayload(
      new URLSearchParams(),
      'objectId=ZTF1%2CZTF2&withupperlim=True',
      'application/x-www-form-urlencoded',
    );
    expect(payload).toEqual({ objectId: 'ZTF1,ZTF2', withupperlim: 'True' });
  });

  it.each(['{"a":', '[1, 2]', '"text"'])('refuses the JSON body %s', (body) => {
    expect(refusal(() => parsePayload(new URLSearchParams(), body, 'application/json')).status).toBe(400);
  });
});

describe('checkArgs', () => {
  const specs = [
    { name: 'objectId', required: true, description: 'id' },
    { name: 'columns', required: false, description: 'cols' },
  ];
  it('names a missing required argument, as Fink does', () => {
    const error = refusal(() => checkArgs('/api/v1/objects', specs, { columns: 'i:jd' }));
    expect(error).toMatchObject({ status: 400, argument: 'objectId' });
    expect(error.message).toContain('A value for `objectId` is required');
  });
  it('names an unknown argument and lists the known ones', () => {
    const error = refusal(() => checkArgs('/api/v1/objects', specs, { objectId: 'x', colums: 'i:jd' }));
    expect(error).toMatchObject({ status: 400, argument: 'colums' });
    expect(error.message).toContain('objectId, columns');
  });
  it('passes a complete payload', () => {
    expect(() => checkArgs('/api/v1/objects', specs, { objectId: 'x' })).not.toThrow();
  });
});

describe('values', () => {
  it.each([
    [true, true],
    ['True', true],
    ['true', true],
    ['1', true],
    [false, false],
    ['False', false],
    ['', false],
    [undefined, false],
  ])('booleanArg(%o) is %o', (value, expected) => {
    expect(booleanArg({ withupperlim: value }, 'withupperlim')).toBe(expected);
  });

  it('refuses a boolean that is neither', () => {
    expect(refusal(() => booleanArg({ withupperlim: 'maybe' }, 'withupperlim')).argument).toBe(
      'withupperlim',
    );
  });

  it('reads numbers from strings and numbers, within bounds', () => {
    expect(numberArg({ ra: '193.82' }, 'ra', { min: 0, max: 360 })).toBe(193.82);
    expect(numberArg({ ra: 10 }, 'ra')).toBe(10);
    expect(numberArg({}, 'ra')).toBeUndefined();
    expect(refusal(() => numberArg({ ra: 'abc' }, 'ra')).argument).toBe('ra');
    expect(refusal(() => numberArg({ radius: 20000 }, 'radius', { max: 18000 })).message).toContain(
      'at most 18000',
    );
    expect(integerArg({ n: '10' }, 'n', 100, { min: 1, max: 1000 })).toBe(10);
    expect(integerArg({}, 'n', 100, { min: 1, max: 1000 })).toBe(100);
    expect(refusal(() => integerArg({ n: 1.5 }, 'n', 100, { min: 1, max: 1000 })).argument).toBe('n');
  });

  it.each([
    ['2021-06-10 12:30:00', 2459376.0208333335],
    ['2021-06-10T12:30:00', 2459376.0208333335],
    ['2021-06-10', 2459375.5],
    ['2459376.02', 2459376.02],
    ['59375.5', 2459376],
    [59375, 2459375.5],
  ])('dateArg(%o) is JD %d', (value, jd) => {
    expect(dateArg({ startdate: value }, 'startdate')).toBeCloseTo(jd, 6);
  });

  it.each(['yesterday', '2021-13-01', '2021-02-30'])('refuses the date %s naming the argument', (value) => {
    expect(refusal(() => dateArg({ startdate: value }, 'startdate')).argument).toBe('startdate');
  });

  it('reads output-format case-insensitively, json by default, naming the argument otherwise', () => {
    expect(outputFormat({})).toBe('json');
    expect(outputFormat({ 'output-format': 'VOTable' })).toBe('votable');
    const error = refusal(() => outputFormat({ 'output-format': 'xlsx' }));
    expect(error.argument).toBe('output-format');
    expect(error.message).toContain('json, csv, parquet, votable');
  });

  it('splits columns and lists, spaces ignored', () => {
    expect(columnsArg({ columns: 'i:jd, i:magpsf ,,' })).toEqual(['i:jd', 'i:magpsf']);
    expect(columnsArg({ columns: '' })).toBeUndefined();
    expect(listArg({ objectId: 'ZTF1, ZTF2' }, 'objectId', 10)).toEqual(['ZTF1', 'ZTF2']);
    expect(refusal(() => listArg({ objectId: 'a,b,c' }, 'objectId', 2)).argument).toBe('objectId');
  });

  it("writes Julian dates as Fink's date text", () => {
    expect(jdToIso(2459375.5)).toBe('2021-06-10 00:00:00.000');
  });
});
