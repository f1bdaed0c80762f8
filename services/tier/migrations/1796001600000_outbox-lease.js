// The transactional outbox and its relay's lease: the DDL lives in @taobi/platform, outbox-migrations.ts.
module.exports = require('@taobi/platform/outbox-migrations').outboxMigration('tier', 'lease');
