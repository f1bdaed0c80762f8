import type { FastifyReply, FastifyRequest } from 'fastify';
import { operatorOf } from '../auth/session';
import type { SafeHtml } from '../views/html';
import { type PageOptions, page } from '../views/layout';

/** A request htmx made to replace part of a page (it wants the fragment, not the whole page). */
export function isFragmentRequest(request: FastifyRequest): boolean {
  return request.headers['hx-request'] === 'true' && request.headers['hx-boosted'] !== 'true';
}

export function sendHtml(reply: FastifyReply, markup: SafeHtml, status = 200) {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(markup.value);
}

/** The whole page around `body`, with the signed-in operator and a fresh CSRF token. */
export function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  options: Omit<PageOptions, 'operator' | 'csrfToken'>,
  status = 200,
) {
  return sendHtml(
    reply,
    page({ ...options, operator: operatorOf(request), csrfToken: reply.generateCsrf() }),
    status,
  );
}

/** The fragment for htmx, or the same content as a whole page for a plain browser request. */
export function sendFragmentOrPage(
  request: FastifyRequest,
  reply: FastifyReply,
  fragment: SafeHtml,
  options: Omit<PageOptions, 'operator' | 'csrfToken' | 'body'>,
  status = 200,
) {
  if (isFragmentRequest(request)) return sendHtml(reply, fragment, status);
  return sendPage(request, reply, { ...options, body: fragment }, status);
}
