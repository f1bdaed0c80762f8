import { type ConsumptionEvent, consumptionEventId } from '@taobi/contracts';
import { type RuleSet, sourceFieldsProblem } from '@taobi/rules';

/**
 * Checks a schema-valid consumption event further than its schema can: its source, channel and
 * category must be the rule set's (sources are data: one the rule set in force does not know
 * cannot be scored), the eventId must be the deterministic one (otherwise the ledger's two
 * uniqueness rules could disagree), and the event must not be dated in the future. Returns the
 * reason to dead-letter it, or undefined.
 */
export function rejectionReason(
  event: ConsumptionEvent,
  context: { rules: RuleSet; now: Date; maxFutureSkewMs: number },
): string | undefined {
  const unknown = sourceFieldsProblem(context.rules, event);
  if (unknown) return unknown;
  const externalId = event.kind === 'completed' ? event.orderId : event.refundId;
  if (event.eventId !== consumptionEventId(event.source, event.kind, externalId)) {
    return 'eventId is not consumptionEventId(source, kind, orderId or refundId)';
  }
  if (Date.parse(event.occurredAt) > context.now.getTime() + context.maxFutureSkewMs) {
    return 'occurredAt is in the future';
  }
  return undefined;
}

/** Keeps the first of each eventId, so one batch never inserts or counts an event twice. */
export function distinctEvents<T extends { eventId: string }>(events: readonly T[]): T[] {
  const seen = new Set<string>();
  const distinct: T[] = [];
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    distinct.push(event);
  }
  return distinct;
}
