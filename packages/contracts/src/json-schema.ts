import { z } from 'zod';
import { consumptionEventSchema } from './consumption';
import { deadLetterSchema } from './dlq';
import { entitlementChangedSchema } from './entitlement-changed';
import { scoreChangedSchema } from './score-changed';
import { tierChangedSchema } from './tier-changed';
import { TOPICS, type TopicKey } from './topics';

/** The schema of the records on each topic. */
export const RECORD_SCHEMAS: Record<TopicKey, z.ZodType> = {
  consumption: consumptionEventSchema,
  scoreChanged: scoreChangedSchema,
  tierChanged: tierChangedSchema,
  entitlementChanged: entitlementChangedSchema,
  consumptionDlq: deadLetterSchema,
};

/** JSON Schema (draft 2020-12) documents for non-TypeScript consumers, one per topic. */
export function jsonSchemas(): Record<string, object> {
  return Object.fromEntries(
    (Object.keys(TOPICS) as TopicKey[]).map((key) => [
      `${TOPICS[key].name}.json`,
      {
        ...z.toJSONSchema(RECORD_SCHEMAS[key], { io: 'input', unrepresentable: 'any' }),
        $id: `https://taobi.dev/schemas/${TOPICS[key].name}.json`,
        title: TOPICS[key].name,
      },
    ]),
  );
}
