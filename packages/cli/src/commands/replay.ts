import { type Catalogue, parseCatalogue } from '@taobi/benefits';
import { type Tier, topicNames } from '@taobi/contracts';
import { createKafka, createLogger, partitionForKey } from '@taobi/platform';
import { parseRuleSet, type RuleSetVersion, withValidity } from '@taobi/rules';
import { callApi, type Endpoints } from '../endpoints';
import {
  checkMemberAgainstLog,
  type ReplayInput,
  type ReplayResult,
  type StoredDecision,
  type StoredScoreVersion,
  type TierEvaluation,
} from '../replay/derive';
import { type LogRecord, type PartitionRange, readPartitions } from '../replay/log';

/**
 * `pnpm taobi replay --member <id>` and `--all`: reads the members' records from the consumption
 * topic (only the member's partition, from its earliest offset), folds them with the pure rules of
 * the rule set in force at each time, re-derives the tier decisions and the status benefits, and
 * compares with what scoring, tier and entitlement answer through their public APIs (never their
 * databases). Prints `identical` or each difference; exits 0 or 1.
 */
export interface ReplayOptions {
  member?: string | undefined;
  all: boolean;
  brokers: string[];
  topicPrefix: string;
  stallMs: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the public APIs' JSON answers, read field by field
type Answer = any;

const err = (line: string) => process.stderr.write(line);

/** Everything the replay needs that is not the member's: the registry, the evaluations, the catalogue. */
async function programmeFacts(endpoints: Endpoints) {
  const read = (url: string) => callApi<Answer>(url, { key: endpoints.readKey });
  const [rules, evaluations, catalogue, tiers] = await Promise.all([
    read(`${endpoints.url('scoring')}/v1/rules/versions`),
    callApi<Answer>(`${endpoints.url('tier')}/v1/admin/evaluations?limit=1000`, { key: endpoints.adminKey }),
    read(`${endpoints.url('entitlement')}/v1/benefits`),
    read(`${endpoints.url('tier')}/v1/tiers`),
  ]);
  const registry: RuleSetVersion[] = withValidity(
    (rules.versions as Answer[]).map((v) => ({
      ruleSet: parseRuleSet({ version: v.version, score: v.score, tiers: v.tiers, evaluation: v.evaluation }),
      effectiveFrom: new Date(v.effectiveFrom),
      adoptedAt: new Date(v.adoptedAt),
      origin: v.origin,
      backtestId: v.backtestId,
    })),
  );
  return {
    registry,
    evaluations: (evaluations.evaluations as TierEvaluation[]).filter((e) => e.startedAt),
    clawbackDays: Number(tiers.clawbackDays ?? 0),
    catalogue: parseCatalogue({
      version: catalogue.version,
      benefits: catalogue.benefits,
      vip88: catalogue.vip88,
    }),
  };
}

/** Reads every page of a paged API, following its cursor field. */
async function allPages<T>(
  key: string,
  first: string,
  next: (page: Answer) => string | null,
  items: (page: Answer) => T[],
) {
  const found: T[] = [];
  let url: string | null = first;
  while (url) {
    const page: Answer = await callApi<Answer>(url, { key });
    found.push(...items(page));
    url = next(page);
  }
  return found;
}

/** What scoring, tier and entitlement answer about one member. */
async function memberFacts(endpoints: Endpoints, memberId: string) {
  const id = encodeURIComponent(memberId);
  const scoring = endpoints.url('scoring');
  const tier = endpoints.url('tier');
  const read = (url: string) => callApi<Answer>(url, { key: endpoints.readKey });
  const [versions, current, contributions, decisions, currentTier, entitlements] = await Promise.all([
    allPages<StoredScoreVersion>(
      endpoints.readKey,
      `${scoring}/v1/members/${id}/score/versions?limit=1000`,
      (page) =>
        page.nextAfter === null
          ? null
          : `${scoring}/v1/members/${id}/score/versions?limit=1000&after=${page.nextAfter}`,
      (page) => page.versions,
    ),
    read(`${scoring}/v1/members/${id}/score`),
    allPages<ReplayInput['scoring']['contributions'][number]>(
      endpoints.readKey,
      `${scoring}/v1/members/${id}/score/history?limit=500`,
      (page) =>
        page.nextCursor
          ? `${scoring}/v1/members/${id}/score/history?limit=500&cursor=${page.nextCursor}`
          : null,
      (page) => page.contributions,
    ),
    allPages<StoredDecision>(
      endpoints.readKey,
      `${tier}/v1/members/${id}/tier/history?limit=200`,
      (page) =>
        page.nextCursor ? `${tier}/v1/members/${id}/tier/history?limit=200&cursor=${page.nextCursor}` : null,
      (page) => page.decisions,
    ),
    read(`${tier}/v1/members/${id}/tier`),
    read(`${endpoints.url('entitlement')}/v1/members/${id}/entitlements?limit=1000`),
  ]);
  return {
    scoring: {
      versions,
      current: {
        score: current.score,
        breakdown: current.breakdown,
        version: current.version,
        ruleVersion: current.ruleVersion,
        windowFrom: current.window.from,
      },
      contributions,
    },
    tier: {
      decisions,
      current: {
        tier: currentTier.tier as Tier,
        score: currentTier.score,
        scoreVersion: currentTier.scoreVersion,
      },
    },
    entitlement: { tier: entitlements.tier as Tier, grants: entitlements.entitlements },
  };
}

/** When records of a partition were deleted by retention: the oldest left, else null. */
function logStartOf(range: PartitionRange | undefined, records: readonly LogRecord[]): Date | null {
  if (!range || range.low === 0n) return null;
  const first = records.find((r) => r.partition === range.partition);
  return first ? new Date(first.timestamp) : new Date();
}

async function replayOne(
  endpoints: Endpoints,
  facts: Awaited<ReturnType<typeof programmeFacts>>,
  memberId: string,
  log: LogRecord[],
  logStart: Date | null,
): Promise<ReplayResult> {
  const member = await memberFacts(endpoints, memberId);
  return checkMemberAgainstLog({
    memberId,
    registry: facts.registry,
    log,
    logStart,
    scoring: member.scoring,
    tier: { ...member.tier, evaluations: facts.evaluations, clawbackDays: facts.clawbackDays },
    entitlement: { ...member.entitlement, catalogue: facts.catalogue as Catalogue },
  });
}

function progressBar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((done / total) * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${done}/${total}`;
}

function printResult(result: ReplayResult, prefix = ''): void {
  for (const line of result.differences) console.log(`${prefix}${line}`);
  for (const line of result.skipped) err(`${prefix}not checked: ${line}\n`);
}

export async function replayFromLog(endpoints: Endpoints, options: ReplayOptions): Promise<number> {
  const facts = await programmeFacts(endpoints);
  const kafka = createKafka({
    brokers: options.brokers,
    clientId: 'taobi-cli-replay',
    logger: createLogger({ name: 'taobi-cli', level: 'error' }),
  });
  const topic = topicNames(options.topicPrefix).consumption;
  const memberId = options.member;
  let lastProgress = 0;
  const onProgress = (read: bigint, total: bigint) => {
    if (Date.now() - lastProgress < 500 && read < total) return;
    lastProgress = Date.now();
    err(`reading ${topic}: ${progressBar(Number(read), Number(total))} records\n`);
  };

  if (memberId !== undefined) {
    let partition = -1;
    const { records, ranges } = await readPartitions(
      kafka,
      topic,
      (count) => {
        partition = partitionForKey(memberId, count);
        err(`reading partition ${partition} of ${topic} (murmur2 of ${memberId}) from its earliest offset\n`);
        return [partition];
      },
      onProgress,
      options.stallMs,
    );
    const log = records.filter((r) => r.key === memberId);
    const result = await replayOne(
      endpoints,
      facts,
      memberId,
      log,
      logStartOf(
        ranges.find((r) => r.partition === partition),
        records,
      ),
    );
    if (result.differences.length === 0) console.log('identical');
    printResult(result);
    err(
      `${memberId}: ${log.length} records, ${result.checked.versions} score versions and ${result.checked.decisions} tier decisions compared\n`,
    );
    return result.differences.length === 0 ? 0 : 1;
  }

  const { records, ranges } = await readPartitions(kafka, topic, 'all', onProgress, options.stallMs);
  const byMember = new Map<string, LogRecord[]>();
  for (const record of records) {
    if (record.key === null) continue;
    const list = byMember.get(record.key) ?? [];
    list.push(record);
    byMember.set(record.key, list);
  }
  const members = [...byMember.keys()].sort();
  let different = 0;
  let lines = 0;
  for (const [index, member] of members.entries()) {
    const log = byMember.get(member) ?? [];
    const partition = log[0]?.partition;
    const result = await replayOne(
      endpoints,
      facts,
      member,
      log,
      logStartOf(
        ranges.find((r) => r.partition === partition),
        records,
      ),
    );
    if (result.differences.length > 0) {
      different += 1;
      lines += result.differences.length;
      printResult(result, `${member}: `);
    }
    err(`replaying ${progressBar(index + 1, members.length)} members, ${different} with differences\n`);
  }
  console.log(
    different === 0
      ? `identical: ${members.length} members replayed from ${records.length} records`
      : `${different} of ${members.length} members differ (${lines} differences); ${members.length - different} identical`,
  );
  return different === 0 ? 0 : 1;
}
