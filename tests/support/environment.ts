import { execFileSync } from 'node:child_process';

/** Where a test suite finds its Kafka, Postgres and Redis. */
export interface TestEnvironment {
  kafkaBrokers: string[];
  databaseUrl: string;
  redisUrl: string;
  /** Stops what was started for the run (testcontainers); a no-op for given endpoints. */
  stop: () => Promise<void>;
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * 1. The endpoints in the environment (KAFKA_BROKERS, DATABASE_URL, REDIS_URL), as `npm test` and
 *    CI set them after bringing up the local stack;
 * 2. otherwise containers, when a Docker engine answers;
 * 3. otherwise a clear error saying how to get the local stack.
 */
export async function resolveTestEnvironment(
  env: Record<string, string | undefined> = process.env,
): Promise<TestEnvironment> {
  const { KAFKA_BROKERS, DATABASE_URL, REDIS_URL } = env;
  if (KAFKA_BROKERS && DATABASE_URL && REDIS_URL) {
    return {
      kafkaBrokers: KAFKA_BROKERS.split(','),
      databaseUrl: DATABASE_URL,
      redisUrl: REDIS_URL,
      stop: async () => undefined,
    };
  }
  if (dockerAvailable()) return startContainers();
  throw new Error(
    [
      'No Kafka, Postgres and Redis for the tests.',
      'Run the tests with `npm test` (it starts the local no-Docker stack), or start the stack with',
      '`npm run infra:up` and set KAFKA_BROKERS=127.0.0.1:9092',
      'DATABASE_URL=postgres://postgres@127.0.0.1:5432/taobi REDIS_URL=redis://127.0.0.1:6379,',
      'or make a Docker engine available so testcontainers can start them.',
    ].join('\n'),
  );
}

async function startContainers(): Promise<TestEnvironment> {
  // Loaded only when used: most runs never touch Docker.
  const { KafkaContainer } = await import('@testcontainers/kafka');
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const { RedisContainer } = await import('@testcontainers/redis');
  const [kafka, postgres, redis] = await Promise.all([
    new KafkaContainer('confluentinc/cp-kafka:7.9.0').withKraft().start(),
    new PostgreSqlContainer('postgres:16-alpine').withDatabase('taobi').withUsername('postgres').start(),
    new RedisContainer('redis:7-alpine').start(),
  ]);
  return {
    kafkaBrokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
    databaseUrl: postgres.getConnectionUri(),
    redisUrl: redis.getConnectionUrl(),
    stop: async () => {
      await Promise.all([kafka.stop(), postgres.stop(), redis.stop()]);
    },
  };
}
