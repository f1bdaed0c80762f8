/**
 * Runs in every test file before its modules load (jest's `setupFiles`).
 *
 * prom-client's default metrics start what prom-client has no way to stop: an event-loop-delay
 * histogram sampling every 10 ms and a GC PerformanceObserver, both held by Node until the process
 * exits. A service collects them once per process; a jest worker builds many apps, each with a
 * registry, and each histogram and observer kept its test file's whole module graph alive (the
 * observer's callback closes over prom-client's module scope, the histogram over the async context
 * of the test that built the app): a worker's heap grew about 100 MB a file. In-process apps here
 * collect no default metrics; services started as processes (e2e, benches) still do. (The same
 * prom-client as platform's: jest keys modules by their real path, so this applies to its imports.)
 */
jest.mock('prom-client', () => ({
  ...jest.requireActual<typeof import('prom-client')>('prom-client'),
  collectDefaultMetrics: () => undefined,
}));
