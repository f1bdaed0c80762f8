import { formatStatus } from './status';

describe('the taobi status table', () => {
  it('when services are ready, stuck or down, then each line shows lag by group, outbox and DLQ, with - for none and ? for unknown', () => {
    const table = formatStatus([
      { service: 'ingest-food', state: 'ready', detail: '', lag: {} },
      {
        service: 'tier',
        state: 'ready',
        detail: '',
        lag: { 'taobi-tier': 1200 },
        outbox: { pending: 35, oldestSeconds: 61.2 },
        deadLetters: 3,
      },
      { service: 'console', state: 'down', detail: 'connect ECONNREFUSED 127.0.0.1:8088', lag: {} },
    ]).split('\n');
    expect(table[0]).toMatch(/^service +state +lag +outbox +dlq +detail$/);
    expect(table[1]).toMatch(/^ingest-food +ready +- +- +-$/);
    expect(table[2]).toMatch(/^tier +ready +1200 \(taobi-tier\) +35 pending, oldest 61 s STUCK +3$/);
    expect(table[3]).toMatch(/^console +down +- +\? +\? +connect ECONNREFUSED 127\.0\.0\.1:8088$/);
    // Columns line up: every cell of a column starts at the same position.
    expect(new Set(table.map((line) => line.search(/(?<=^\S+ +)\S/)))).toEqual(new Set([13]));
  });
});
