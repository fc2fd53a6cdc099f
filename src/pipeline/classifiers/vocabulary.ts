// The class names the broker speaks: the labels its classification gives alerts (Fink's, plus the type of an
// overriding catalog's match), and the controlled vocabulary of community votes (Fink's labels, SIMBAD object
// types, TNS types). One module, so that the API's validation, the schema's `voteLabels` and the dashboard read
// the same lists.
import { FINK_LABELS } from './fink/label.ts';

/** Every label Fink's rules give without a catalog type (src/pipeline/classifiers/fink/label.ts). */
export const FINK_LABEL_LIST: readonly string[] = Object.values(FINK_LABELS);

/**
 * SIMBAD main object types, as SIMBAD writes them: the names Fink's `cdsxmatch` carries (CDS xmatch's
 * `main_type`, SIMBAD's nomenclature before 2022: RRLyr, EB*, Mira, BLLac, Seyfert_1, ...) and the short
 * codes of its current otype list (https://simbad.cds.unistra.fr/guide/otypes.htx: RR*, Mi*, LP*, Ce*, BLL,
 * Bla, Sy1, SN*, G, ...) where they differ. Not every otype: the ones a transient or variable alert is
 * plausibly matched or voted to, and their parents.
 */
export const SIMBAD_TYPES: readonly string[] = [
  // Stars, variable and not
  'Star',
  'V*',
  'PulsV*',
  'RRLyr',
  'RR*',
  'Cepheid',
  'Ce*',
  'delSct*',
  'dS*',
  'gammaDor',
  'Mira',
  'Mi*',
  'LPV*',
  'LP*',
  'SemiRegV*',
  'EB*',
  'Algol',
  'EllipVar',
  'RotV*',
  'BYDra',
  'RSCVn',
  'Flare*',
  'Er*',
  'Eruptive*',
  'Irregular_V*',
  'Orion_V*',
  'YSO',
  'Y*O',
  'TTau*',
  'Ae*',
  'Be*',
  'Em*',
  'WR*',
  'C*',
  'S*',
  'AGB*',
  'RGB*',
  'post-AGB*',
  'WD*',
  'BlueStraggler',
  // Binaries with accretion, novae
  'CataclyV*',
  'CV*',
  'Nova',
  'No*',
  'DwarfNova',
  'Symbiotic*',
  'XB',
  'LMXB',
  'HMXB',
  // Transients
  'SN',
  'SN*',
  'GravLensSystem',
  'Lensing',
  // Galaxies and their nuclei
  'Galaxy',
  'G',
  'AGN',
  'QSO',
  'Seyfert',
  'Seyfert_1',
  'Sy1',
  'Seyfert_2',
  'Sy2',
  'BLLac',
  'BLL',
  'Blazar',
  'Bla',
  'LINER',
  'EmG',
  'GinCl',
  // Candidates SIMBAD marks as such
  'Candidate_RRLyr',
  'Candidate_EB*',
  'Candidate_YSO',
  'Candidate_CV*',
  'Candidate_LP*',
  'Candidate_SN*',
  'Candidate_QSO',
  'Candidate_AGN',
  // Solar system (SIMBAD has a few) and the catch-alls
  'Planet',
  'Unknown',
];

/**
 * The object types of the Transient Name Server's classification reports (https://www.wis-tns.org, "Object
 * types"): supernovae by spectral class, other transients, and the non-transient impostors TNS names.
 */
export const TNS_TYPES: readonly string[] = [
  'SN',
  'SN I',
  'SN Ia',
  'SN Ia-91bg-like',
  'SN Ia-91T-like',
  'SN Ia-CSM',
  'SN Ia-pec',
  'SN Ia-SC',
  'SN Iax[02cx-like]',
  'SN Ib',
  'SN Ib/c',
  'SN Ibn',
  'SN Ic',
  'SN Ic-BL',
  'SN Icn',
  'SN II',
  'SN IIb',
  'SN IIn',
  'SN IIP',
  'SN IIL',
  'SN II-pec',
  'SLSN-I',
  'SLSN-II',
  'SLSN-R',
  'TDE',
  'TDE-H',
  'TDE-He',
  'TDE-H-He',
  'Kilonova',
  'FBOT',
  'FRB',
  'GRB',
  'Afterglow',
  'Nova',
  'CV',
  'LBV',
  'ILRT',
  'LRN',
  'Impostor-SN',
  'M dwarf',
  'Varstar',
  'AGN',
  'QSO',
  'Galaxy',
  'Light-Echo',
  'Other',
];

/**
 * The labels a vote may carry: Fink's labels, then SIMBAD's types, then TNS's, without repeats (AGN, QSO,
 * Nova, SN, Galaxy, Unknown are in several). Votes cast before the vocabulary existed keep their label and stay
 * readable; new ones must use these.
 */
export const VOTE_LABELS: readonly string[] = [
  ...new Set([...FINK_LABEL_LIST, ...SIMBAD_TYPES, ...TNS_TYPES]),
];

const VOTE_LABEL_SET: ReadonlySet<string> = new Set(VOTE_LABELS);

export function isVoteLabel(label: string): boolean {
  return VOTE_LABEL_SET.has(label);
}

/** Where a vote label comes from, for clients that group them (a label in several lists names the first). */
export type VocabularySource = 'FINK' | 'SIMBAD' | 'TNS';

export function vocabularySources(label: string): VocabularySource[] {
  const sources: VocabularySource[] = [];
  if (FINK_LABEL_LIST.includes(label)) sources.push('FINK');
  if (SIMBAD_TYPES.includes(label)) sources.push('SIMBAD');
  if (TNS_TYPES.includes(label)) sources.push('TNS');
  return sources;
}

/**
 * The classes an alert's label may hold: Fink's labels, and the types of the loaded overriding catalogs (a match
 * in one replaces the label, as SIMBAD's type does in Fink). `catalogTypes` are those types.
 */
export function alertClasses(catalogTypes: readonly string[]): string[] {
  return [...new Set([...FINK_LABEL_LIST, ...catalogTypes])];
}
