import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
        return (await this.command('PING').catch(() => '')) === '+PONG';
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
      await this.command('SHUTDOWN', options.keep ? 'SAVE' : 'NOSAVE');
      await exited;
    }
    if (!options.keep) rmSync(join(this.dir, 'dump.rdb'), { force: true });
  }

  async close(): Promise<void> {
    await this.stop({ keep: false });
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * One command on a connection of its own, answered with the raw reply line (`+PONG`); a bare
   * socket rather than a client, which would keep reconnecting to a server being stopped.
   */
  private command(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.port, '127.0.0.1');
      let reply = '';
      socket.setTimeout(5000, () => socket.destroy(new Error(`redis-server on ${this.port} did not answer`)));
      socket.on('connect', () =>
        socket.write(
          `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
        ),
      );
      socket.on('data', (chunk) => {
        reply += chunk.toString();
        if (reply.endsWith('\r\n')) socket.end();
      });
      socket.on('error', reject);
      // SHUTDOWN closes the connection without a reply.
      socket.on('close', () => resolve(reply.trim()));
    });
  }
}
