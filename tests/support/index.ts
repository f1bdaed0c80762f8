export * from './brokers';
export * from './ingest';
export * from './kit';
export * from './processes';
export * from './stack';
export * from './stage';
export * from './tcp-proxy';
export { testTopicPrefix } from './test-topics';
export * from './topic-reader';
