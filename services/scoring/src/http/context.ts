import type { AccessControl, Pool } from '@taobi/platform';
import type { RuleRegistry } from '../store/rule-sets';

/** What the route modules share: the keys, the database, the rule sets, the clock (built in app.ts). */
export interface RouteContext {
  access: AccessControl;
  pool: Pool;
  /** The rule-set registry, once opened. */
  registry: () => RuleRegistry;
  now: () => Date;
}
