// What an annotation may contain, checked before anything is written. Each failure is BAD_USER_INPUT naming
// the argument as the client wrote it (`input.citations[1].value`), so a form can point at the field.
import { badInput } from './errors.ts';
import type { Citation, CitationKind } from '../storage/annotation-store.ts';

export const ANNOTATION_LIMITS = {
  /** Characters (code points) of an annotation's text. */
  textChars: 10_000,
  tags: 20,
  tagChars: 50,
  classificationChars: 64,
  citations: 50,
  /** Characters of one citation (a URL is the longest). */
  citationChars: 2048,
  objectIdChars: 64,
} as const;

/** ZTF objectIds (ZTF21abcdefg), Rubin diaObjectIds (decimal): letters, digits and a few separators. */
const OBJECT_ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/** Crossref's pattern for modern DOIs: `10.` + a 4-9 digit registrant, `/`, a suffix without spaces. */
const DOI_PATTERN = /^10\.\d{4,9}\/\S+$/;
const DOI_PREFIX = /^(?:doi:\s*|https?:\/\/(?:dx\.)?doi\.org\/)/i;
/**
 * ADS bibcode, 19 characters: year (4 digits), journal (5, `.`-padded: ApJ.., A&A.., arXiv), volume (4),
 * qualifier (1), page (4), first author's initial (a capital or `.`), e.g. 2019PASP..131a8002B.
 */
const BIBCODE_PATTERN = /^\d{4}[A-Za-z&][A-Za-z0-9.&]{13}[A-Z.]$/;
/** An Astronomer's Telegram number, optionally written `ATel #15000`. */
const ATEL_PATTERN = /^(?:ATel\s*#?\s*)?(\d{1,6})$/i;
/** A TNS name: year and 2 to 4 lowercase letters (or one capital, historic), with an optional AT/SN/... prefix. */
const TNS_PATTERN = /^(?:([A-Z]{2,4})\s?)?((?:18|19|20)\d{2})([a-z]{2,4}|[A-Z])$/;

export type CitationCheck = { ok: true; value: string } | { ok: false; reason: string };

/** Checks one citation and answers its canonical form (DOI without resolver prefix, ATel as its number). */
export function checkCitation(kind: CitationKind, raw: string): CitationCheck {
  const value = raw.trim();
  if (value === '') return { ok: false, reason: 'is empty' };
  if ([...value].length > ANNOTATION_LIMITS.citationChars) {
    return { ok: false, reason: `is longer than ${ANNOTATION_LIMITS.citationChars} characters` };
  }
  if (!value.isWellFormed()) return { ok: false, reason: 'is not valid Unicode text' };
  switch (kind) {
    case 'DOI': {
      const doi = value.replace(DOI_PREFIX, '');
      return DOI_PATTERN.test(doi)
        ? { ok: true, value: doi }
        : { ok: false, reason: 'is not a DOI (10.NNNN/suffix)' };
    }
    case 'ADS':
      return BIBCODE_PATTERN.test(value)
        ? { ok: true, value }
        : { ok: false, reason: 'is not a 19-character ADS bibcode (e.g. 2019PASP..131a8002B)' };
    case 'ATEL': {
      const match = ATEL_PATTERN.exec(value);
      const number = match === null ? 0 : Number(match[1]);
      return number >= 1
        ? { ok: true, value: String(number) }
        : { ok: false, reason: 'is not an ATel number (e.g. 15000 or ATel #15000)' };
    }
    case 'TNS': {
      const match = TNS_PATTERN.exec(value);
      if (match === null) return { ok: false, reason: 'is not a TNS name (e.g. 2023abc or AT 2023abc)' };
      const [, prefix, year, letters] = match;
      return { ok: true, value: prefix === undefined ? `${year}${letters}` : `${prefix} ${year}${letters}` };
    }
    case 'URL': {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return { ok: false, reason: 'is not a URL' };
      }
      return (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.hostname !== '' &&
        !/\s/.test(value)
        ? { ok: true, value }
        : { ok: false, reason: 'is not an http(s) URL' };
    }
  }
}

/** Where a citation leads: the resolver page of its DOI, ADS record, ATel, TNS object, or the URL itself. */
export function citationUrl(citation: Citation): string {
  switch (citation.kind) {
    case 'DOI':
      return `https://doi.org/${citation.value}`;
    case 'ADS':
      return `https://ui.adsabs.harvard.edu/abs/${encodeURIComponent(citation.value)}/abstract`;
    case 'ATEL':
      return `https://www.astronomerstelegram.org/?read=${citation.value}`;
    case 'TNS':
      return `https://www.wis-tns.org/object/${citation.value.replace(/^[A-Z]+ /, '')}`;
    case 'URL':
      return citation.value;
  }
}

export interface AnnotationContent {
  text: string;
  tags: string[];
  classification: string | null;
  citations: Citation[];
}

export interface AnnotationInputValue {
  text: string;
  tags?: readonly string[] | null;
  classification?: string | null;
  citations?: readonly { kind: CitationKind; value: string }[] | null;
}

/** Checks an AnnotationInput (argument `argument`) and answers the content to store. */
export function checkAnnotationInput(argument: string, input: AnnotationInputValue): AnnotationContent {
  const text = checkText(`${argument}.text`, input.text, ANNOTATION_LIMITS.textChars);
  if (text.trim() === '') throw badInput(`${argument}.text`, 'must not be empty');

  const rawTags = input.tags ?? [];
  if (rawTags.length > ANNOTATION_LIMITS.tags) {
    throw badInput(`${argument}.tags`, `at most ${ANNOTATION_LIMITS.tags} tags`);
  }
  const tags: string[] = [];
  rawTags.forEach((raw, i) => {
    const tag = checkLabel(`${argument}.tags[${i}]`, raw, ANNOTATION_LIMITS.tagChars);
    if (!tags.includes(tag)) tags.push(tag);
  });

  const classification =
    input.classification === undefined || input.classification === null || input.classification.trim() === ''
      ? null
      : checkLabel(`${argument}.classification`, input.classification, ANNOTATION_LIMITS.classificationChars);

  const rawCitations = input.citations ?? [];
  if (rawCitations.length > ANNOTATION_LIMITS.citations) {
    throw badInput(`${argument}.citations`, `at most ${ANNOTATION_LIMITS.citations} citations`);
  }
  const citations = rawCitations.map((citation, i): Citation => {
    const check = checkCitation(citation.kind, citation.value);
    if (!check.ok) throw badInput(`${argument}.citations[${i}].value`, `${citation.kind} ${check.reason}`);
    return { kind: citation.kind, value: check.value };
  });

  return { text, tags, classification, citations };
}

export function checkObjectId(argument: string, value: string): string {
  const objectId = value.trim();
  if (
    objectId === '' ||
    objectId.length > ANNOTATION_LIMITS.objectIdChars ||
    !OBJECT_ID_PATTERN.test(objectId)
  ) {
    throw badInput(argument, 'is not an object id (ZTF objectId or Rubin diaObjectId)');
  }
  return objectId;
}

/** Free text: well-formed Unicode of at most `maxChars` code points (kept as written). */
export function checkText(argument: string, value: string, maxChars: number): string {
  if (!value.isWellFormed()) throw badInput(argument, 'is not valid Unicode text');
  if ([...value].length > maxChars) throw badInput(argument, `is longer than ${maxChars} characters`);
  return value;
}

/** A short single-line name (tag, label): trimmed, 1 to `maxChars` characters, no control characters. */
export function checkLabel(argument: string, value: string, maxChars: number): string {
  const label = checkText(argument, value.trim(), maxChars);
  if (label === '') throw badInput(argument, 'must not be empty');
  if (/\p{Cc}/u.test(label)) throw badInput(argument, 'must not contain control characters');
  return label;
}
