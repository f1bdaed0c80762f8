import escapeHtml from 'escape-html';

const SAFE = Symbol('safe-html');

/** Markup that is already safe: produced by `html` or vouched for with `raw`. */
export interface SafeHtml {
  readonly [SAFE]: true;
  readonly value: string;
}

function safe(value: string): SafeHtml {
  return { [SAFE]: true, value };
}

function isSafe(value: unknown): value is SafeHtml {
  return typeof value === 'object' && value !== null && SAFE in value;
}

/** Marks a string as markup. Only for constants and the output of trusted serialisers. */
export function raw(value: string): SafeHtml {
  return safe(value);
}

function render(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (isSafe(value)) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * The template tag of every page: each interpolated value is HTML-escaped (quotes too, so values
 * are safe inside quoted attributes) unless it is itself `html` or `raw`; arrays are concatenated;
 * null, undefined and false render nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return safe(out);
}
