import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The console's own stylesheet and script (services/console/public), the same from src and dist. */
export const PUBLIC_DIR = join(__dirname, '..', '..', 'public');

/** The browser libraries, served from node_modules: the console needs no CDN. */
const VENDOR_FILES = {
  'htmx.min.js': join(dirname(require.resolve('htmx.org')), 'htmx.min.js'),
  'chart.umd.min.js': join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'),
};

export async function registerAssets(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/assets/',
    maxAge: '1h',
  });
  await app.register(fastifyStatic, {
    root: [...new Set(Object.values(VENDOR_FILES).map((file) => dirname(file)))],
    prefix: '/vendor/',
    decorateReply: false,
    maxAge: '1d',
    allowedPath: (pathname) => Object.keys(VENDOR_FILES).includes(pathname.replace(/^\//, '')),
  });
}
