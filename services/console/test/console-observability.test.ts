/**
 * The programme view once the services export the observability metrics (consumer lag, outbox
 * age, DLQ letters by reason): read from their /metrics, whatever the exact names the
 * observability issue picks, as long as they say what they are. Histogram parts are not figures.
 */
import { ConsoleSession } from '@taobi/tests';
import type { UpstreamService } from '../src/config';
import { apisWithMetrics } from './fixtures';
import { ADMIN_KEY, consoleAgainst, READ_KEY } from './harness';

const METRICS: Partial<Record<UpstreamService, string>> = {
  scoring: [
    '# TYPE taobi_kafka_consumer_lag gauge',
    'taobi_kafka_consumer_lag{group="taobi-scoring",topic="taobi.consumption.v1",partition="0"} 7',
    'taobi_kafka_consumer_lag{group="taobi-scoring",topic="taobi.consumption.v1",partition="1"} 5',
    '# TYPE taobi_outbox_oldest_pending_age_seconds gauge',
    'taobi_outbox_oldest_pending_age_seconds 42',
    '# TYPE taobi_dlq_letters_total counter',
    'taobi_dlq_letters_total{group="taobi-scoring",topic="taobi.consumption.v1",reason="invalid-record"} 3',
    'taobi_dlq_letters_total{group="taobi-scoring",topic="taobi.consumption.v1",reason="conflicting-duplicate"} 1',
    '# TYPE taobi_kafka_consumer_lag_seconds histogram',
    'taobi_kafka_consumer_lag_seconds_bucket{group="taobi-scoring",le="1"} 999',
    '',
  ].join('\n'),
  tier: [
    '# TYPE taobi_tier_evaluation_last_completed_as_of_timestamp_seconds gauge',
    'taobi_tier_evaluation_last_completed_as_of_timestamp_seconds 1794067200',
    '# TYPE taobi_tier_evaluation_in_progress gauge',
    'taobi_tier_evaluation_in_progress 1',
    '# TYPE taobi_tier_evaluation_members_evaluated gauge',
    'taobi_tier_evaluation_members_evaluated 1234',
    '# TYPE taobi_kafka_consumer_lag gauge',
    'taobi_kafka_consumer_lag{group="taobi-tier",topic="taobi.score-changed.v1",partition="0"} 2',
    '# TYPE taobi_dlq_letters_total counter',
    'taobi_dlq_letters_total{group="taobi-tier",topic="taobi.score-changed.v1",reason="invalid-record"} 1',
    '',
  ].join('\n'),
};

describe('the programme view with the observability metrics', () => {
  const stack = consoleAgainst(apisWithMetrics((service) => METRICS[service] ?? ''));
  /** A stack whose DLQ counter is declared but has sent nothing (prom-client shows no series then). */
  const quiet = consoleAgainst(
    apisWithMetrics((service) =>
      service === 'scoring'
        ? '# HELP taobi_dlq_letters_total h\n# TYPE taobi_dlq_letters_total counter\n'
        : '',
    ),
  );

  it('when services export consumer lag, outbox age and DLQ letters by reason, then the panels list them by group, service and reason', async () => {
    const admin = await ConsoleSession.signIn(stack.url, ADMIN_KEY);
    const page = await admin.get('/programme');
    expect(page.status).toBe(200);
    const rows = (table: string) =>
      [
        ...(new RegExp(`data-table="${table}">[\\s\\S]*?</table>`).exec(page.text)?.[0] ?? '').matchAll(
          /<th scope="row">([^<]+)<\/th><td class="num">([^<]+)<\/td>/g,
        ),
      ].map(([, name, value]) => [name, value]);
    expect(rows('lag')).toEqual([
      ['taobi-scoring', '12'],
      ['taobi-tier', '2'],
    ]);
    expect(rows('outbox-age')).toEqual([['scoring', '42']]);
    expect(rows('dlq-reasons')).toEqual([
      ['invalid-record', '4'],
      ['conflicting-duplicate', '1'],
    ]);
    expect(page.text).not.toContain('Consumer lag: not available on this stack yet.');
  });

  it("when a read-only operator opens the programme, then the last tier evaluation comes from tier's evaluation gauges (the admin API needs the admin key)", async () => {
    const reader = await ConsoleSession.signIn(stack.url, READ_KEY);
    const page = await reader.get('/programme');
    expect(page.text).toMatch(
      /data-field="last-tier-evaluation"><span data-source="metrics">8 Nov 2026, 00:00 <span class="muted">· one running, 1,234 members evaluated so far/,
    );
    expect(page.text).toMatch(
      /data-field="last-scoring-evaluation"><span class="muted" data-state="admin-only">/,
    );
  });

  it('when the DLQ counter is declared but no letter was sent, then the panel says there are none rather than not available', async () => {
    const reader = await ConsoleSession.signIn(quiet.url, READ_KEY);
    const page = await reader.get('/programme');
    expect(page.text).toContain('No dead letters since the services started.');
    expect(page.text).not.toContain('Dead letters by reason: not available');
  });
});
