import { html, raw } from './html';

describe('the html template tag', () => {
  it('when values hold markup, then they are escaped, quotes too, so an attribute cannot be left', () => {
    const value = `"><script>alert('x')</script>&`;
    expect(html`<input value="${value}">${value}`.value).toBe(
      '<input value="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;',
    );
  });

  it('when values are html or raw, lists, or nothing, then markup stays, lists are joined and nothing renders nothing', () => {
    const items = ['a<b', 'c'].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}${raw('<hr>')}`.value).toBe(
      '<ul><li>a&lt;b</li><li>c</li></ul>0<hr>',
    );
  });
});
