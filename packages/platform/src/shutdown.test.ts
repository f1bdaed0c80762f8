import { Writable } from 'node:stream';
import { createHttpApp } from './http-app';
import { createLogger } from './logger';
import { createMetricsRegistry } from './metrics';
import { boundAppClose, closeOnAppClose } from './shutdown';

function appLogging(lines: Record<string, unknown>[]) {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return createHttpApp({
    logger: createLogger({ name: 'test', level: 'info' }, destination),
    metrics: createMetricsRegistry('test'),
  });
}

const never = () => new Promise<void>(() => undefined);

describe('closeOnAppClose: the close steps of a service', () => {
  it('when a step outlasts the close budget, then it is cut short by name and the steps after it still run', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = appLogging(lines);
    const ran: string[] = [];
    // Hooks run last registered first: 'pool' closes after 'relay' and 'consumer'.
    closeOnAppClose(app, 'pool', () => ran.push('pool'));
    closeOnAppClose(app, 'relay', never);
    closeOnAppClose(app, 'consumer', () => ran.push('consumer'));
    await app.ready();
    boundAppClose(app, 300);
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(ran).toEqual(['consumer', 'pool']);
    const cut = lines.filter((l) => String(l.msg).startsWith('close step cut short'));
    expect(cut.map((l) => l.step)).toEqual(['relay']);
  });

  it('when a step has a bound of its own, then it is cut short after it, leaving the rest of the budget to the steps after it', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = appLogging(lines);
    const ran: string[] = [];
    closeOnAppClose(app, 'pool', () => ran.push('pool'));
    closeOnAppClose(app, 'relay', never, { withinMs: 100 });
    await app.ready();
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(ran).toEqual(['pool']);
    expect(lines.find((l) => String(l.msg).startsWith('close step cut short'))).toMatchObject({
      step: 'relay',
      withinMs: 100,
    });
  });

  it('when a step fails, then it is logged as failed, not cut short, and the next step runs', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = appLogging(lines);
    const ran: string[] = [];
    closeOnAppClose(app, 'pool', () => ran.push('pool'));
    closeOnAppClose(app, 'relay', async () => {
      throw new Error('lease update failed');
    });
    await app.ready();
    boundAppClose(app, 5000);
    await app.close();
    expect(ran).toEqual(['pool']);
    expect(lines.find((l) => l.msg === 'close step failed')).toMatchObject({ step: 'relay' });
    expect(lines.some((l) => String(l.msg).startsWith('close step cut short'))).toBe(false);
  });
});
