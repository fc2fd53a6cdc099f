// The class vocabularies: alert classes (what filters and latestObjects accept) and vote labels.
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { FINK_LABELS } from '../../src/pipeline/classifiers/fink/label.ts';
import {
  alertClasses,
  FINK_LABEL_LIST,
  isVoteLabel,
  SIMBAD_TYPES,
  TNS_TYPES,
  VOTE_LABELS,
  vocabularySources,
} from '../../src/pipeline/classifiers/vocabulary.ts';
import { filterNamesClass, validateFilter } from '../../src/filters/validate.ts';
import { filterArg } from '../../src/resolvers/arguments.ts';
import { classArg, classFilterArg } from '../../src/resolvers/classes.ts';
import type { ServerContext } from '../../src/resolvers/context.ts';

const CLASSES = alertClasses(['RRAB', 'EA']);
const LIMITS = { maxConeRadiusArcsec: 3600, classes: CLASSES };

function refusal(run: () => unknown): GraphQLError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(GraphQLError);
    return err as GraphQLError;
  }
  throw new Error('accepted');
}

/** A context whose catalog store has one overriding catalog of these types; counts the store's calls. */
function context(types: string[]) {
  const calls = { overridingTypes: 0 };
  const ctx = {
    config: { maxConeRadiusArcsec: 3600 },
    stores: {
      catalogs: {
        list: () => Promise.resolve([]),
        overridingTypes: () => {
          calls.overridingTypes++;
          return Promise.resolve(types);
        },
      },
    },
  } as unknown as ServerContext;
  return { ctx, calls };
}

describe('alert classes', () => {
  it("are Fink's labels then the overriding catalogs' types, without repeats", () => {
    expect(alertClasses(['RRAB', 'Unknown', 'EA'])).toEqual([...Object.values(FINK_LABELS), 'RRAB', 'EA']);
  });

  it.each([
    ['at the top', { label: ['SN candidat'] }, 'filter.label[0]'],
    [
      'deep in the filter',
      { and: [{ band: ['g'] }, { not: { label: ['Unknown', 'sn candidate'] } }] },
      'filter.and[1].not.label[1]',
    ],
  ])('an unknown class %s is BAD_USER_INPUT naming it and listing the valid classes', (_, filter, path) => {
    const error = refusal(() => filterArg(filter, 'filter', LIMITS));
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: path });
    expect(error.message).toContain('unknown class');
    for (const name of CLASSES) expect(error.message).toContain(`'${name}'`);
  });

  it('accepts every valid class, and any label when no classes are given (a stored definition)', () => {
    expect(validateFilter({ label: CLASSES }, 'filter', LIMITS).label).toEqual(CLASSES);
    expect(validateFilter({ label: ['anything'] }, 'filter', { maxConeRadiusArcsec: 1 }).label).toEqual([
      'anything',
    ]);
  });

  it('lists at most 40 classes and points at alertClasses for the rest', () => {
    const many = alertClasses(Array.from({ length: 100 }, (_, i) => `type${i}`));
    const error = refusal(() =>
      filterArg({ label: ['nope'] }, 'filter', { maxConeRadiusArcsec: 1, classes: many }),
    );
    expect(error.message).toContain(`and ${many.length - 40} more: query alertClasses`);
    expect(error.message).not.toContain("'type99'");
  });

  it('knows whether a filter names a class', () => {
    expect(filterNamesClass({ band: ['g'] })).toBe(false);
    expect(filterNamesClass({ or: [{ band: ['g'] }, { not: { label: ['Unknown'] } }] })).toBe(true);
  });

  it('reads the catalog types only for a filter that names a class', async () => {
    const { ctx, calls } = context(['RRAB']);
    expect(await classFilterArg({ band: ['g'] }, 'filter', ctx)).toEqual({ band: ['g'] });
    expect(calls.overridingTypes).toBe(0);
    expect(await classFilterArg({ label: ['RRAB'] }, 'filter', ctx)).toEqual({ label: ['RRAB'] });
    await expect(classFilterArg({ label: ['RRC'] }, 'filter', ctx)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', argument: 'filter.label[0]' },
    });
    expect(calls.overridingTypes).toBe(2);
  });

  it("checks latestObjects' label the same way", async () => {
    const { ctx } = context(['RRAB']);
    expect(await classArg('RRAB', 'label', ctx)).toBe('RRAB');
    expect(await classArg('Solar System MPC', 'label', ctx)).toBe('Solar System MPC');
    await expect(classArg('SN', 'label', ctx)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT', argument: 'label' },
      message: expect.stringContaining("'Early SN Ia candidate'") as unknown,
    });
  });
});

describe('vote labels', () => {
  it("hold Fink's labels, SIMBAD's and TNS's types, once each", () => {
    expect(new Set(VOTE_LABELS).size).toBe(VOTE_LABELS.length);
    for (const label of [...FINK_LABEL_LIST, ...SIMBAD_TYPES, ...TNS_TYPES])
      expect(isVoteLabel(label)).toBe(true);
    expect(isVoteLabel('sn ia')).toBe(false);
    expect(isVoteLabel('')).toBe(false);
  });

  it.each([
    ['SN candidate', ['FINK']],
    ['RRLyr', ['SIMBAD']],
    ['SN Ia', ['TNS']],
    ['AGN', ['SIMBAD', 'TNS']],
    ['Unknown', ['FINK', 'SIMBAD']],
  ])('names where %s comes from', (label, sources) => {
    expect(vocabularySources(label)).toEqual(sources);
  });
});
