/**
 * One jest run for the whole repository: co-located unit tests in packages and services, and the
 * integration / end-to-end suites in services/<name>/test and tests/. TypeScript is transformed by
 * swc (no type checking here: `pnpm typecheck` does that), and workspace packages resolve to their
 * sources through the "source" export condition.
 */
// Dependencies that ship only ES modules (Node 20 loads them through require(esm); jest's module
// runtime cannot), or load one with a dynamic import() (@fastify/cookie), so swc compiles them to
// CommonJS like our own sources.
const ESM_ONLY = [
  'cookie',
  'content-disposition',
  '@fastify[+/]cookie',
  '@apidevtools[+/]json-schema-ref-parser',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  testEnvironmentOptions: { customExportConditions: ['source', 'node', 'node-addons'] },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
    '^.+\\.m?js$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(\\.pnpm/)?(${ESM_ONLY.join('|')})[@/])`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: [
    '<rootDir>/packages/*/src/**/*.test.ts',
    '<rootDir>/services/*/src/**/*.test.ts',
    '<rootDir>/services/*/test/**/*.test.ts',
    '<rootDir>/tests/**/*.test.ts',
  ],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  setupFiles: ['<rootDir>/tests/support/jest-setup.ts'],
  globalSetup: '<rootDir>/tests/support/global-setup.ts',
  globalTeardown: '<rootDir>/tests/support/global-teardown.ts',
  testTimeout: 90_000,
  maxWorkers: 2,
  // Each test file loads its own copy of the module graph (kafkajs, fastify, pg, ...). prom-client's
  // default metrics kept every file's copy alive (tests/support/jest-setup.ts): a worker's heap grew
  // 30 to 100 MB a file (--logHeapUsage: 2.9 GB after 55 files) and one reached Node's 4 GB limit.
  // Without them it levels off at a few hundred MB (a Node singleton, such as undici's timer, holds
  // the graph of the file that created it until a later file replaces it). As a guard all the same:
  // above 1 GB after a file, a worker is replaced by a fresh one (about a second).
  workerIdleMemoryLimit: '1GB',
};
