import { consumptionEventId, type Source } from '@taobi/contracts';
import { DEVELOPMENT_KEYS, developmentIngestKey, fetchUnlessBusy } from '@taobi/platform';
import { addMonths, DEFAULT_RULE_SET, type ScoreEvent, shanghaiDayStart, shanghaiMonth } from '@taobi/rules';
import type { TestStack } from '../support';

/**
 * What a platform team and a downstream app do against a running stack: POST events to the ingest
 * APIs, read the public APIs, run the admin jobs. Nothing here touches a database.
 */
export interface Order {
  source: Source;
  orderId: string;
  memberId: string;
  amount: number;
  category: string;
  channel: string;
  occurredAt: string;
}

/** A source's first channel in the shipped rule set (what the stack under test runs). */
function channelOf(source: Source): string {
  const channel = DEFAULT_RULE_SET.score.sources[source]?.channels[0];
  if (!channel) throw new Error(`the shipped rule set has no source ${source}`);
  return channel;
}

let sequence = 0;

/** An order `monthsAgo` Shanghai months back (mid-month, never in the future). */
export function order(
  memberId: string,
  source: Source,
  category: string,
  yuan: number,
  monthsAgo = 0,
): Order {
  sequence += 1;
  const month = addMonths(shanghaiMonth(new Date()), -monthsAgo);
  // Noon on the 15th, or, this month, an instant already past: an hour ago, or halfway since the
  // month began when it began less than two hours ago (a run just after midnight in Shanghai, when
  // an hour ago is last month's).
  const now = Date.now();
  const past = Math.max(now - 3600_000, Math.floor((shanghaiDayStart(month, 1).getTime() + now) / 2));
  const at = Math.min(shanghaiDayStart(month, 15).getTime() + 12 * 3600_000, past);
  return {
    source,
    orderId: `${memberId}-${source}-${sequence}`,
    memberId,
    amount: Math.round(yuan * 100),
    category,
    channel: channelOf(source),
    occurredAt: new Date(at).toISOString(),
  };
}

/** The ingest body of an order, as docs/design.md, "APIs", has it. */
export function orderBody(o: Order) {
  return {
    type: 'order.completed',
    orderId: o.orderId,
    memberId: o.memberId,
    amount: o.amount,
    currency: 'CNY',
    channel: o.channel,
    category: o.category,
    occurredAt: o.occurredAt,
  };
}

export function refundBody(o: Order, refundId: string, amount = o.amount) {
  return {
    type: 'order.refunded',
    orderId: o.orderId,
    refundId,
    memberId: o.memberId,
    amount,
    currency: 'CNY',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
  };
}

/** The score-relevant facts of what was posted, for the pure reference fold. */
export function scoreEvent(o: Order): ScoreEvent {
  return {
    eventId: consumptionEventId(o.source, 'completed', o.orderId),
    kind: 'completed',
    source: o.source,
    memberId: o.memberId,
    orderId: o.orderId,
    amount: o.amount,
    category: o.category as ScoreEvent['category'],
    occurredAt: o.occurredAt,
  };
}

export function refundEvent(o: Order, refundId: string, amount = o.amount): ScoreEvent {
  return {
    eventId: consumptionEventId(o.source, 'refunded', refundId),
    kind: 'refunded',
    source: o.source,
    memberId: o.memberId,
    orderId: o.orderId,
    refundId,
    amount,
    occurredAt: new Date().toISOString(),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read the public APIs' JSON answers field by field
type ApiAnswer = any;

export class Client {
  constructor(private readonly stack: TestStack) {}

  /**
   * POSTs bodies as one batch to the source's ingest service; returns the accepted eventIds. A 503
   * (Kafka did not take the batch in time: nothing accepted) is posted again, as ingest asks and a
   * platform does: the events' ids make the repeat safe. With `withinMs`, it keeps posting for that
   * long, also while ingest is unreachable (a process the supervisor is restarting).
   */
  async ingest(source: Source, bodies: unknown[], patience: { withinMs?: number } = {}): Promise<string[]> {
    const { withinMs } = patience;
    let lastRetry = 'none';
    const response = await fetchUnlessBusy(
      `${this.stack.url(`ingest-${source}`)}/v1/events`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${developmentIngestKey(source)}`,
        },
        body: JSON.stringify({ events: bodies }),
        ...(withinMs === undefined ? {} : { signal: AbortSignal.timeout(withinMs) }),
      },
      {
        retryUnavailable: true,
        ...(withinMs === undefined
          ? {}
          : {
              attempts: Number.POSITIVE_INFINITY,
              unreachableAttempts: Number.POSITIVE_INFINITY,
              onRetry: (reason: string) => {
                lastRetry = reason;
              },
            }),
      },
    ).catch((error: Error) => {
      if (error.name !== 'TimeoutError') throw error;
      throw new Error(`ingest-${source} took no batch within ${withinMs} ms (last retry: ${lastRetry})`);
    });
    const text = await response.text();
    if (response.status !== 202) throw new Error(`ingest-${source} answered ${response.status}: ${text}`);
    return (JSON.parse(text) as { accepted: { eventId: string }[] }).accepted.map((a) => a.eventId);
  }

  /** Posts orders grouped by source, one batch per source. */
  async ingestOrders(orders: Order[]): Promise<string[]> {
    const ids: string[] = [];
    for (const source of new Set(orders.map((o) => o.source))) {
      ids.push(...(await this.ingest(source, orders.filter((o) => o.source === source).map(orderBody))));
    }
    return ids;
  }

  async read(service: string, path: string): Promise<ApiAnswer> {
    const response = await fetch(`${this.stack.url(service)}${path}`, {
      headers: { authorization: `Bearer ${DEVELOPMENT_KEYS.read}` },
    });
    if (response.status !== 200) throw new Error(`${service} ${path} answered ${response.status}`);
    return response.json();
  }

  /** An operator job (admin key). */
  admin(
    service: string,
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiAnswer> {
    return this.post(DEVELOPMENT_KEYS.admin, service, path, body, headers);
  }

  /** What a checkout does (checkout key): activate 88VIP, use a grant, redeem an offer. */
  checkout(service: string, path: string, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    return this.post(DEVELOPMENT_KEYS.checkout, service, path, undefined, headers);
  }

  private async post(
    key: string,
    service: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<ApiAnswer> {
    const response = await fetch(`${this.stack.url(service)}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${service} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text);
  }
}
