import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor } from './kit';

export const REPO_ROOT = resolve(__dirname, '..', '..');

/** A service (or any TypeScript entry point) running as its own Node process, as in production. */
export class ServiceProcess {
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    logFile: string | undefined,
  ) {
    const keep = (chunk: Buffer) => {
      this.output += chunk.toString();
      if (logFile) appendFileSync(logFile, chunk);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
  }

  /**
   * Spawns `node --conditions=source --import tsx <entry> [args]` with `env` over the current
   * environment. With `TAOBI_TEST_LOG_DIR` set, everything it prints is also appended to
   * `<dir>/<name>.log` (`name`: the entry's file name by default), to read after a run that passed.
   */
  static start(
    entry: string,
    env: Record<string, string>,
    args: readonly string[] = [],
    name = entry.replace(/[^a-zA-Z0-9#.-]+/g, '_'),
  ): ServiceProcess {
    const child = spawn(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', resolve(REPO_ROOT, entry), ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info', ...env },
        // A service shuts down when this channel closes: a jest worker that dies leaves no service behind.
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      },
    );
    const dir = process.env.TAOBI_TEST_LOG_DIR;
    if (dir) mkdirSync(dir, { recursive: true });
    return new ServiceProcess(child, dir ? join(dir, `${name}.log`) : undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Waits until `GET <url>/healthz` answers (the process is listening). */
  async waitUntilListening(baseUrl: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        if (this.child.exitCode !== null) throw new Error(`process exited early:\n${this.output}`);
        const response = await fetch(`${baseUrl}/healthz`).catch(() => undefined);
        return response?.status === 200;
      },
      { timeoutMs, description: `${baseUrl} to listen` },
    );
  }

  /**
   * Sends `signal` and waits for the process to exit. One still running `graceMs` later (a shutdown
   * that hangs: a service's own deadline is 15 s) is killed, and its output says so: the test that
   * stopped it fails on the exit it sees instead of holding the suite until jest's hook timeout.
   */
  async stop(
    signal: NodeJS.Signals = 'SIGTERM',
    graceMs = 30_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    this.child.kill(signal);
    const timer = setTimeout(() => {
      this.output += `\n[test kit] still running ${graceMs} ms after ${signal}: killed (SIGKILL)\n`;
      this.child.kill('SIGKILL');
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Whether a process with this pid is running (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
