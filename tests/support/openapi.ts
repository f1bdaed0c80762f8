import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

type Json = Record<string, unknown>;
interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: Json;
}

/** `GET /v1/members/:id/score` or `/v1/members/{id}/score` → the document's path `{id}` form. */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

/**
 * A service's OpenAPI document (`GET /openapi.json`), validated by @apidevtools/swagger-parser, and a
 * checker of real answers against it: `check` validates an answer's body with ajv (JSON Schema
 * 2020-12, formats included) against the schema the document gives for its route and status, and
 * records it; `unchecked` lists the operations that were not seen answering both a success and an
 * error, so a route added without being driven here (or without documented answers) fails a test.
 */
export class OpenApiContract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly seen = new Map<string, Set<'success' | 'error' | 'server'>>();

  private constructor(
    readonly service: string,
    readonly document: OpenApiDocument,
  ) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: 'doc', components: document.components ?? {} });
  }

  /** Fetches and validates the document of the service at `baseUrl` (throws naming what is invalid). */
  static async load(service: string, baseUrl: string): Promise<OpenApiContract> {
    const response = await fetch(`${baseUrl}/openapi.json`);
    if (response.status !== 200) throw new Error(`${service}: GET /openapi.json answered ${response.status}`);
    const document = (await response.json()) as OpenApiDocument;
    // The validator dereferences in place: give it a copy.
    await SwaggerParser.validate(structuredClone(document) as never);
    return new OpenApiContract(service, document);
  }

  /** Every documented operation, as `GET /v1/tiers`. */
  operations(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
  }

  /** The problems of `body` answered with `status` on `method path`; empty when it is as documented. */
  problems(
    method: string,
    path: string,
    status: number,
    body: unknown,
    contentType = 'application/json',
  ): string[] {
    const where = `${this.service} ${method} ${openApiPath(path)} ${status}`;
    const operation = this.document.paths[openApiPath(path)]?.[method.toLowerCase()];
    if (!operation) return [`${where}: not in the document`];
    const answer = operation.responses?.[String(status)];
    if (!answer) return [`${where}: status not documented`];
    const schema = answer.content?.[contentType]?.schema;
    if (!schema) return [`${where}: no ${contentType} schema documented`];
    const rebased = JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/'));
    const validate = this.ajv.compile(rebased);
    if (validate(body)) {
      const key = `${method.toUpperCase()} ${openApiPath(path)}`;
      const kinds = this.seen.get(key) ?? new Set();
      kinds.add(status < 400 ? 'success' : status < 500 ? 'error' : 'server');
      this.seen.set(key, kinds);
      return [];
    }
    return (validate.errors ?? []).map((e) => `${where}: ${e.instancePath || '(body)'} ${e.message}`);
  }

  /** Sends the request, checks its answer (status `expected`, body as documented), returns the body. */
  async call(
    baseUrl: string,
    method: string,
    path: string,
    options: { url?: string; headers?: Record<string, string>; body?: unknown; expected: number },
  ): Promise<{ status: number; body: unknown; problems: string[] }> {
    const url = `${baseUrl}${options.url ?? path}`;
    const headers = {
      ...options.headers,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    };
    const response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const contentType = (response.headers.get('content-type') ?? '').split(';')[0] as string;
    const body = contentType === 'application/json' ? await response.json() : await response.text();
    const problems =
      response.status === options.expected
        ? this.problems(method, path, response.status, body, contentType)
        : [
            `${this.service} ${method} ${options.url ?? path}: ${response.status}, not ${options.expected}: ${JSON.stringify(body).slice(0, 300)}`,
          ];
    return { status: response.status, body, problems };
  }

  private operation(key: string): Operation {
    const [method, path] = key.split(' ') as [string, string];
    return this.document.paths[path]?.[method.toLowerCase()] as Operation;
  }

  /**
   * The operations not yet seen answering a success as documented, and a client error when they
   * document one.
   */
  unchecked(): string[] {
    return this.operations().filter((key) => {
      const seen = this.seen.get(key);
      const clientErrors = Object.keys(this.operation(key).responses ?? {}).some((s) => s.startsWith('4'));
      return !seen?.has('success') || (clientErrors && !seen.has('error'));
    });
  }

  /**
   * The operations whose answers are not all documented: each needs a success with a schema, and
   * the error body for an unexpected error (`documented` gives every route one), which a route
   * added without a `schema` lacks.
   */
  undocumented(): string[] {
    return this.operations().filter((key) => {
      const responses = this.operation(key).responses ?? {};
      const success = Object.entries(responses).some(
        ([status, answer]) => /^2/.test(status) && Object.values(answer.content ?? {}).some((c) => c.schema),
      );
      const internal = JSON.stringify(responses['500'] ?? {}).includes('#/components/schemas/Error');
      return !success || !internal;
    });
  }
}
