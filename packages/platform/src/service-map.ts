/**
 * Every deployable service and its port on the local stack (each `services/<name>/package.json`
 * says the same under `taobi.port`; a test keeps the two in step). Clients that call the services
 * (the CLI, the console) find them here unless told otherwise.
 */
export const SERVICE_PORTS = {
  'ingest-ecommerce': 8081,
  'ingest-food': 8082,
  'ingest-travel': 8083,
  'ingest-mobility': 8084,
  scoring: 8085,
  tier: 8086,
  entitlement: 8087,
  console: 8088,
} as const;

export type ServiceName = keyof typeof SERVICE_PORTS;

export const SERVICE_NAMES = Object.keys(SERVICE_PORTS) as ServiceName[];

/** A service with a JSON API and its OpenAPI document: all but the console (HTML pages). */
export type ApiServiceName = Exclude<ServiceName, 'console'>;

export const API_SERVICE_NAMES = SERVICE_NAMES.filter((name): name is ApiServiceName => name !== 'console');

/**
 * Instance `instance` (0 = the first) of a scaled-out service listens `INSTANCE_PORT_STEP` ports
 * further per instance: `npm start -- --instances 2` runs scoring on 8085 and 8185.
 */
export const INSTANCE_PORT_STEP = 100;

export function instancePort(port: number, instance: number): number {
  return port + instance * INSTANCE_PORT_STEP;
}

/** The variable that overrides a service's base URL: `TAOBI_INGEST_FOOD_URL`, `TAOBI_SCORING_URL`. */
export function serviceUrlVariable(service: ServiceName): string {
  return `TAOBI_${service.toUpperCase().replaceAll('-', '_')}_URL`;
}

/**
 * A service's base URL: its `TAOBI_<SERVICE>_URL` if set, else the local stack's port moved by
 * `TAOBI_PORT_OFFSET` (as `npm start` moves a second stack's ports).
 */
export function serviceUrl(service: ServiceName, env: Record<string, string | number | undefined>): string {
  const explicit = env[serviceUrlVariable(service)];
  if (typeof explicit === 'string' && explicit !== '') return explicit.replace(/\/+$/, '');
  const offset = Number(env.TAOBI_PORT_OFFSET || 0);
  if (!Number.isInteger(offset)) {
    throw new Error(`TAOBI_PORT_OFFSET must be an integer, got ${env.TAOBI_PORT_OFFSET}`);
  }
  return `http://127.0.0.1:${SERVICE_PORTS[service] + offset}`;
}
