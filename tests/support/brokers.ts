import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
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
  pause(): void {
    process.kill(this.pid(), 'SIGSTOP');
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
