/**
 * The baseline of `pnpm bench:ingest`: a bare fastify route on `POST /v1/events` that validates
 * nothing, stores nothing and answers 202 to the body the service gets, run as its own process as
 * the service is. What the service adds to it (auth, validation, canonical record, Kafka ack) is what
 * the single-event ratio measures.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/healthz', async () => ({ status: 'ok' }));
app.post('/v1/events', async (_request, reply) => reply.code(202).send({ accepted: [] }));
app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) }).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
process.once('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
