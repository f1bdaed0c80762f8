/** How the console writes numbers, money, dates and names. The programme runs on Shanghai time. */
const dateTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Shanghai',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
});
const dateOnly = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Shanghai',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
});
const longDate = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Asia/Shanghai',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
});
const integer = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** "8 Dec 2026, 00:00" in Asia/Shanghai, or a dash. */
export function formatDateTime(iso: string | null | undefined): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export function formatDate(iso: string | null | undefined): string {
  return iso ? dateOnly.format(new Date(iso)) : '—';
}

/** "8 January 2027" in Asia/Shanghai, or a dash: a date in a sentence. */
export function formatLongDate(iso: string | null | undefined): string {
  return iso ? longDate.format(new Date(iso)) : '—';
}

export function formatInteger(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : integer.format(value);
}

export function formatRate(perSecond: number | undefined): string {
  return perSecond === undefined ? '—' : `${decimal.format(perSecond)}/s`;
}

/** Fen as yuan: 8800 → "88.00 CNY". */
export function formatMoney(money: { amount: number; currency: string } | null | undefined): string {
  if (!money) return '—';
  return `${(money.amount / 100).toFixed(2)} ${money.currency}`;
}

/** BLACK_DIAMOND → "Black Diamond". */
export function tierName(tier: string | null | undefined): string {
  if (!tier) return '—';
  return tier
    .toLowerCase()
    .split('_')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

/** The palette entry of a tier's colour (a CSS custom property without its dashes): `tier-black-diamond`. */
export function tierPalette(tier: string | null | undefined): string {
  return `tier-${(tier ?? 'unknown').toLowerCase().replaceAll('_', '-')}`;
}

/**
 * The `style` of an element coloured by the palette entry `--<name>` (`tier-gold`, `line-food`):
 * badges, dots and the member card paint `var(--colour)`; a name without a palette entry is muted.
 */
export function colourStyle(name: string): string {
  return `--colour: var(--${name})`;
}

/** The palette's tones, each a colour `--<tone>` on a background `--<tone>-bg`. */
export type Tone = 'info' | 'ok' | 'warn' | 'error' | 'muted';

/**
 * The `style` of a notice or a pill in `tone`: `.notice` and `.pill` paint `var(--tone)` on
 * `var(--tone-bg)` (a notice is info and a pill muted unless set).
 */
export function toneStyle(tone: Tone): string {
  return `--tone: var(--${tone}); --tone-bg: var(--${tone}-bg)`;
}

/** The tone of a status's pill: granted or counted is ok, revoked an error, the rest muted. */
const STATUS_TONES: Partial<Record<string, Tone>> = { granted: 'ok', counted: 'ok', revoked: 'error' };

/** The `style` of the pill of a grant's, a contribution's or a backtest's `status`. */
export function statusStyle(status: string): string {
  return toneStyle(STATUS_TONES[status] ?? 'muted');
}

export const LINE_NAMES: Record<string, string> = {
  base: 'Base',
  ecommerce: 'E-commerce',
  food: 'Food',
  travel: 'Travel',
  mobility: 'Mobility',
};
