import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's chromium, which `npm test` installs (infra/bin/chromium.sh); CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A headless Chromium for the browser tests, or a clear error when it is not installed. */
export async function launchBrowser(executablePath = CHROMIUM_PATH): Promise<Browser> {
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium is not installed at ${executablePath}, so the browser tests cannot run. ` +
        "`npm test` installs Debian's chromium when it runs as root (infra/bin/chromium.sh); otherwise " +
        'run `apt-get install -y chromium` as root, or set CHROMIUM_PATH to a Chromium executable.',
    );
  }
  return puppeteer.launch({
    executablePath,
    headless: true,
    // Root in CI has no user namespace sandbox; the pages are the console's own, on loopback.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
  });
}
