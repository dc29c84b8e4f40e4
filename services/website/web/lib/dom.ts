/**
 * Building the page from data: every text goes in through textContent or an attribute, never
 * as markup, so a listing titled `<img src=x onerror=alert(1)>` shows as those characters.
 */
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing`);
  return element as T;
}

export function setStatus(text: string): void {
  byId('status').textContent = text;
}

export interface FieldError {
  field: string;
  rule: string;
}

/**
 * Shows each error under its field (`#<field>-error`, the field marked aria-invalid); errors of
 * fields the form has no place for go to `#form-error`. Focuses the first field in error.
 */
export function showFieldErrors(form: HTMLFormElement, errors: FieldError[], aliases: Record<string, string> = {}): void {
  clearFieldErrors(form);
  const general: string[] = [];
  let first: HTMLElement | undefined;
  for (const { field, rule } of errors) {
    const name = aliases[field.split('.')[0]!] ?? field.split('.')[0]!;
    const slot = form.querySelector<HTMLElement>(`#${CSS.escape(name)}-error`);
    if (slot === null) {
      general.push(`${field}: ${rule}`);
      continue;
    }
    slot.textContent = slot.textContent === '' ? rule : `${slot.textContent}; ${rule}`;
    const input = form.querySelector<HTMLElement>(`[aria-describedby~="${CSS.escape(slot.id)}"]`);
    input?.setAttribute('aria-invalid', 'true');
    first ??= input ?? undefined;
  }
  const formError = form.querySelector<HTMLElement>('#form-error');
  if (general.length > 0 && formError !== null) formError.textContent = general.join('. ');
  first?.focus();
}

export function clearFieldErrors(form: HTMLFormElement): void {
  for (const slot of form.querySelectorAll<HTMLElement>('.error')) slot.textContent = '';
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}
