/**
 * A signed-in console session over plain HTTP, as a browser keeps it: the session cookie and the
 * CSRF token of the last page. Tests use it to send what a page would (or what a forger would).
 */
export interface ConsoleAnswer {
  status: number;
  text: string;
  location: string | null;
  setCookie: string[];
}

export class ConsoleSession {
  private cookie = '';
  private token = '';

  constructor(readonly baseUrl: string) {}

  /** Opens the sign-in page (a session and its CSRF token), then signs in with `key`. */
  static async signIn(baseUrl: string, key: string): Promise<ConsoleSession> {
    const session = new ConsoleSession(baseUrl);
    await session.get('/sign-in');
    const answer = await session.post('/sign-in', { key });
    if (answer.status !== 303)
      throw new Error(`sign-in answered ${answer.status}: ${answer.text.slice(0, 300)}`);
    return session;
  }

  /** The CSRF token of the last page this session loaded. */
  get csrfToken(): string {
    return this.token;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<ConsoleAnswer> {
    return this.send(path, { method: 'GET', headers });
  }

  /** POSTs a form with the session's CSRF token, unless `csrf: false` (a forged request). */
  async post(
    path: string,
    form: Record<string, string>,
    options: { csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<ConsoleAnswer> {
    const body = new URLSearchParams(form);
    if (options.csrf !== false) body.set('_csrf', this.token);
    return this.send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
      body: body.toString(),
    });
  }

  /** POSTs a multipart form (a file upload) with the session's CSRF token, unless `csrf: false`. */
  async postMultipart(
    path: string,
    fields: Record<string, string>,
    files: Record<string, { name: string; content: string; type?: string }>,
    options: { csrf?: boolean } = {},
  ): Promise<ConsoleAnswer> {
    const form = new FormData();
    if (options.csrf !== false) form.set('_csrf', this.token);
    for (const [key, value] of Object.entries(fields)) form.set(key, value);
    for (const [key, file] of Object.entries(files)) {
      form.set(key, new Blob([file.content], { type: file.type ?? 'application/json' }), file.name);
    }
    return this.send(path, { method: 'POST', headers: {}, body: form });
  }

  private async send(path: string, init: RequestInit & { headers: Record<string, string> }) {
    const response = await fetch(`${this.baseUrl}${path}`, {
      ...init,
      redirect: 'manual',
      headers: { ...init.headers, ...(this.cookie ? { cookie: this.cookie } : {}) },
    });
    const setCookie = response.headers.getSetCookie();
    for (const line of setCookie) {
      const pair = line.split(';')[0] as string;
      if (pair.startsWith('taobi_console=')) this.cookie = pair;
    }
    const text = await response.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.token = token;
    return { status: response.status, text, location: response.headers.get('location'), setCookie };
  }
}
