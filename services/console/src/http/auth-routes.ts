import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createKeyChecker, operatorOf, signIn, signOut } from '../auth/session';
import { signInView } from '../pages/sign-in';
import { sendPage } from './render';

/** Only paths of this console: never an absolute URL (no open redirect). */
const nextSchema = z
  .string()
  .regex(/^\/(?![/\\])[^\s]*$/)
  .optional()
  .catch(undefined);

const signInBody = z.object({ key: z.string().max(512).default(''), next: nextSchema });

export function registerAuthRoutes(
  app: FastifyInstance,
  keys: { readKeys: readonly string[]; adminKeys: readonly string[] },
): void {
  const roleOf = createKeyChecker(keys.readKeys, keys.adminKeys);

  app.get('/sign-in', async (request, reply) => {
    const next = nextSchema.parse((request.query as { next?: unknown }).next);
    if (operatorOf(request)) return reply.redirect(next ?? '/members', 303);
    return sendPage(request, reply, {
      title: 'Sign in',
      section: 'sign-in',
      body: signInView({ csrfToken: reply.generateCsrf(), next }),
    });
  });

  app.post('/sign-in', async (request, reply) => {
    const body = signInBody.parse(request.body ?? {});
    const role = body.key ? roleOf(body.key) : undefined;
    if (!role) {
      request.log.warn({ ip: request.ip }, 'console sign-in refused');
      return sendPage(
        request,
        reply,
        {
          title: 'Sign in',
          section: 'sign-in',
          body: signInView({
            csrfToken: reply.generateCsrf(),
            next: body.next,
            error: body.key ? 'This key is not a Taobi read or admin key.' : 'Enter your access key.',
          }),
        },
        401,
      );
    }
    await signIn(request, {
      role,
      ...(role === 'admin' ? { adminKey: body.key.trim() } : {}),
      signedInAt: new Date().toISOString(),
    });
    request.log.info({ role }, 'operator signed in');
    return reply.redirect(body.next ?? '/members', 303);
  });

  app.post('/sign-out', async (request, reply) => {
    await signOut(request);
    return reply.redirect('/sign-in', 303);
  });
}
