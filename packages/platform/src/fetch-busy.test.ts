import { createServer } from 'node:net';
import { Errors } from './errors';
import { fetchUnlessBusy, ServiceUnreachable } from './fetch-busy';
import { createHttpApp } from './http-app';
import { createLogger } from './logger';
import { createMetricsRegistry } from './metrics';

/** A real service on a real port: at most `max` requests a second; `/flaky` is 503 twice, then 200. */
async function listening(max: number) {
  const app = createHttpApp({
    logger: createLogger({ name: 'test', level: 'silent' }),
    metrics: createMetricsRegistry('test'),
    rateLimit: { max, windowMs: 1000 },
  });
  let flaky = 0;
  app.get('/members/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  app.get('/flaky', async () => {
    flaky += 1;
    if (flaky <= 2) throw Errors.unavailable('Kafka is unavailable', 1);
    return { calls: flaky };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, url, flakyCalls: () => flaky };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('fetchUnlessBusy: a client that waits out a busy service', () => {
  it('when a burst goes over the rate limit, then every request is served after its Retry-After, where plain fetch is refused', async () => {
    const { app, url } = await listening(3);
    try {
      const plain = await Promise.all(
        Array.from({ length: 8 }, (_, i) => fetch(`${url}/members/p-${i}`).then((r) => r.status)),
      );
      expect(plain.filter((status) => status === 429).length).toBeGreaterThanOrEqual(5);

      const pauses: number[] = [];
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          fetchUnlessBusy(`${url}/members/m-${i}`, {}, { onRetry: (_reason, ms) => pauses.push(ms) }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(await Promise.all(answers.map((a) => a.json()))).toEqual(
        Array.from({ length: 8 }, (_, i) => ({ id: `m-${i}` })),
      );
      expect(pauses.length).toBeGreaterThanOrEqual(5);
      // Each pause is the Retry-After the service sent (whole seconds, at least one).
      for (const ms of pauses) expect(ms % 1000 === 0 && ms >= 1000).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('when a GET is answered 503 with Retry-After, then it is asked again only where retryUnavailable says so', async () => {
    const { app, url, flakyCalls } = await listening(100);
    try {
      const once = await fetchUnlessBusy(`${url}/flaky`);
      expect(once.status).toBe(503);
      expect(flakyCalls()).toBe(1);

      const patient = await fetchUnlessBusy(`${url}/flaky`, {}, { retryUnavailable: true });
      expect(patient.status).toBe(200);
      expect(await patient.json()).toEqual({ calls: 3 });
    } finally {
      await app.close();
    }
  });

  it('when the attempts are spent, then the last busy answer is returned as it is', async () => {
    const { app, url } = await listening(1);
    try {
      await fetch(`${url}/members/first`);
      const answer = await fetchUnlessBusy(`${url}/members/second`, {}, { attempts: 1 });
      expect(answer.status).toBe(429);
      expect((await answer.json()) as unknown).toMatchObject({ error: { code: 'RATE_LIMITED' } });
    } finally {
      await app.close();
    }
  });

  it('when its signal ends while it waits out a busy service, then it stops at once with the signal reason', async () => {
    const { app, url } = await listening(1);
    try {
      await fetch(`${url}/members/first`);
      const started = Date.now();
      const waiting = fetchUnlessBusy(`${url}/members/second`, { signal: AbortSignal.timeout(300) });
      await expect(waiting).rejects.toMatchObject({ name: 'TimeoutError' });
      // The Retry-After is at least a second: the signal, not the pause, ended it.
      expect(Date.now() - started).toBeLessThan(900);
    } finally {
      await app.close();
    }
  });

  it('when nothing listens, then it fails after its attempts naming the URL and the cause', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v1/events`;
    const tries: string[] = [];
    const failure = fetchUnlessBusy(
      url,
      {},
      { unreachableAttempts: 3, onRetry: (reason) => tries.push(reason) },
    );
    await expect(failure).rejects.toBeInstanceOf(ServiceUnreachable);
    await expect(failure).rejects.toThrow(`${url} is not reachable: connect ECONNREFUSED`);
    expect(tries).toHaveLength(2);
  });
});
