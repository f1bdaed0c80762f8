import { launchBrowser } from './browser';

describe('the browser of the browser tests', () => {
  it('when Chromium is not installed, then launching fails with a message saying how to install it', async () => {
    await expect(launchBrowser('/nonexistent/chromium')).rejects.toThrow(
      /Chromium is not installed at \/nonexistent\/chromium, so the browser tests cannot run\. `npm test` installs Debian's chromium when it runs as root \(infra\/bin\/chromium\.sh\); otherwise run `apt-get install -y chromium` as root, or set CHROMIUM_PATH/,
    );
  });
});
