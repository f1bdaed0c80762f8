import { withTimeout } from './timeout';

/** A dependency probe: resolves when the dependency answers, rejects otherwise. */
export type ReadinessCheck = () => Promise<unknown>;

export type FatalListener = (component: string, error: Error) => void;

/**
 * What `/readyz` answers from: dependencies probed on each request (Kafka, Postgres, Redis) and
 * components that report their own state as it changes (each consumer). Ready when every entry is
 * `ok`. A component that dies for good says so here; `runService` listens and exits 1 so the
 * supervisor restarts the process, and in-process tests see the state instead of a dead worker.
 */
export interface Readiness {
  /** A dependency asked at each `/readyz`: `ok`, or `unavailable: <why>`. */
  probe(name: string, check: ReadinessCheck): void;
  /** A component's state: `ok` when ready, otherwise a short reason such as `joining`. */
  set(name: string, state: string): void;
  /** Forgets a component (a start-up step that finished). */
  clear(name: string): void;
  /** The component died for good: `/readyz` names it `dead: <why>` and every fatal listener runs. */
  fatal(name: string, error: Error): void;
  onFatal(listener: FatalListener): void;
  /** Every entry now, each probe bounded by `timeoutMs`. */
  evaluate(timeoutMs: number): Promise<{ ready: boolean; checks: Record<string, string> }>;
}

export function createReadiness(probes: Record<string, ReadinessCheck> = {}): Readiness {
  const checks = new Map(Object.entries(probes));
  const states = new Map<string, string>();
  const listeners: FatalListener[] = [];
  return {
    probe(name, check) {
      checks.set(name, check);
    },
    set(name, state) {
      // A dead component stays dead: a later stop() must not make the process look healthy again.
      if (!states.get(name)?.startsWith('dead')) states.set(name, state);
    },
    clear(name) {
      states.delete(name);
    },
    fatal(name, error) {
      states.set(name, `dead: ${error.message}`);
      for (const listener of listeners) listener(name, error);
    },
    onFatal(listener) {
      listeners.push(listener);
    },
    async evaluate(timeoutMs) {
      const probed = await Promise.all(
        [...checks].map(async ([name, check]) => {
          try {
            await withTimeout(check(), timeoutMs);
            return [name, 'ok'] as const;
          } catch (error) {
            return [name, `unavailable: ${(error as Error).message}`] as const;
          }
        }),
      );
      const entries = [...probed, ...states];
      return {
        ready: entries.every(([, state]) => state === 'ok'),
        checks: Object.fromEntries(entries),
      };
    },
  };
}
