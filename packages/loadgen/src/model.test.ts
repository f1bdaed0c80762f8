import { DEFAULT_RULE_SET, sourceFieldsProblem } from '@taobi/rules';
import { simulate } from './model';
import { toBatches } from './poster';
import { Random } from './random';

const YEAR = { from: Date.parse('2025-12-01T00:00:00Z'), to: Date.parse('2026-11-20T00:00:00Z') };

describe('the synthetic spending model', () => {
  const events = simulate({ members: 400, seed: 7, runId: 'sim', ...YEAR });

  it('when the same seed is used twice, then the same events come out', () => {
    expect(simulate({ members: 50, seed: 3, runId: 'x', ...YEAR })).toEqual(
      simulate({ members: 50, seed: 3, runId: 'x', ...YEAR }),
    );
  });

  it('when a year is simulated, then every event is valid for its source in the shipped rule set and inside the period', () => {
    // Collected, then asserted once: tens of thousands of expect() calls would dominate the run.
    const problems = events.flatMap(({ source, body, at }) => {
      const found: string[] = [];
      if (at < YEAR.from || at >= YEAR.to) found.push(`${body.orderId}: outside the period`);
      if (!Number.isInteger(body.amount) || body.amount <= 0)
        found.push(`${body.orderId}: amount ${body.amount}`);
      const unknown =
        body.type === 'order.completed'
          ? sourceFieldsProblem(DEFAULT_RULE_SET, { source, channel: body.channel, category: body.category })
          : sourceFieldsProblem(DEFAULT_RULE_SET, { source });
      if (unknown) found.push(`${body.orderId}: ${unknown}`);
      return found;
    });
    expect(problems).toEqual([]);
  });

  it('when spending is simulated, then food and rides are frequent and small, e-commerce larger, travel rare', () => {
    const orders = events.filter((e) => e.body.type === 'order.completed');
    const by = (source: string) => orders.filter((e) => e.source === source);
    const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    expect(by('food').length).toBeGreaterThan(by('ecommerce').length);
    expect(by('ecommerce').length).toBeGreaterThan(by('travel').length * 5);
    expect(median(by('food').map((e) => e.body.amount))).toBeLessThan(
      median(by('ecommerce').map((e) => e.body.amount)),
    );
    expect(median(by('ecommerce').map((e) => e.body.amount))).toBeLessThan(
      median(by('travel').map((e) => e.body.amount)),
    );
  });

  it('when members are simulated, then spending is skewed: the top 5% spend far more than the median member', () => {
    const spend = new Map<string, number>();
    for (const { body } of events) {
      if (body.type === 'order.completed')
        spend.set(body.memberId, (spend.get(body.memberId) ?? 0) + body.amount);
    }
    const sorted = [...spend.values()].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 1;
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
    expect(p95 / median).toBeGreaterThan(3);
  });

  it('when refunds are simulated, then each refunds an earlier order of the same member, never more than it', () => {
    const orders = new Map(
      events.filter((e) => e.body.type === 'order.completed').map((e) => [e.body.orderId, e]),
    );
    const refunds = events.filter((e) => e.body.type === 'order.refunded');
    expect(refunds.length).toBeGreaterThan(0);
    const problems = refunds.filter((refund) => {
      const order = orders.get(refund.body.orderId);
      return (
        order?.body.memberId !== refund.body.memberId ||
        refund.body.amount > order.body.amount ||
        refund.at < order.at
      );
    });
    expect(problems).toEqual([]);
  });

  it('when events are batched, then each batch has one source, at most the batch size, and nothing is lost', () => {
    const batches = toBatches(events, 100);
    expect(batches.reduce((n, b) => n + b.events.length, 0)).toBe(events.length);
    for (const batch of batches) {
      expect(batch.events.length).toBeLessThanOrEqual(100);
      expect(new Set(batch.events.map((e) => e.source))).toEqual(new Set([batch.source]));
    }
  });

  it('when the PRNG is seeded, then draws are reproducible and uniform enough', () => {
    const a = new Random(42);
    const b = new Random(42);
    const draws = Array.from({ length: 20000 }, () => a.next());
    expect(draws.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b.next()));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
  });
});
