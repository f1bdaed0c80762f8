import { callApi, type Endpoints } from '../endpoints';

/**
 * The operator jobs the services expose, over their admin and read APIs (never their databases).
 * Each prints the service's answer as indented JSON, so it can be read or piped to jq.
 */
const print = (label: string, value: unknown) => console.log(`${label}\n${JSON.stringify(value, null, 2)}`);

/** `taobi member <id>`: score and breakdown, contributions, tier, entitlements and 88VIP. */
export async function inspectMember(endpoints: Endpoints, memberId: string): Promise<number> {
  const id = encodeURIComponent(memberId);
  const read = (url: string) => callApi<unknown>(url, { key: endpoints.readKey });
  const [score, history, tier, entitlements, vip88] = await Promise.all([
    read(`${endpoints.url('scoring')}/v1/members/${id}/score`),
    read(`${endpoints.url('scoring')}/v1/members/${id}/score/history`),
    read(`${endpoints.url('tier')}/v1/members/${id}/tier`),
    read(`${endpoints.url('entitlement')}/v1/members/${id}/entitlements`),
    read(`${endpoints.url('entitlement')}/v1/members/${id}/vip88`),
  ]);
  print('score (scoring)', score);
  print('contributions (scoring)', history);
  print('tier (tier)', tier);
  print('entitlements (entitlement)', entitlements);
  print('88VIP (entitlement)', vip88);
  return 0;
}

/** `taobi evaluate [--as-of T]`: the monthly evaluation on scoring, then on tier. */
export async function evaluate(endpoints: Endpoints, asOf: string | undefined): Promise<number> {
  const body = { asOf: asOf ?? new Date().toISOString() };
  const admin = { method: 'POST', key: endpoints.adminKey, body };
  print('scoring evaluation', await callApi(`${endpoints.url('scoring')}/v1/admin/evaluations`, admin));
  print('tier evaluation', await callApi(`${endpoints.url('tier')}/v1/admin/evaluations`, admin));
  return 0;
}

/** `taobi rebuild`: recompute every score from the scoring ledger with the rule set in force. */
export async function rebuild(endpoints: Endpoints): Promise<number> {
  print(
    'rebuild from the ledger (scoring)',
    await callApi(`${endpoints.url('scoring')}/v1/admin/rebuild`, {
      method: 'POST',
      key: endpoints.adminKey,
    }),
  );
  return 0;
}

/** `taobi refill-redis`: rewrite the scoring read model in Redis from Postgres. */
export async function refillRedis(endpoints: Endpoints): Promise<number> {
  print(
    'Redis refill (scoring)',
    await callApi(`${endpoints.url('scoring')}/v1/admin/read-model/refill`, {
      method: 'POST',
      key: endpoints.adminKey,
    }),
  );
  return 0;
}

/** `taobi periodic-grants [--period P]`: issue the periodic benefits now (idempotent). */
export async function periodicGrants(endpoints: Endpoints, period: string | undefined): Promise<number> {
  print(
    'periodic grants (entitlement)',
    await callApi(`${endpoints.url('entitlement')}/v1/admin/periodic-grants`, {
      method: 'POST',
      key: endpoints.adminKey,
      body: period ? { period } : {},
    }),
  );
  return 0;
}
