// Kafka plumbing, one concern per module: the client, producing, partitioning, topic admin, the
// readiness probe, TLS/SASL for a managed cluster. The batch consumer (with its dead letters) is ../batch-consumer.ts.
export * from './client';
export * from './partition';
export * from './probe';
export * from './producer';
export * from './read-back';
export * from './security';
export * from './topics';
