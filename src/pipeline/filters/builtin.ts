// The built-in named filters distribution runs besides the saved ones (the GraphQL filter language), on each
// alert's record as raw2science published it. Each becomes the topics <prefix>_<name>_<survey>
// (fink_sn_candidates_ztf); names are Kafka-safe identifiers.
import type { ScienceRecord } from '../../storage/science-store.ts';

export interface StreamFilter {
  name: string;
  description: string;
  matches(record: Pick<ScienceRecord, 'label' | 'roid' | 'crossmatches'>): boolean;
}

const byClass = (name: string, description: string, classes: string[]): StreamFilter => ({
  name,
  description,
  matches: ({ label }) => classes.includes(label),
});

export const BUILTIN_FILTERS: readonly StreamFilter[] = [
  byClass('sn_candidates', 'SN candidates, early SN Ia candidates included', [
    'SN candidate',
    'Early SN Ia candidate',
  ]),
  byClass('early_sn_candidates', 'Early SN Ia candidates', ['Early SN Ia candidate']),
  byClass('kilonova_candidates', 'Kilonova candidates', ['Kilonova candidate']),
  byClass('microlensing_candidates', 'Microlensing candidates', ['Microlensing candidate']),
  {
    name: 'sso_candidates',
    description: 'New solar-system object candidates (roid 2)',
    matches: ({ roid }) => roid === 2,
  },
  {
    name: 'sso_known',
    description: 'Alerts of known solar-system objects (roid 3)',
    matches: ({ roid }) => roid === 3,
  },
  {
    name: 'catalog_matches',
    description: 'Alerts with a counterpart in any loaded catalog',
    matches: ({ crossmatches }) => crossmatches.length > 0,
  },
];

export function distributionTopic(prefix: string, filter: string, survey: string): string {
  return `${prefix}_${filter}_${survey}`;
}
