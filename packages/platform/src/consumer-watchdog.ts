import type { Consumer } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger';
import { sharedMetric } from './metrics';

/** The group-membership errors after which kafkajs must join the group again before going on. */
const REJOIN_ERRORS = new Set([
  'REBALANCE_IN_PROGRESS',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
  'NOT_COORDINATOR_FOR_GROUP',
]);

/**
 * The group-membership error in `error`, itself or the one it wraps: kafkajs's retriers wrap the
 * last error once their retries are spent (`KafkaJSNumberOfRetriesExceeded`, its `cause`), and its
 * runner, which rejoins on the bare error, crashes the consumer on the wrapped one.
 */
export function rejoinCause(error: unknown): Error | undefined {
  for (const candidate of [error, (error as { cause?: unknown } | undefined)?.cause]) {
    if (REJOIN_ERRORS.has((candidate as { type?: string } | undefined)?.type ?? ''))
      return candidate as Error;
  }
  return undefined;
}

/**
 * Two guards around a kafkajs consumer's group membership.
 *
 * **Rejoin at once.** kafkajs hands a fetch's batches (one per partition) to the handler one after
 * the other and rejoins the group only after all of them, even when a heartbeat already said the
 * group is rebalancing; every one of them then fails its offset commit anyway. With a large backlog
 * (all partitions after another instance died, on a loaded machine) that takes longer than the
 * rebalance timeout, so the coordinator completes the rebalance without this member, which then
 * rejoins and starts another rebalance that the other member is too busy to join in time: the group
 * keeps rebalancing ("The group is rebalancing, so a rejoin is needed") and nobody consumes. Once a
 * heartbeat or a commit says to rejoin, `rejoinError` holds that error until the consumer has joined
 * again; the batch consumer throws it instead of handling or committing more batches, so kafkajs
 * rejoins within one batch's time.
 *
 * **Stall.** A consumer whose heartbeats the coordinator has not accepted for `stallTimeoutMs` is
 * stuck whatever the cause (kafkajs keeps retrying a join or a coordinator it cannot reach and
 * never gives up on its own): `onStall` runs, and the batch consumer declares itself dead, which
 * exits the process for the supervisor to restart (a fresh member in a fresh client).
 *
 * `taobi_kafka_consumer_heartbeat_age_seconds{group}`: seconds since the coordinator last accepted
 * a heartbeat of the consumer (grows while it is stuck; the stall limit is where it exits).
 */
export interface ConsumerWatchdog {
  /** The error that says to rejoin, from a heartbeat or commit since the last join; else undefined. */
  rejoinError(): Error | undefined;
  /** Notes an error of a heartbeat or an offset commit made since join number `joins`. */
  noteError(error: unknown, joins: number): void;
  /** How many times the consumer has joined its group (to tell a stale error from a current one). */
  joins(): number;
  /** Starts watching for a stall (once the consumer runs). */
  arm(): void;
  /** Stops watching (the consumer is stopping). */
  disarm(): void;
}

const heartbeatAges = new WeakMap<Registry, Map<string, () => number>>();

export function createConsumerWatchdog(options: {
  consumer: Consumer;
  groupId: string;
  stallTimeoutMs: number;
  logger: Logger;
  onStall: (error: Error) => void;
  metrics?: Registry;
}): ConsumerWatchdog {
  const { consumer, logger: log } = options;
  let lastBeat = Date.now();
  let joins = 0;
  let rejoin: Error | undefined;
  let lastError: unknown;
  let timer: NodeJS.Timeout | undefined;

  consumer.on(consumer.events.HEARTBEAT, () => {
    lastBeat = Date.now();
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    joins += 1;
    rejoin = undefined;
  });

  if (options.metrics) {
    const registry = options.metrics;
    const ages = heartbeatAges.get(registry) ?? new Map<string, () => number>();
    heartbeatAges.set(registry, ages);
    ages.set(options.groupId, () => (Date.now() - lastBeat) / 1000);
    sharedMetric(
      registry,
      'taobi_kafka_consumer_heartbeat_age_seconds',
      (name) =>
        new Gauge({
          name,
          help: 'Seconds since the group coordinator last accepted a heartbeat of the consumer',
          labelNames: ['group'],
          registers: [registry],
          collect() {
            this.reset();
            for (const [group, age] of heartbeatAges.get(registry) ?? []) this.labels(group).set(age());
          },
        }),
    );
  }

  return {
    rejoinError: () => rejoin,
    joins: () => joins,
    noteError(error, since) {
      lastError = error;
      const cause = rejoinCause(error);
      if (cause && since === joins && !rejoin) {
        rejoin = cause;
        log.info({ err: error }, 'the group needs a rejoin: skipping the batches in hand');
      }
    },
    arm() {
      lastBeat = Date.now();
      clearInterval(timer);
      timer = setInterval(
        () => {
          const silentMs = Date.now() - lastBeat;
          if (silentMs < options.stallTimeoutMs) return;
          clearInterval(timer);
          const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
          const error = new Error(
            `no heartbeat accepted by the group coordinator for ${Math.round(silentMs / 1000)} s${why}`,
          );
          log.fatal({ err: error, silentMs }, 'consumer stuck outside its group');
          options.onStall(error);
        },
        Math.min(5000, options.stallTimeoutMs / 4),
      );
      timer.unref();
    },
    disarm() {
      clearInterval(timer);
      timer = undefined;
      heartbeatAges.get(options.metrics as Registry)?.delete(options.groupId);
    },
  };
}
