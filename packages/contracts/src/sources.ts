import { z } from 'zod';

/**
 * Business lines (sources), their channels (platforms) and categories are data, not code: the rule
 * set in force (`packages/rules`, README "Rule set") lists every source with the channels and
 * categories it may report and what each is worth. A record names them by these ids; which ids
 * exist is the rule set's to say, so the topics carry any well-formed one.
 */
const name = (what: string) =>
  z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, `must be a kebab-case ${what}: a-z, 0-9 and single dashes`)
    .max(32);

export const sourceSchema = name('source id').describe(
  'The business line: a source of the rule set in force (ecommerce, food, travel, mobility in 2026.1); further sources may appear.',
);
export const channelSchema = name('channel name').describe(
  "The platform the order was placed on: one of its source's channels in the rule set in force.",
);
export const categorySchema = name('category name').describe(
  "What was bought: one of its source's categories in the rule set in force.",
);

/** A source id, e.g. `ecommerce`: one of the rule set's sources. */
export type Source = string;
export type Channel = string;
export type Category = string;
