import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { testKafka, waitFor } from './kit';
import { freePort } from './tcp-proxy';

const run = promisify(execFile);
const KAFKA_SH = resolve(__dirname, '..', '..', 'infra', 'bin', 'kafka.sh');

/**
 * A real Kafka broker of the test's own (same jars as the local stack, own ports and data), for
 * tests that stop and restart the broker: outages, recovery, readiness.
 */
export class EphemeralBroker {
  private constructor(
    readonly port: number,
    private readonly env: NodeJS.ProcessEnv,
    private readonly dir: string,
  ) {}

  get brokers(): string[] {
    return [`127.0.0.1:${this.port}`];
  }

  /**
   * A broker for the tests of the calling `describe` block (of the file, called outside any): started
   * in its `beforeAll`, destroyed in its `afterAll`. Returns the getter of the running broker (call it
   * inside a test or a hook).
   */
  static forSuite(): () => EphemeralBroker {
    let broker: EphemeralBroker | undefined;
    beforeAll(async () => {
      broker = await EphemeralBroker.create();
      await broker.start();
    }, 120_000);
    afterAll(async () => {
      await broker?.destroy();
    }, 120_000);
    return () => {
      if (!broker) throw new Error('the suite broker is not running (called outside a test?)');
      return broker;
    };
  }

  /** Reserves ports and a data directory; call `start()` to run it. */
  static async create(): Promise<EphemeralBroker> {
    const port = await freePort();
    const controllerPort = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'taobi-kafka-'));
    const env = {
      ...process.env,
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controllerPort),
      KAFKA_NODE_DIR: dir,
      KAFKA_HEAP: '-Xms128m -Xmx512m',
    };
    return new EphemeralBroker(port, env, dir);
  }

  async start(): Promise<void> {
    await run('bash', [KAFKA_SH, 'start'], { env: this.env, timeout: 120_000 });
  }

  async stop(): Promise<void> {
    // A paused broker would hold SIGTERM until continued: let it go first.
    try {
      this.resume();
    } catch {
      // not running: nothing to resume
    }
    await run('bash', [KAFKA_SH, 'stop'], { env: this.env, timeout: 60_000 });
  }

  /**
   * Freezes the broker process (SIGSTOP): connections stay open but nothing is answered, which is
   * what a broker stuck in a long GC pause or a saturated disk looks like to a client.
   */
  async pause(): Promise<void> {
    const pid = this.pid();
    process.kill(pid, 'SIGSTOP');
    // The signal is only queued: on a loaded machine a thread of the broker can still answer a
    // request before it stops. Return once every thread of the JVM is in the stopped state.
    await waitFor(() => threadStates(pid).every((state) => state === 'T'), {
      timeoutMs: 10_000,
      intervalMs: 5,
      description: `every thread of broker ${pid} stopped`,
    });
  }

  /** Lets a paused broker go on (SIGCONT); it then handles whatever it had received. */
  resume(): void {
    process.kill(this.pid(), 'SIGCONT');
  }

  private pid(): number {
    return Number(readFileSync(join(this.dir, 'broker.pid'), 'utf8').trim());
  }

  /** Stops the broker and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A real 3-node Kafka cluster of the test's own (infra/bin/kafka.sh cluster mode: every node a
 * broker and a controller, replication factor 3, min.insync.replicas 2), on free ports, for tests
 * that lose a broker under load. Never the shared broker.
 */
export class EphemeralCluster {
  private constructor(
    readonly ports: number[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly dir: string,
  ) {}

  get brokers(): string[] {
    return this.ports.map((port) => `127.0.0.1:${port}`);
  }

  static async create(nodes = 3): Promise<EphemeralCluster> {
    const ports: number[] = [];
    const controllerPorts: number[] = [];
    for (let i = 0; i < nodes; i += 1) ports.push(await freePort());
    for (let i = 0; i < nodes; i += 1) controllerPorts.push(await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'taobi-kafka-cluster-'));
    const env = {
      ...process.env,
      KAFKA_CLUSTER_PORTS: ports.join(','),
      KAFKA_CLUSTER_CONTROLLER_PORTS: controllerPorts.join(','),
      KAFKA_CLUSTER_DIR: dir,
      KAFKA_HEAP: '-Xms128m -Xmx384m',
    };
    return new EphemeralCluster(ports, env, dir);
  }

  async start(): Promise<void> {
    await this.kafkaSh('cluster-start', this.ports.length, 240_000);
  }

  /** Kills node `node` (1-based) with SIGKILL: no clean shutdown, no leadership handed over. */
  async kill(node: number): Promise<void> {
    await this.kafkaSh('node-kill', node);
  }

  /** Starts node `node` again on its data; resolves when it answers. */
  async restart(node: number): Promise<void> {
    await this.kafkaSh('node-start', node, 120_000);
  }

  /**
   * The node (1-based, as `kill` takes it) coordinating consumer group `groupId`: the leader of its
   * __consumer_offsets partition, Java's String.hashCode of the id modulo the topic's partitions
   * (as the broker computes it).
   */
  async coordinatorOf(groupId: string): Promise<number> {
    let hash = 0;
    for (const char of groupId) hash = (Math.imul(hash, 31) + (char.codePointAt(0) as number)) | 0;
    const admin = testKafka(this.brokers).admin();
    await admin.connect();
    try {
      // Asks for the group's coordinator: on a new cluster that creates __consumer_offsets.
      await admin.describeGroups([groupId]);
      const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
      const partitions = topics[0]?.partitions ?? [];
      const partition = (hash & 0x7fffffff) % partitions.length;
      return partitions.find((p) => p.partitionId === partition)?.leader as number;
    } finally {
      await admin.disconnect();
    }
  }

  async destroy(): Promise<void> {
    await this.kafkaSh('cluster-stop', this.ports.length, 120_000).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async kafkaSh(command: string, n: number, timeout = 60_000): Promise<void> {
    await run('bash', [KAFKA_SH, command, String(n)], {
      env: { ...this.env, CLUSTER_SIZE: String(this.ports.length) },
      timeout,
    });
  }
}

/** The scheduler state (R, S, D, T, ...) of every thread of a process, from /proc. */
function threadStates(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  });
}
