// Slow checks in Debian's Chromium, driven by playwright-core (no browser download):
//   node check.mjs report PAGE.html RECORD.json [SCREENSHOT.png [SECTION]]
//     the page loads without a console error; it shows one row per task of the record, each
//     task in its record state, the run's state and task count; following a link to a failed
//     task opens the rows it is folded in. The screenshot shows the top, or SECTION's (an id).
//   node check.mjs mermaid FILE.mmd...
//     every file renders with the `mermaid` package to an SVG with a node per task.
// Prints what it checked; exits 1 on the first difference.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [mode, ...args] = process.argv.slice(2);
const fail = (message) => {
  console.error(`check.mjs: ${message}`);
  process.exit(1);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  if (mode === 'report') await checkReport(page, errors, ...args);
  else if (mode === 'mermaid') await checkMermaid(page, errors, args);
  else fail(`unknown mode ${mode}: report or mermaid`);
} finally {
  await browser.close();
}

async function checkReport(page, errors, html, recordFile, screenshot, section) {
  const record = JSON.parse(readFileSync(recordFile, 'utf8'));
  await page.goto(pathToFileURL(html).href);
  const shown = await page.$$eval('[data-task]', (els) =>
    els.filter((e) => e.tagName === 'DETAILS').map((e) => [e.dataset.task, e.dataset.state]));
  if (shown.length !== record.tasks.length) fail(`${html}: ${shown.length} task rows, the record has ${record.tasks.length}`);
  const states = new Map(shown);
  for (const task of record.tasks) {
    if (states.get(task.id) !== task.state) fail(`${html}: ${task.id} shown ${states.get(task.id)}, recorded ${task.state}`);
  }
  const runState = await page.textContent('#run-state');
  if (runState !== record.state) fail(`${html}: run shown ${runState}, recorded ${record.state}`);
  const count = await page.textContent('#task-count');
  if (Number(count) !== record.tasks.length) fail(`${html}: task count shown ${count}`);
  if (screenshot) {
    if (section) await page.$eval(`#${section}`, (e) => e.scrollIntoView());
    await page.screenshot({ path: screenshot });
  }
  const failed = record.tasks.find((t) => t.state === 'failed');
  if (failed) {
    const listed = await page.$$eval('#failures tr.failure', (rows) => rows.map((r) => r.dataset.task));
    if (!listed.includes(failed.id)) fail(`${html}: failed task ${failed.id} is not in the failures table`);
    await page.click(`#failures tr[data-task="${failed.id}"] a`);
    const open = await page.$eval(`details[data-task="${failed.id}"]`, (e) => e.open && e.getBoundingClientRect().height > 0);
    if (!open) fail(`${html}: the link to ${failed.id} does not open its row`);
    const text = await page.$eval(`details[data-task="${failed.id}"] .details`, (e) => e.innerText);
    if (!text.includes(failed.failure.message.split('\n')[0])) fail(`${html}: ${failed.id}'s details lack its message`);
  }
  if (errors.length) fail(`${html}: console errors: ${errors.join('; ')}`);
  console.log(`report ${html}: ${shown.length} tasks shown in their states, run ${runState}` +
    (failed ? `, ${failed.id} opened from the failures` : '') + ', no console error');
}

async function checkMermaid(page, errors, files) {
  const require = createRequire(import.meta.url);
  const script = require.resolve('mermaid/dist/mermaid.min.js');
  await page.setContent('<!DOCTYPE html><html><body></body></html>');
  await page.addScriptTag({ path: script });
  await page.evaluate(() => window.mermaid.initialize({ startOnLoad: false }));
  for (const [i, file] of files.entries()) {
    const text = readFileSync(file, 'utf8');
    const result = await page.evaluate(async ([id, text]) => {
      try {
        const { svg } = await window.mermaid.render(id, text);
        const holder = document.createElement('div');
        holder.innerHTML = svg;
        document.body.appendChild(holder);
        const nodes = holder.querySelectorAll('g.node').length;
        holder.remove();
        return { nodes };
      } catch (e) {
        return { error: String(e && e.message || e) };
      }
    }, [`graph${i}`, text]);
    if (result.error) fail(`${file}: mermaid refused it: ${result.error}`);
    const tasks = (text.match(/^\s*t\d+[[(]/gm) || []).length;
    if (result.nodes < tasks) fail(`${file}: ${result.nodes} nodes drawn, ${tasks} declared`);
  }
  if (errors.length) fail(`mermaid: console errors: ${errors.join('; ')}`);
  console.log(`mermaid: ${files.length} graphs rendered`);
}
