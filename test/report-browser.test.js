// The report as a person sees it: report.html in headless Chromium (the system's,
// never a downloaded one). Every image loads, nothing logs an error, and a
// full-page screenshot is saved for a human to look at.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../dist/report/index.js';
import { fakeReportInput } from './fixtures/report/fake-input.js';
import { testIf } from './support/conditional.js';

// TORCHFIT_CHROMIUM points elsewhere (e.g. to check the message below when it is missing).
const CHROMIUM = process.env.TORCHFIT_CHROMIUM ?? '/usr/bin/chromium';
// Chromium is part of the set-up: a missing one fails the test below unless this is set.
const withBrowser = testIf(process.env.TORCHFIT_SKIP_BROWSER !== '1', 'TORCHFIT_SKIP_BROWSER=1');

withBrowser('report.html renders in Chromium: all images load, no console or page errors', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.fail(`${CHROMIUM} not found: run \`npm run setup\` (it installs Debian's chromium), or set TORCHFIT_SKIP_BROWSER=1 to skip this test`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const dir = await mkdtemp(join(tmpdir(), 'torchfit-report-browser-'));
  const files = await writeReport(fakeReportInput(), join(dir, 'report'));

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  const external = [];
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) external.push(r.url());
  });

  await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });
  const images = await page.$$eval('img', (imgs) =>
    imgs.map((img) => ({ src: img.getAttribute('src'), complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight })),
  );
  t.is(images.length, files.figures.length / 2, 'one <img> per figure');
  for (const img of images) {
    t.true(img.complete && img.naturalWidth > 0 && img.naturalHeight > 0, `${img.src} loaded (${img.naturalWidth}×${img.naturalHeight})`);
  }
  t.deepEqual(problems, []);
  t.deepEqual(external, [], 'no request leaves the report folder');
  t.is(await page.title(), 'Fashion-MNIST: CNN vs ResNet <test & "escape">');
  // Nothing sticks out sideways at a laptop width.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  t.true(overflow <= 0, `no horizontal scrolling (${overflow} px)`);

  const shot = join(dir, 'report-full-page.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.true(existsSync(shot));
  // Left in the temporary folder, with the report, for a human to look at.
  t.log(`full-page screenshot: ${shot} (report: ${files.html})`);
});
