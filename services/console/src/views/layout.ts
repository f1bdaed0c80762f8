import type { Operator } from '../auth/session';
import { html, type SafeHtml } from './html';

/** The part of the console a page belongs to (its navigation item is marked current). */
export type Section = 'member' | 'programme' | 'backtests' | 'sign-in' | 'none';

export interface PageOptions {
  title: string;
  section: Section;
  body: SafeHtml | SafeHtml[];
  operator?: Operator;
  /** The session's CSRF token: in every form, and sent by htmx on every request it makes. */
  csrfToken?: string;
}

const NAV: { section: Section; href: string; label: string }[] = [
  { section: 'member', href: '/members', label: 'Members' },
  { section: 'programme', href: '/programme', label: 'Programme' },
  { section: 'backtests', href: '/backtests', label: 'Backtests' },
];

/** htmx without inline styles or eval (the CSP allows neither), swapping error answers in too. */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '[45]..', swap: true, error: true },
  ],
});

/** A hidden form field carrying the CSRF token. */
export function csrfField(token: string | undefined): SafeHtml {
  return token ? html`<input type="hidden" name="_csrf" value="${token}">` : html``;
}

/** The page shell: skip link, header with navigation and the operator, then the page's panels. */
export function page(options: PageOptions): SafeHtml {
  const { operator, csrfToken } = options;
  const headers = csrfToken ? JSON.stringify({ 'x-csrf-token': csrfToken }) : undefined;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · Taobi console</title>
<meta name="htmx-config" content="${HTMX_CONFIG}">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/console.css">
<script src="/vendor/htmx.min.js" defer></script>
<script src="/vendor/chart.umd.min.js" defer></script>
<script src="/assets/console.js" defer></script>
</head>
<body${headers ? html` hx-headers="${headers}"` : ''}>
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
  <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">T</span> Taobi console</a>
  ${
    operator
      ? html`<nav aria-label="Main"><ul class="nav">${NAV.map(
          (item) =>
            html`<li><a href="${item.href}"${item.section === options.section ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
        )}</ul></nav>
  <div class="operator">
    <span class="role role-${operator.role}" data-field="role">${operator.role === 'admin' ? 'Admin' : 'Read only'}</span>
    <form method="post" action="/sign-out">${csrfField(csrfToken)}<button type="submit" class="button-link">Sign out</button></form>
  </div>`
      : ''
  }
</header>
<main id="main" tabindex="-1">
${options.body}
</main>
</body>
</html>`;
}
