import pg from 'pg';
import type { Logger } from './logger';

/**
 * The Postgres channel a schema's outbox notifies when a transaction that wrote to it commits
 * (`enqueueOutbox` calls `pg_notify` in the same statement; Postgres delivers it at commit, not at
 * all on rollback, and once per transaction however many statements notified).
 */
export function outboxChannel(schema: string): string {
  return `${schema}_outbox`;
}

export interface NotificationListener {
  close(): Promise<void>;
}

/**
 * Listens on `channel` over a connection of its own (a LISTEN lasts as long as its session, so it
 * cannot borrow a pool client) made with the pool's settings, and calls `onNotify` for each
 * notification: a relay is woken by a commit in any process, not only its own (and scoring's
 * rule-set registry reloads its copy on `scoring_rule_sets`). When the connection fails it calls
 * `onLost` and reconnects after `retryMs`; meanwhile the caller falls back (the relay's poll), and
 * `onNotify` is called once on each (re)connect, once LISTEN holds, for what changed while nobody
 * listened.
 */
export function listenForNotifications(options: {
  pool: pg.Pool;
  channel: string;
  logger: Logger;
  onNotify: () => void;
  onLost?: () => void;
  retryMs?: number;
}): NotificationListener {
  if (!/^[a-z_][a-z0-9_]*$/.test(options.channel)) throw new Error(`unsafe channel name: ${options.channel}`);
  const log = options.logger.child({ component: 'channel-listener', channel: options.channel });
  const retryMs = options.retryMs ?? 1000;
  let closed = false;
  let current: pg.Client | undefined;
  let reconnect: NodeJS.Timeout | undefined;
  let connecting: Promise<void> = Promise.resolve();

  function lost(client: pg.Client, error?: unknown): void {
    if (current !== client) return;
    current = undefined;
    client.end().catch(() => undefined);
    options.onLost?.();
    if (closed) return;
    log.warn({ err: error }, 'listener lost its connection; its user falls back until it is back');
    // Never what keeps a process alive: close() clears it, and the poll covers the gap.
    reconnect = setTimeout(() => {
      connecting = connect();
    }, retryMs).unref();
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const client = new pg.Client(options.pool.options);
    current = client;
    client.on('notification', () => options.onNotify());
    client.on('error', (error) => lost(client, error));
    client.on('end', () => lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${options.channel}`);
      options.onNotify();
    } catch (error) {
      lost(client, error);
    }
  }

  connecting = connect();
  return {
    async close() {
      closed = true;
      clearTimeout(reconnect);
      await connecting;
      const client = current;
      current = undefined;
      await client?.end().catch(() => undefined);
    },
  };
}
