import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './kit';
import { freePort } from './tcp-proxy';

/**
 * A redis-server process of the test's own, on a free port, that the test stops and starts again
 * on the same port: empty, or from a snapshot holding the entries it had, stale ones included, as a
 * Redis restarted from its dump would. The shared Redis is never touched.
 */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'taobi-redis-')));
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again), loading the snapshot the last `stop({ keep: true })` saved. */
  async start(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
        return (await this.command('PING')) === 'PONG';
      },
      { timeoutMs: 10_000, description: `redis-server on port ${this.port}` },
    );
  }

  /** Stops the server; `keep` saves a snapshot first, so the next start has the same entries. */
  async stop(options: { keep: boolean }): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null) {
      await this.command('SHUTDOWN', options.keep ? 'SAVE' : 'NOSAVE').catch(() => undefined);
      await exited;
    }
    if (!options.keep) rmSync(join(this.dir, 'dump.rdb'), { force: true });
  }

  async close(): Promise<void> {
    await this.stop({ keep: false });
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** One command on a connection of its own, failing at once when the server does not answer. */
  private async command(name: string, ...args: string[]): Promise<unknown> {
    const client = new Redis({
      port: this.port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await client.call(name, ...args);
    } finally {
      client.disconnect();
    }
  }
}
