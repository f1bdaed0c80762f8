import { topicNames } from '@taobi/contracts';
import {
  assertNoDevelopmentKeys,
  ConfigError,
  closeOnAppClose,
  connectProducer,
  createHttpApp,
  createKafka,
  createKafkaProbe,
  createMetricsRegistry,
  httpRateLimit,
  kafkaConnection,
  type Logger,
  loadRuleSet,
  type Service,
} from '@taobi/platform';
import { sourceIds } from '@taobi/rules';
import { ingestApiDocs, ingestRouteDocs } from './api-docs';
import { createBatchingPublisher } from './batching-publisher';
import type { IngestConfig } from './config';
import { kafkaTimingsFor } from './kafka-timings';
import { developmentIngestKeys, keySourceProblems, SourceKeys } from './keys';
import { createIngestMetrics } from './metrics';
import { ingestSchemas } from './request-schema';
import { registerIngestRoutes } from './route';
import {
  type IngestSourceDefinition,
  ingestServiceName,
  type SourceCatalogue,
  sourceCatalogue,
} from './source-definition';

export interface IngestServiceOptions {
  /** The service clock (receivedAt, the occurredAt range). */
  now?: () => Date;
}

/**
 * Builds one source's ingest service from its definition and the rule set in force
 * (`RULE_SET_FILE`, else the shipped one), which gives its channels and categories: the whole of a
 * services/ingest-* `app.ts`. Refuses (ConfigError, exit 2) to build when the rule set lacks its
 * source, in production with a development key, without a key for its own source, or with a key
 * for a source the rule set does not have.
 */
export function createIngestService(
  definition: IngestSourceDefinition,
  config: IngestConfig,
  logger: Logger,
  options: IngestServiceOptions = {},
): Service {
  const name = ingestServiceName(definition);
  const rules = loadRuleSet(config.RULE_SET_FILE);
  let catalogue: SourceCatalogue;
  try {
    catalogue = sourceCatalogue(definition, rules);
  } catch (error) {
    throw new ConfigError([{ variable: 'RULE_SET_FILE', message: (error as Error).message }]);
  }
  const keys = config.INGEST_API_KEYS ?? developmentIngestKeys(sourceIds(rules.score));
  assertNoDevelopmentKeys(config.TAOBI_ENV, { INGEST_API_KEYS: keys.map((e) => e.key) });
  const problems = keySourceProblems(keys, sourceIds(rules.score), definition.source);
  if (problems.length > 0) {
    throw new ConfigError(problems.map((message) => ({ variable: 'INGEST_API_KEYS', message })));
  }
  const now = options.now ?? (() => new Date());
  const timings = kafkaTimingsFor(config.PUBLISH_TIMEOUT_MS);
  const kafka = createKafka({ ...kafkaConnection(config), clientId: name, logger, ...timings.client });
  const kafkaProbe = createKafkaProbe(kafka);
  const registry = createMetricsRegistry(name);
  const metrics = createIngestMetrics(registry, definition.source);
  const publisher = createBatchingPublisher({
    connect: () => connectProducer(kafka, timings.producer),
    lingerMs: config.PUBLISH_LINGER_MS,
    maxBatchRecords: config.PUBLISH_MAX_BATCH_RECORDS,
    timeoutMs: config.PUBLISH_TIMEOUT_MS,
    logger,
    onSend: metrics.sent,
  });
  const schemas = ingestSchemas(definition, catalogue);
  const docs = {
    catalogue,
    maxFutureSeconds: Math.round(config.INGEST_MAX_FUTURE_MS / 1000),
    bodyLimitBytes: config.INGEST_BODY_LIMIT_BYTES,
  };
  const app = createHttpApp({
    api: ingestApiDocs(definition, schemas, docs),
    logger,
    rateLimit: httpRateLimit(config),
    metrics: registry,
    readiness: { kafka: kafkaProbe.check },
    bodyLimit: config.INGEST_BODY_LIMIT_BYTES,
    // The route binds its records to the request's trace itself: no async context per request.
    runInTraceContext: false,
  });
  closeOnAppClose(app, 'kafka probe', () => kafkaProbe.close());
  closeOnAppClose(app, 'publisher', () => publisher.close());
  registerIngestRoutes(app, {
    definition,
    schemas,
    keys: new SourceKeys(keys),
    // A fixed window of BURST requests per BURST / RATE seconds: the sustained rate, and a burst at once.
    rateLimit: {
      max: config.INGEST_RATE_LIMIT_PER_SECOND > 0 ? config.INGEST_RATE_LIMIT_BURST : 0,
      windowMs: Math.ceil((config.INGEST_RATE_LIMIT_BURST / config.INGEST_RATE_LIMIT_PER_SECOND) * 1000),
    },
    publisher,
    metrics,
    topic: topicNames(config.KAFKA_TOPIC_PREFIX).consumption,
    now,
    rules,
    maxFutureMs: config.INGEST_MAX_FUTURE_MS,
    retryAfterSeconds: config.INGEST_RETRY_AFTER_SECONDS,
    docs: ingestRouteDocs(definition, schemas, docs),
    logger,
  });
  return {
    app,
    start: () => publisher.start(),
    // Closes the app: in-flight requests finish, then its onClose hooks close the rest.
    async stop() {
      await app.close();
    },
  };
}
