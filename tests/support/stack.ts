import { type ConsumingService, consumerGroupId, type TopicNames } from '@taobi/contracts';
import { discoverServices, type ServiceInfo } from '@taobi/infra/services';
import { type ServiceName, serviceUrlVariable } from '@taobi/platform';
import { createTestDatabase, createTestTopics, testEndpoints, testKafka, uniqueId } from './kit';
import { REPO_ROOT, ServiceProcess } from './processes';
import { freePort } from './tcp-proxy';

interface Running {
  info: ServiceInfo;
  port: number;
  env: Record<string, string>;
  process: ServiceProcess;
  /** Revived whenever it exits on its own, as `npm start` does (`supervise`). */
  supervised?: boolean;
  /** What it printed before each supervised restart (for failure messages). */
  restarts?: string[];
}

/**
 * Every service of the repository (or the named ones) as real processes, wired to the run's Kafka,
 * Postgres and Redis under names of this stack's own: a topic prefix (which prefixes the services'
 * consumer groups too), a database and a Redis key prefix. End-to-end tests drive it only through HTTP and Kafka.
 */
export class TestStack {
  private constructor(
    private readonly running: Map<string, Running>,
    /** `TAOBI_<SERVICE>_URL` of every service of this stack, for a client such as the CLI. */
    readonly urlEnv: Record<string, string>,
    readonly topics: TopicNames,
    readonly topicPrefix: string,
    /** The stack's database and Redis key prefix, for tests that check stored state. */
    readonly databaseUrl: string,
    readonly redisPrefix: string,
    private readonly dropDatabase: () => Promise<void>,
  ) {}

  /**
   * `brokers`: another Kafka than the run's (a test's own cluster). `instances`: more than one process
   * of a service, in its consumer group; instance i > 1 is named `<service>#<i>` (as `npm start
   * -- --instances` names them) for `url`, `kill`, `revive`.
   */
  static async start(
    options: {
      services?: string[];
      env?: Record<string, string>;
      brokers?: string[];
      instances?: Record<string, number>;
      /** How long each process may take to listen (default 120 s). */
      readyTimeoutMs?: number;
    } = {},
  ): Promise<TestStack> {
    const all = discoverServices(REPO_ROOT);
    const wanted = options.services ? all.filter((s) => options.services?.includes(s.name)) : all;
    const missing = (options.services ?? []).filter((name) => !all.some((s) => s.name === name));
    if (missing.length > 0) throw new Error(`no such service: ${missing.join(', ')}`);

    const brokers = options.brokers ?? testEndpoints().kafkaBrokers;
    const { prefix, topics } = await createTestTopics(testKafka(brokers));
    const database = await createTestDatabase();
    const redisPrefix = `${uniqueId('stack')}:`;
    const running = new Map<string, Running>();
    const ports = new Map<string, number>();
    for (const info of wanted) ports.set(info.name, await freePort());
    const copies = wanted.flatMap((info) =>
      Array.from({ length: options.instances?.[info.name] ?? 1 }, (_, i) => ({
        info,
        name: i === 0 ? info.name : `${info.name}#${i + 1}`,
      })),
    );
    for (const copy of copies) if (!ports.has(copy.name)) ports.set(copy.name, await freePort());
    // Every process learns where the others listen (the console reads them all; others ignore it).
    const urls = Object.fromEntries(
      wanted.map((info) => [
        serviceUrlVariable(info.name as ServiceName),
        `http://127.0.0.1:${ports.get(info.name)}`,
      ]),
    );
    for (const { info, name } of copies) {
      const port = ports.get(name) as number;
      const env = {
        ...urls,
        PORT: String(port),
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_TOPIC_PREFIX: prefix,
        DATABASE_URL: database.url,
        REDIS_URL: testEndpoints().redisUrl,
        REDIS_KEY_PREFIX: redisPrefix,
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        ...options.env,
      };
      running.set(name, { info, port, env, process: ServiceProcess.start(info.main, env, [], name) });
    }
    const stack = new TestStack(running, urls, topics, prefix, database.url, redisPrefix, database.drop);
    try {
      await Promise.all(
        [...running.keys()].map((name) => stack.waitUntilReady(name, options.readyTimeoutMs)),
      );
    } catch (error) {
      await stack.stop();
      throw error;
    }
    return stack;
  }

  url(service: string): string {
    const entry = this.running.get(service);
    if (!entry) throw new Error(`service ${service} is not part of this stack`);
    return `http://127.0.0.1:${entry.port}`;
  }

  /** The consumer group of a consuming service: its `KAFKA_GROUP_ID`, else derived from the prefix. */
  groupId(service: ConsumingService): string {
    return this.entry(service).env.KAFKA_GROUP_ID ?? consumerGroupId(service, this.topicPrefix);
  }

  /** Resolves when the service's current process exits, with its exit code or signal. */
  exited(service: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.entry(service).process.exited;
  }

  private entry(service: string): Running {
    const entry = this.running.get(service);
    if (!entry) throw new Error(`service ${service} is not part of this stack`);
    return entry;
  }

  /** Everything a service printed so far (for failure messages). */
  output(service: string): string {
    return this.running.get(service)?.process.output ?? '';
  }

  /**
   * A deadline, not a pause: a quiet machine listens in seconds, but eight tsx processes starting
   * at once on two loaded cores have taken over a minute.
   */
  async waitUntilReady(service: string, timeoutMs = 120_000): Promise<void> {
    const entry = this.running.get(service);
    if (!entry) throw new Error(`service ${service} is not part of this stack`);
    await entry.process.waitUntilListening(this.url(service), timeoutMs);
  }

  /** Stops a service (SIGTERM, or SIGKILL to simulate a crash) and starts it again on the same port. */
  async restart(service: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.kill(service, signal);
    this.revive(service);
    await this.waitUntilReady(service);
  }

  async kill(service: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const entry = this.entry(service);
    const killed = entry.process;
    entry.supervised = false; // a test's kill is not a crash: it revives the service itself
    await killed.stop(signal);
  }

  revive(service: string): void {
    const entry = this.entry(service);
    entry.process = ServiceProcess.start(entry.info.main, entry.env, [], service);
    if (entry.restarts !== undefined) this.supervise(service);
  }

  /**
   * Plays the supervisor `npm start` is (and systemd or Kubernetes would be): a service that exits
   * on its own (a consumer that gave up, by design, on a broker gone too long) is started again.
   * `restarts(service)` says what it printed before each exit.
   */
  supervise(...services: string[]): void {
    for (const service of services) {
      const entry = this.entry(service);
      entry.supervised = true;
      entry.restarts ??= [];
      const watched = entry.process;
      void watched.exited.then(() => {
        if (this.stopping || !entry.supervised || entry.process !== watched) return;
        entry.restarts?.push(watched.output.slice(-8000));
        this.revive(service);
      });
    }
  }

  restarts(service: string): string[] {
    return this.entry(service).restarts ?? [];
  }

  private stopping = false;

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.running].map(async ([name, entry]) => {
        const exit = await entry.process.stop('SIGTERM');
        // Killed by the kit (a shutdown that hung): the run says which service and where it was.
        if (exit.signal === 'SIGKILL') {
          process.stderr.write(
            `[TestStack] ${name} hung in its shutdown:\n${entry.process.output.slice(-4000)}\n`,
          );
        }
      }),
    );
    await this.dropDatabase();
  }
}
