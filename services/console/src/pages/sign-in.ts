import { html, type SafeHtml } from '../views/html';
import { csrfField } from '../views/layout';

/** The sign-in form: one key, read or admin. The key goes in a POST body, never in a URL. */
export function signInView(options: { csrfToken: string; next?: string; error?: string }): SafeHtml {
  return html`<div class="sign-in">
<h1 class="page-title">Sign in</h1>
<p class="muted">Operators sign in with a Taobi read key (members and the programme) or admin key (also the admin jobs).</p>
<form method="post" action="/sign-in" class="card">
${csrfField(options.csrfToken)}
${options.next ? html`<input type="hidden" name="next" value="${options.next}">` : ''}
<label for="key">Access key</label>
<input id="key" name="key" type="password" required autocomplete="current-password" spellcheck="false"${
    options.error ? html` aria-invalid="true" aria-describedby="key-error"` : ''
  }>
${options.error ? html`<p class="field-error" id="key-error" role="alert">${options.error}</p>` : ''}
<button type="submit" class="button">Sign in</button>
</form>
</div>`;
}
