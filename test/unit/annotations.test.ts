import type { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_LIMITS,
  checkAnnotationInput,
  checkCitation,
  citationUrl,
} from '../../src/resolvers/annotation.validate.ts';
import { computeConsensus } from '../../src/resolvers/vote.consensus.ts';
import { checkVote } from '../../src/resolvers/vote.resolver.ts';
import type { CitationKind } from '../../src/storage/annotation-store.ts';

function thrown(action: () => unknown): GraphQLError {
  try {
    action();
  } catch (err) {
    return err as GraphQLError;
  }
  throw new Error('expected an error');
}

describe('checkCitation', () => {
  it.each<[CitationKind, string, string]>([
    ['DOI', '10.1088/1538-3873/aaecbe', '10.1088/1538-3873/aaecbe'],
    ['DOI', ' https://doi.org/10.3847/1538-4357/ab1234 ', '10.3847/1538-4357/ab1234'],
    ['DOI', 'doi:10.1093/mnras/stab123', '10.1093/mnras/stab123'],
    ['ADS', '2019PASP..131a8002B', '2019PASP..131a8002B'],
    ['ADS', '2016A&A...594A..13P', '2016A&A...594A..13P'],
    ['ADS', '2023arXiv230112345S', '2023arXiv230112345S'],
    ['ATEL', '15000', '15000'],
    ['ATEL', 'ATel #15000', '15000'],
    ['ATEL', 'atel16123', '16123'],
    ['TNS', '2023abc', '2023abc'],
    ['TNS', 'AT 2023abc', 'AT 2023abc'],
    ['TNS', 'SN2011fe', 'SN 2011fe'],
    ['TNS', '2024abcd', '2024abcd'],
    ['URL', 'https://fink-portal.org/ZTF21abcdefg', 'https://fink-portal.org/ZTF21abcdefg'],
    ['URL', 'http://example.org/a?b=c#d', 'http://example.org/a?b=c#d'],
  ])('accepts %s %j as %j', (kind, value, canonical) => {
    expect(checkCitation(kind, value)).toEqual({ ok: true, value: canonical });
  });

  it.each<[CitationKind, string]>([
    ['DOI', '11.1088/abc'],
    ['DOI', '10.12/abc'],
    ['DOI', '10.1088/'],
    ['DOI', '10.1088/has space'],
    ['ADS', '2019PASP..131a8002'],
    ['ADS', '2019PASP..131a8002BX'],
    ['ADS', '19PASP..131a8002Bxx'],
    ['ADS', '2019PASP..131a8002b'],
    ['ATEL', '0'],
    ['ATEL', '-5'],
    ['ATEL', '1234567'],
    ['ATEL', 'ATel'],
    ['TNS', 'abc'],
    ['TNS', '2023'],
    ['TNS', '2023ABC'],
    ['TNS', '23abc'],
    ['TNS', 'AT 2023abcde'],
    ['URL', 'ftp://example.org/file'],
    ['URL', 'javascript:alert(1)'],
    ['URL', 'not a url'],
    ['URL', 'https://exa mple.org'],
    ['URL', `https://example.org/${'a'.repeat(ANNOTATION_LIMITS.citationChars)}`],
    ['DOI', ''],
    ['DOI', '   '],
  ])('refuses %s %j', (kind, value) => {
    expect(checkCitation(kind, value).ok).toBe(false);
  });

  it.each<[CitationKind, string, string]>([
    ['DOI', '10.1088/1538-3873/aaecbe', 'https://doi.org/10.1088/1538-3873/aaecbe'],
    ['ADS', '2016A&A...594A..13P', 'https://ui.adsabs.harvard.edu/abs/2016A%26A...594A..13P/abstract'],
    ['ATEL', '15000', 'https://www.astronomerstelegram.org/?read=15000'],
    ['TNS', 'AT 2023abc', 'https://www.wis-tns.org/object/2023abc'],
    ['URL', 'https://example.org/x', 'https://example.org/x'],
  ])('links %s %s to %s', (kind, value, url) => {
    expect(citationUrl({ kind, value })).toBe(url);
  });
});

describe('checkAnnotationInput', () => {
  const valid = { text: 'Rising fast, blue: likely a young SN II.', tags: ['sn', 'young'], citations: [] };

  it('answers the content to store, trimmed, tags deduplicated, empty classification as null', () => {
    expect(
      checkAnnotationInput('input', {
        ...valid,
        tags: [' sn ', 'sn', 'young'],
        classification: '  ',
        citations: [{ kind: 'TNS', value: 'SN2023abc' }],
      }),
    ).toEqual({
      text: valid.text,
      tags: ['sn', 'young'],
      classification: null,
      citations: [{ kind: 'TNS', value: 'SN 2023abc' }],
    });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['empty text', { text: '  ' }, 'input.text'],
    ['text too long', { text: 'x'.repeat(ANNOTATION_LIMITS.textChars + 1) }, 'input.text'],
    ['a lone surrogate', { text: 'bad \ud800 text' }, 'input.text'],
    ['too many tags', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'input.tags'],
    ['a tag too long', { tags: ['ok', 'x'.repeat(51)] }, 'input.tags[1]'],
    ['an empty tag', { tags: [''] }, 'input.tags[0]'],
    ['a control character in a tag', { tags: ['a\nb'] }, 'input.tags[0]'],
    ['a classification too long', { classification: 'x'.repeat(65) }, 'input.classification'],
    [
      'a bad DOI',
      {
        citations: [
          { kind: 'ADS', value: '2019PASP..131a8002B' },
          { kind: 'DOI', value: 'x' },
        ],
      },
      'input.citations[1].value',
    ],
    [
      'too many citations',
      { citations: Array.from({ length: 51 }, () => ({ kind: 'ATEL', value: '1' })) },
      'input.citations',
    ],
  ])('refuses %s as BAD_USER_INPUT naming %s', (_, change, argument) => {
    const error = thrown(() => checkAnnotationInput('input', { ...valid, ...change }));
    expect(error.extensions['code']).toBe('BAD_USER_INPUT');
    expect(error.extensions['argument']).toBe(argument);
  });

  it('accepts exactly the bounds', () => {
    const content = checkAnnotationInput('input', {
      text: '☄'.repeat(ANNOTATION_LIMITS.textChars),
      tags: Array.from({ length: ANNOTATION_LIMITS.tags }, (_, i) => `${i}`.padEnd(50, 'x')),
    });
    expect(content.tags).toHaveLength(ANNOTATION_LIMITS.tags);
  });
});

describe('checkVote', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['confidence above 1', { confidence: 1.01 }, 'confidence'],
    ['negative confidence', { confidence: -0.1 }, 'confidence'],
    ['NaN confidence', { confidence: Number.NaN }, 'confidence'],
    ['an empty label', { label: ' ' }, 'label'],
    ['a label too long', { label: 'x'.repeat(65) }, 'label'],
    ['a comment too long', { comment: 'x'.repeat(2001) }, 'comment'],
    ['an empty object id', { objectId: '' }, 'objectId'],
    ['an object id with spaces', { objectId: 'ZTF 21' }, 'objectId'],
    ['a label outside the vocabulary', { label: 'supernova-ish' }, 'label'],
    ['a vocabulary label in another case', { label: 'sn ia' }, 'label'],
  ])('refuses %s', (_, change, argument) => {
    const error = thrown(() =>
      checkVote({ objectId: 'ZTF21abcdefg', label: 'SN Ia', confidence: 0.5, ...change }),
    );
    expect(error.extensions['argument']).toBe(argument);
  });

  it('accepts the bounds and drops an empty comment', () => {
    expect(checkVote({ objectId: 'ZTF21abcdefg', label: ' SN Ia ', confidence: 0, comment: '' })).toEqual({
      objectId: 'ZTF21abcdefg',
      label: 'SN Ia',
      confidence: 0,
      comment: null,
    });
    expect(checkVote({ objectId: '170032915988234241', label: 'AGN', confidence: 1 }).confidence).toBe(1);
  });

  it.each([
    'SN candidate',
    'Kilonova candidate',
    'RRLyr',
    'EB*',
    'QSO',
    'SN IIn',
    'SN Ib/c',
    'TDE',
    'Varstar',
  ])('accepts the vocabulary label %s (Fink, SIMBAD or TNS)', (label) => {
    expect(checkVote({ objectId: 'ZTF21abcdefg', label, confidence: 0.5 }).label).toBe(label);
  });
});

describe('computeConsensus', () => {
  it('has no label without votes', () => {
    expect(computeConsensus([])).toEqual({
      label: null,
      share: 0,
      voters: 0,
      totalConfidence: 0,
      breakdown: [],
    });
  });

  it('picks the label with the highest summed confidence, not the most voters', () => {
    const result = computeConsensus([
      { label: 'SN Ia', confidence: 0.9 },
      { label: 'SN Ia', confidence: 0.8 },
      { label: 'AGN', confidence: 0.3 },
      { label: 'AGN', confidence: 0.3 },
      { label: 'AGN', confidence: 0.3 },
      { label: 'CV', confidence: 0.4 },
    ]);
    expect(result.label).toBe('SN Ia');
    expect(result.voters).toBe(6);
    expect(result.totalConfidence).toBeCloseTo(3.0, 12);
    expect(result.share).toBeCloseTo(1.7 / 3.0, 12);
    expect(result.breakdown.map((t) => [t.label, t.voters])).toEqual([
      ['SN Ia', 2],
      ['AGN', 3],
      ['CV', 1],
    ]);
    expect(result.breakdown[1]!.share).toBeCloseTo(0.9 / 3.0, 12);
    expect(result.breakdown.reduce((sum, t) => sum + t.share, 0)).toBeCloseTo(1, 12);
  });

  it('breaks ties by voters, then by label', () => {
    expect(
      computeConsensus([
        { label: 'b', confidence: 0.5 },
        { label: 'a', confidence: 0.5 },
      ]).label,
    ).toBe('a');
    expect(
      computeConsensus([
        { label: 'a', confidence: 0.5 },
        { label: 'b', confidence: 0.25 },
        { label: 'b', confidence: 0.25 },
      ]).label,
    ).toBe('b');
  });

  it('has no winner when every vote has confidence 0, but counts the voters', () => {
    const result = computeConsensus([
      { label: 'AGN', confidence: 0 },
      { label: 'CV', confidence: 0 },
    ]);
    expect(result).toMatchObject({ label: null, share: 0, voters: 2, totalConfidence: 0 });
    expect(result.breakdown).toHaveLength(2);
  });
});
