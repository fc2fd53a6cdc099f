// The dashboard's pure helpers: positions as typed (degrees, sexagesimal), the links out of an object page, the
// REST URLs of the download buttons and the resolver, and the sky map's Mollweide projection.
import { describe, expect, it } from 'vitest';
import {
  CoordinateError,
  formatSexagesimal,
  parseDec,
  parseRa,
  splitPosition,
} from '../../../web/src/coords.ts';
import { externalLinks } from '../../../web/src/links.ts';
import { DOWNLOADS, looksLikeObjectId, resolvedTarget, restUrl } from '../../../web/src/rest.ts';
import { fromCanvas, project, toCanvas, unproject } from '../../../web/src/sky-projection.ts';

describe('positions', () => {
  it.each([
    ['193.822', 193.822],
    ['12:55:17.28', 193.822],
    ['12h55m17.28s', 193.822],
    ['12 55 17.28', 193.822],
    ['0:0:0', 0],
    ['23:59:59.999', 359.9999958],
  ])('reads RA %s as %f°', (text, degrees) => {
    expect(parseRa(text)).toBeCloseTo(degrees, 6);
  });

  it.each([
    ['-2.5', -2.5],
    ['+02:53:49.2', 2.897],
    ['-02:30:00', -2.5],
    ['−02:30:00', -2.5],
    ['-0:30:00', -0.5],
    ['2d53m49.2s', 2.897],
    ['-89°59′60″'.replace('60', '59.9'), -89.9999722],
  ])('reads Dec %s as %f°', (text, degrees) => {
    expect(parseDec(text)).toBeCloseTo(degrees, 6);
  });

  it.each(['', 'abc', '24:00:00', '12:60:00', '-12:00:00', '360', '12:30.5:10', '1:2:3:4'])(
    'refuses RA %j',
    (text) => {
      expect(() => parseRa(text)).toThrow(CoordinateError);
    },
  );

  it.each(['', '91', '-90:00:01', '12:00:61', 'north'])('refuses Dec %j', (text) => {
    expect(() => parseDec(text)).toThrow(CoordinateError);
  });

  it.each([
    ['193.822 2.897', 193.822, 2.897],
    ['193.822, -2.897', 193.822, -2.897],
    ['12:55:17.28 +02:53:49.2', 193.822, 2.897],
    ['12 55 17.28 -02 53 49.2', 193.822, -2.897],
    ['12h55m17.28s-2d53m49.2s', 193.822, -2.897],
  ])('splits a whole position %j', (text, ra, dec) => {
    const position = splitPosition(text);
    expect(position?.ra).toBeCloseTo(ra, 6);
    expect(position?.dec).toBeCloseTo(dec, 6);
  });

  it('answers null for what is not a position, and formats one back', () => {
    expect(splitPosition('M31')).toBeNull();
    expect(formatSexagesimal(193.822, 2.897)).toBe('12:55:17.28 +02:53:49.2');
    expect(formatSexagesimal(0, -0.5)).toBe('00:00:00.00 -00:30:00.0');
    expect(parseRa(formatSexagesimal(83.4392672, 8.5395691).split(' ')[0]!)).toBeCloseTo(83.4392672, 4);
  });
});

describe('links out', () => {
  const ztf = {
    objectId: 'ZTF18acvqmmq',
    survey: 'ztf',
    ra: 83.4392672,
    dec: 8.5395691,
    lastJd: 2460230.9,
    ssName: null,
  };

  it('links a ZTF object to the position services and its pages at Fink, ALeRCE and Lasair', () => {
    const links = externalLinks(ztf);
    expect(links.map((l) => l.key)).toEqual([
      'tns',
      'simbad',
      'aladin',
      'legacy',
      'ps1',
      'fink',
      'alerce',
      'lasair',
    ]);
    const url = (key: string) => links.find((l) => l.key === key)!.url;
    expect(url('fink')).toBe('https://fink-portal.org/ZTF18acvqmmq');
    expect(url('alerce')).toBe('https://alerce.online/object/ZTF18acvqmmq');
    expect(url('lasair')).toBe('https://lasair-ztf.lsst.ac.uk/objects/ZTF18acvqmmq/');
    expect(url('legacy')).toContain('ra=83.439267&dec=8.539569');
    expect(url('simbad')).toContain('Coord=83.439267%208.539569');
    for (const link of links) expect(() => new URL(link.url)).not.toThrow();
  });

  it('adds MPC and SkyBoT (at the alert time, from the survey site) for a solar-system object', () => {
    const links = externalLinks({ ...ztf, ssName: '2005 WM38' });
    const mpc = links.find((l) => l.key === 'mpc')!;
    expect(mpc.url).toBe('https://minorplanetcenter.net/db_search/show_object?object_id=2005%20WM38');
    const skybot = links.find((l) => l.key === 'skybot')!.url;
    expect(skybot).toContain('-ep=2460230.90000');
    expect(skybot).toContain('-loc=I41');
    expect(links.find((l) => l.key === 'lasair')!.url).toContain('lasair-ztf');
  });

  it('uses the Rubin pages for a Rubin object', () => {
    const links = externalLinks({ ...ztf, objectId: '313853483196088321', survey: 'lsst' });
    expect(links.find((l) => l.key === 'lasair')!.url).toBe(
      'https://lasair.lsst.ac.uk/objects/313853483196088321/',
    );
    expect(links.find((l) => l.key === 'fink')!.url).toBe('https://lsst.fink-portal.org/313853483196088321');
  });
});

describe('REST URLs and resolver rows', () => {
  it("builds Fink's argument names", () => {
    expect(restUrl(...withFormat(DOWNLOADS.lightCurve('ZTF18acvqmmq'), 'csv'))).toBe(
      '/api/v1/objects?objectId=ZTF18acvqmmq&withupperlim=true&output-format=csv',
    );
    expect(restUrl(...withFormat(DOWNLOADS.cone(83.44, 8.54, 10), 'votable'))).toBe(
      '/api/v1/conesearch?ra=83.44&dec=8.54&radius=10&output-format=votable',
    );
    expect(restUrl(...withFormat(DOWNLOADS.latests('SN candidate', 5), 'parquet'))).toBe(
      '/api/v1/latests?class=SN+candidate&n=5&output-format=parquet',
    );
  });

  it('sends a filter search as the JSON of its AlertFilter', () => {
    const url = restUrl(...withFormat(DOWNLOADS.search({ band: ['g'], mag: { max: 19 } }), 'csv'));
    const params = new URL(url, 'http://x').searchParams;
    expect(url.startsWith('/api/v1/search?')).toBe(true);
    expect(JSON.parse(params.get('filter')!)).toEqual({ band: ['g'], mag: { max: 19 } });
    expect(params.get('output-format')).toBe('csv');
  });

  it('recognises object ids', () => {
    expect(looksLikeObjectId('ZTF18acvqmmq')).toBe(true);
    expect(looksLikeObjectId('313853483196088321')).toBe(true);
    expect(looksLikeObjectId('SN 2023abc')).toBe(false);
    expect(looksLikeObjectId('58270')).toBe(false);
  });

  it('reads TNS, SIMBAD and SSO rows into objects, positions and asteroid names', () => {
    expect(
      resolvedTarget({ 'd:fullname': 'SN 2023abc', 'd:internalname': 'ZTF23abcdefg, ATLAS23x' }).objectIds,
    ).toEqual(['ZTF23abcdefg']);
    expect(resolvedTarget({ oname: 'M31', jradeg: '10.6847', jdedeg: 41.269 }).position).toEqual({
      ra: 10.6847,
      dec: 41.269,
    });
    const sso = resolvedTarget({ 'i:ssnamenr': '58270', 'i:name': 'Fink', 'i:number': 58270 });
    expect(sso.ssName).toBe('58270');
    expect(sso.position).toBeNull();
    expect(resolvedTarget({ 'i:objectId': 'ZTF18acvqmmq', 'i:ssnamenr': null }).ssName).toBeNull();
  });
});

function withFormat([route, args]: [string, Record<string, string | number | boolean>], format: string) {
  return [route, { ...args, 'output-format': format }] as const;
}

describe('Mollweide projection', () => {
  it.each([
    [180, 0, 0, 0],
    [0.000001, 0, 2 * Math.SQRT2, 0],
    [90, 0, Math.SQRT2, 0],
    [270, 0, -Math.SQRT2, 0],
    [123, 90, 0, Math.SQRT2],
    [10, -90, 0, -Math.SQRT2],
  ])('puts RA %f, Dec %f at (%f, %f): RA 180 in the middle, growing to the left', (ra, dec, x, y) => {
    const point = project(ra, dec);
    expect(point.x).toBeCloseTo(x, 5);
    expect(point.y).toBeCloseTo(y, 5);
  });

  it('inverts itself, through the canvas too, and answers null outside the ellipse', () => {
    for (const [ra, dec] of [
      [83.44, 8.54],
      [3.38, 52.69],
      [352.43, -6.42],
      [200, 75],
      [45, -80],
    ] as const) {
      const { px, py } = toCanvas(project(ra, dec), 1000);
      const back = unproject(fromCanvas(px, py, 1000).x, fromCanvas(px, py, 1000).y)!;
      expect(back.ra).toBeCloseTo(ra, 6);
      expect(back.dec).toBeCloseTo(dec, 6);
    }
    expect(unproject(2.8, 1.3)).toBeNull();
    expect(toCanvas({ x: 0, y: 0 }, 1000)).toEqual({ px: 500, py: 250 });
  });
});
