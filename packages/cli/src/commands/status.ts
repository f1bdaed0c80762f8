import { SERVICE_NAMES } from '@taobi/platform';
import type { Endpoints } from '../endpoints';

/** `taobi status`: each service's /readyz, one line each. Exit code 1 if any is not ready. */
export async function status(endpoints: Endpoints): Promise<number> {
  let ready = true;
  for (const service of SERVICE_NAMES) {
    const url = `${endpoints.url(service)}/readyz`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      const body = (await response.json()) as { status: string; checks: Record<string, string> };
      const failing = Object.entries(body.checks).filter(([, state]) => state !== 'ok');
      ready &&= response.status === 200;
      console.log(
        `${service.padEnd(17)} ${body.status.padEnd(9)} ${failing.map(([name, state]) => `${name}: ${state}`).join('; ')}`,
      );
    } catch (error) {
      ready = false;
      console.log(`${service.padEnd(17)} down      ${(error as Error).message}`);
    }
  }
  return ready ? 0 : 1;
}
