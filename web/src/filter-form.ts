// The alert filter form shared by the live page and the search page: band, magnitude, class and cone, turned
// into the API's AlertFilter (empty keys left out: an empty filter selects everything).
import { checkedValues, fieldValue, h, numberField } from './dom.ts';

export const BANDS = ['g', 'r', 'i', 'u', 'z', 'y'];

export interface AlertFilter {
  band?: string[];
  mag?: { min?: number; max?: number };
  label?: string[];
  cone?: { ra: number; dec: number; radiusArcsec: number };
}

/** The form's fields (inside a fieldset, so that pages add their own buttons). */
export function filterFields(classes: readonly string[]): HTMLElement {
  const number = (name: string, label: string, placeholder: string) =>
    h('label', {}, label, h('input', { name, type: 'text', inputmode: 'decimal', placeholder, size: 6 }));
  return h(
    'fieldset',
    { class: 'filter' },
    h(
      'span',
      { class: 'group' },
      'Band',
      ...BANDS.map((band) =>
        h('label', {}, h('input', { type: 'checkbox', name: 'band', value: band }), band),
      ),
    ),
    h('span', { class: 'group' }, number('magMin', 'mag ≥', 'min'), number('magMax', 'mag ≤', 'max')),
    h(
      'label',
      {},
      'Class',
      h(
        'select',
        { name: 'label' },
        h('option', { value: '' }, 'any'),
        ...classes.map((label) => h('option', { value: label }, label)),
      ),
    ),
    h(
      'span',
      { class: 'group' },
      'Cone',
      number('ra', 'RA°', '0–360'),
      number('dec', 'Dec°', '−90–90'),
      number('radius', 'r″', '5'),
    ),
  );
}

/** Reads the form; throws an Error whose message names the field when a value is not usable. */
export function readFilter(form: HTMLFormElement): AlertFilter {
  const filter: AlertFilter = {};
  const bands = checkedValues(form, 'band');
  if (bands.length > 0) filter.band = bands;
  const min = numberField(form, 'magMin', 'mag ≥');
  const max = numberField(form, 'magMax', 'mag ≤');
  if (min !== undefined || max !== undefined) {
    filter.mag = { ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }) };
  }
  const label = fieldValue(form, 'label');
  if (label !== undefined) filter.label = [label];
  const ra = numberField(form, 'ra', 'RA');
  const dec = numberField(form, 'dec', 'Dec');
  const radius = numberField(form, 'radius', 'radius');
  const cone = [ra, dec, radius].filter((v) => v !== undefined).length;
  if (cone === 3) filter.cone = { ra: ra!, dec: dec!, radiusArcsec: radius! };
  else if (cone > 0) throw new Error('a cone needs RA, Dec and a radius');
  return filter;
}

let classesLoaded: Promise<string[]> | null = null;

/** Class labels known to the archive, for the class selector (asked once per page load). */
export function loadClassLabels(query: <T>(source: string) => Promise<T>): Promise<string[]> {
  classesLoaded ??= query<{ classes: { label: string }[] }>('{ classes { label } }').then(
    ({ classes }) => classes.map((c) => c.label).sort(),
    () => {
      classesLoaded = null;
      return [];
    },
  );
  return classesLoaded;
}

/** Fills the class selector once the labels are known (the form is usable before). */
export function addClassOptions(form: HTMLFormElement, labels: readonly string[]): void {
  const select = form.elements.namedItem('label');
  if (!(select instanceof HTMLSelectElement)) return;
  for (const label of labels) select.appendChild(h('option', { value: label }, label));
}
