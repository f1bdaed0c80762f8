import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError } from 'fastify';
import { AppError, Errors } from './errors';

/**
 * Headers every answer carries, errors included: no answer is a document a browser should sniff
 * into another type, and none may be cached (each is live state, most behind a key).
 */
export const RESPONSE_HEADERS = { 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' } as const;

/** `Bad Request` → `BAD_REQUEST`: the code of a client error fastify has no better name for. */
function codeOfStatus(status: number): string {
  return (STATUS_CODES[status] ?? 'Bad Request').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** Fastify's own client errors, mapped onto our stable codes. */
function fromFastifyError(error: FastifyError): AppError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return Errors.payloadTooLarge();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return Errors.unsupportedMediaType();
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return Errors.invalidJson('the request body is empty');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return Errors.invalidJson('the content-length header does not match the body');
    case 'FST_ERR_BAD_URL':
    case 'FST_ERR_INVALID_URL':
      return Errors.invalidUrl();
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return Errors.uriTooLong();
    default:
      break;
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return Errors.invalidJson('the request body is not valid JSON');
  }
  if (error.validation) {
    return Errors.validation(
      error.validation.map((v) => ({
        field: v.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: v.message ?? 'invalid',
      })),
    );
  }
  if (error.statusCode === 429) return Errors.rateLimited(1);
  // Any other client error fastify raises (its list grows with its versions) keeps its status
  // and message, under a code named after the status.
  const status = error.statusCode ?? 0;
  if (status >= 400 && status < 500) return new AppError(codeOfStatus(status), error.message, status);
  return undefined;
}

/**
 * The client-visible error a thrown value becomes (the error handler answers with it), or
 * undefined for an unexpected error (a plain 500). Exported so a route's `onError` hook can label
 * metrics with the same code the client sees.
 */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof Error) return fromFastifyError(error as FastifyError);
  return undefined;
}

/**
 * Answers a request Node's HTTP parser refused before fastify saw it (a malformed request line or
 * header, headers over the size limit, a request too slow to arrive), in the same error format
 * and headers as every other answer, then closes the connection, as Node itself would.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'the request did not arrive in time']
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'the request headers are too large']
        : [400, 'the request is not valid HTTP'];
  const body = JSON.stringify(new AppError(codeOfStatus(status), message, status).toJSON());
  if (socket.writable) {
    const headers = Object.entries({
      ...RESPONSE_HEADERS,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      connection: 'close',
    }).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers.join('')}\r\n${body}`);
  }
  socket.destroy(error);
}
