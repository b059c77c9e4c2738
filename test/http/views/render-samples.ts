/**
 * Writes every page with sample data to test-output/pages/*.html, then screenshots each at
 * 1024×768 and 320 px wide, light and dark, into test-output/pages/*.png for a human to look
 * at. Run: npx tsx test/http/views/render-samples.ts  (CHROMIUM=path overrides the browser).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { stylesheet } from '../../../src/http/views/style.js';
import { samples } from './samples.js';

const outDir = join(process.cwd(), 'test-output', 'pages');
await mkdir(join(outDir, 'assets'), { recursive: true });
await writeFile(join(outDir, 'assets', 'style.css'), stylesheet);

// A relative stylesheet path makes the files readable straight from disk (file://).
const pages = samples({ stylesheetHref: 'assets/style.css' });
for (const { name, page } of pages) await writeFile(join(outDir, `${name}.html`), page);
console.log(`wrote ${pages.length} pages to ${outDir}`);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
try {
  const sizes = [
    { suffix: '', width: 1024, height: 768, fullPage: false },
    { suffix: '-320', width: 320, height: 640, fullPage: true },
  ];
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const size of sizes) {
      const context = await browser.newContext({
        viewport: { width: size.width, height: size.height },
        colorScheme,
        javaScriptEnabled: false,
      });
      const tab = await context.newPage();
      for (const { name } of pages) {
        await tab.goto(`file://${join(outDir, `${name}.html`)}`);
        const file = `${name}${size.suffix}${colorScheme === 'dark' ? '-dark' : ''}.png`;
        await tab.screenshot({ path: join(outDir, file), fullPage: size.fullPage });
      }
      await context.close();
    }
  }
  // Keyboard focus, which the static shots above cannot show: skip link, then the button.
  const tab = await browser.newPage({ viewport: { width: 1024, height: 768 } });
  await tab.goto(`file://${join(outDir, 'confirm.html')}`);
  await tab.keyboard.press('Tab');
  await tab.screenshot({ path: join(outDir, 'confirm-focus-skip.png') });
  await tab.keyboard.press('Tab');
  await tab.screenshot({ path: join(outDir, 'confirm-focus-button.png') });
  // An opened mail in the dev inbox (details/summary works without script).
  await tab.goto(`file://${join(outDir, 'dev-inbox.html')}`);
  await tab.click('summary');
  await tab.screenshot({ path: join(outDir, 'dev-inbox-open.png'), fullPage: true });
  console.log(`wrote ${pages.length * 4 + 3} screenshots`);
} finally {
  await browser.close();
}
