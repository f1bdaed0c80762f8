import type { Logger } from '@taobi/platform';
import type { UpstreamService } from '../config';

/** Why a service gave no usable answer. */
export type Failure =
  /** The route does not exist on this stack yet (404 "no route"): a later release adds it. */
  | 'not-available'
  /** The key was refused (401 / 403). */
  | 'refused'
  /** Any other error answer, a timeout or no connection. */
  | 'failed';

export type ApiResult<T> =
  | { ok: true; status: number; data: T }
  | {
      ok: false;
      failure: Failure;
      status?: number;
      message: string;
      /** The fields a 400 named (`{error: {fields}}`), when it named any. */
      fields?: { field: string; message: string }[];
    };

export interface CallOptions {
  method?: 'GET' | 'POST';
  /** The bearer key to present; the console's read key when left out. */
  key?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Answer as text (e.g. /metrics) instead of JSON. */
  text?: boolean;
}

export interface Upstream {
  readonly urls: Readonly<Record<UpstreamService, string>>;
  call<T>(service: UpstreamService, path: string, options?: CallOptions): Promise<ApiResult<T>>;
}

interface ErrorBody {
  error?: { code?: string; message?: string; fields?: { field: string; message: string }[] };
}

/**
 * The console's only way to the rest of Taobi: the services' public HTTP APIs. Every call ends in
 * an `ApiResult` (never a throw), so one service that is down, slow or older than the console
 * costs one panel, not the page.
 */
export function createUpstream(options: {
  urls: Record<UpstreamService, string>;
  readKey: string;
  timeoutMs: number;
  logger: Logger;
}): Upstream {
  const log = options.logger.child({ component: 'upstream' });

  async function call<T>(
    service: UpstreamService,
    path: string,
    call: CallOptions = {},
  ): Promise<ApiResult<T>> {
    const method = call.method ?? 'GET';
    const where = `${method} ${path} on ${service}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${options.urls[service]}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${call.key ?? options.readKey}`,
          ...(call.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...call.headers,
        },
        body: call.body !== undefined ? JSON.stringify(call.body) : undefined,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError';
      const message = timedOut
        ? `${service} did not answer ${method} ${path} within ${options.timeoutMs} ms`
        : `${service} is not reachable (${(error as Error).message})`;
      log.warn({ service, path, method }, message);
      return { ok: false, failure: 'failed', message };
    }
    if (response.ok) {
      if (call.text) return { ok: true, status: response.status, data: text as T };
      try {
        return { ok: true, status: response.status, data: (text ? JSON.parse(text) : undefined) as T };
      } catch {
        return { ok: false, failure: 'failed', status: response.status, message: `${where}: not JSON` };
      }
    }
    const body = parseErrorBody(text);
    const detail = body?.error?.message ?? text.slice(0, 200);
    if (response.status === 404 && body?.error?.code === 'NOT_FOUND' && /^no route/.test(detail)) {
      return {
        ok: false,
        failure: 'not-available',
        status: 404,
        message: `${where} answered 404: ${detail}`,
      };
    }
    if (response.status === 401 || response.status === 403) {
      return {
        ok: false,
        failure: 'refused',
        status: response.status,
        message: `${service} refused the key`,
      };
    }
    if (response.status >= 500)
      log.warn({ service, path, method, status: response.status }, 'upstream error');
    return {
      ok: false,
      failure: 'failed',
      status: response.status,
      message: `${where} answered ${response.status}: ${detail}`,
      ...(body?.error?.fields ? { fields: body.error.fields } : {}),
    };
  }

  return { urls: options.urls, call };
}

function parseErrorBody(text: string): ErrorBody | undefined {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return undefined;
  }
}

/**
 * The loader of a member's paged list from `service`, `limit` entries a page:
 * `/v1/members/<id>/<path>?limit=<limit>[&cursor=...]`.
 */
export function memberPages<T>(service: UpstreamService, path: string, limit: number) {
  return (upstream: Upstream, memberId: string, cursor?: string): Promise<ApiResult<T>> => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    return upstream.call(service, `/v1/members/${encodeURIComponent(memberId)}/${path}?${query}`);
  };
}
