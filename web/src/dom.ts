// A tiny element builder: every value becomes a text node or an attribute, never HTML, so alert fields,
// annotation text and error messages cannot inject markup.
export type Child = Node | string | number | null | undefined | false;
type Children = (Child | readonly Child[])[];

/** Attributes (text, numbers, true for a bare attribute), `on<event>` listeners, `class`, `dataset`. */
export type Props = Record<
  string,
  string | number | boolean | null | undefined | EventListener | Record<string, string | number>
>;

/** What a page leaves behind when the user navigates away (subscriptions, timers, observers). */
export type Cleanup = () => void;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Children
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') {
      if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    } else if (typeof value === 'object') {
      if (key === 'dataset')
        for (const [name, data] of Object.entries(value)) element.dataset[name] = String(data);
    } else if (key === 'class') {
      element.className = String(value);
    } else if (key === 'value' && 'value' in element) {
      (element as HTMLInputElement).value = String(value);
    } else if (key === 'checked' && element instanceof HTMLInputElement) {
      element.checked = value === true;
    } else if (value === true) {
      element.setAttribute(key, '');
    } else {
      element.setAttribute(key, String(value));
    }
  }
  append(element, ...children);
  return element;
}

export function append(parent: Node, ...children: Children): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Node, ...children: Children): void {
  while (parent.firstChild !== null) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** The trimmed value of a form field, or undefined when empty. */
export function fieldValue(form: HTMLFormElement, name: string): string | undefined {
  const field = form.elements.namedItem(name);
  const isField =
    field instanceof HTMLInputElement ||
    field instanceof HTMLSelectElement ||
    field instanceof HTMLTextAreaElement;
  if (!isField) return undefined;
  const value = field.value.trim();
  return value === '' ? undefined : value;
}

/** A number field: undefined when empty; an Error naming the field when it is not a number. */
export function numberField(form: HTMLFormElement, name: string, label = name): number | undefined {
  const text = fieldValue(form, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${label} must be a number`);
  return value;
}

/** Values of the checked checkboxes named `name`. */
export function checkedValues(form: HTMLFormElement, name: string): string[] {
  return [...form.querySelectorAll<HTMLInputElement>(`input[name="${name}"]:checked`)].map(
    (box) => box.value,
  );
}
