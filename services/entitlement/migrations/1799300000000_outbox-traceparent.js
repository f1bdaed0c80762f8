// The outbox's traceparent column: the DDL lives in @taobi/platform, outbox-migrations.ts.
module.exports = require('@taobi/platform/outbox-migrations').outboxMigration('entitlement', 'traceparent');
