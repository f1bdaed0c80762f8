// The outbox's payload as json: the DDL lives in @taobi/platform, outbox-migrations.ts.
module.exports = require('@taobi/platform/outbox-migrations').outboxMigration('scoring', 'payloadJson');
