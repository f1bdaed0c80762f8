import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuleSet } from '@taobi/rules';

/**
 * A rule set written to a file of its own, for `RULE_SET_FILE`: the way an operator gives every
 * service and the CLI another rule set. `remove()` deletes it.
 */
export function writeRuleSetFile(ruleSet: RuleSet): { path: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'taobi-rule-set-'));
  const path = join(dir, `rule-set-${ruleSet.version}.json`);
  writeFileSync(path, `${JSON.stringify(ruleSet, null, 2)}\n`);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
