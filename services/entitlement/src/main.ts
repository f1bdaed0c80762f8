import './tracing';
import { runService } from '@taobi/platform';
import { buildEntitlementService } from './app';
import { entitlementConfigSchema } from './config';

void runService({
  name: 'entitlement',
  schema: entitlementConfigSchema,
  build: (config, logger) => buildEntitlementService(config, logger),
});
