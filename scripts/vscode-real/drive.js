// Drives code-server (a real VS Code 1.100) in headless Chromium through playwright-core
// and checks the ctxls extension step by step in its UI. Each step waits by polling
// with a generous limit, leaves a screenshot in $SHOTS, and a failure names its step.
// Environment: URL (code-server with ?folder=), SHOTS, MODEL (the scripted model's
// base URL, for /control), CHROMIUM, PLAYWRIGHT (playwright-core's directory).
'use strict';
const { chromium } = require(process.env.PLAYWRIGHT);

const SHOTS = process.env.SHOTS;
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
let page;
let shot = 0;

async function control(change) {
  const response = await fetch(`${process.env.MODEL}/control`, change ? { method: 'POST', body: JSON.stringify(change) } : {});
  return response.json();
}

/** Polls `probe` (a value, or falsy to go on) every 500 ms for `seconds`. */
async function until(what, seconds, probe) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last;
    } catch (error) {
      last = error.message;
    }
    await page.waitForTimeout(500);
  }
  throw new Error(`${what}: not within ${seconds} s (last: ${JSON.stringify(last)?.slice(0, 300)})`);
}

async function step(name, body) {
  log(`step: ${name}`);
  try {
    await body();
    shot += 1;
    await page.screenshot({ path: `${SHOTS}/${String(shot).padStart(2, '0')}-${name}.png` });
  } catch (error) {
    await page.screenshot({ path: `${SHOTS}/FAILED-${name}.png` }).catch(() => {});
    console.error(`FAILED step "${name}": ${error.message}`);
    throw Object.assign(error, { reported: true });
  }
}

const text = (s) => s.replace(/\u00a0/g, ' ');
const editorText = async () => text(await page.locator('.editor-instance .monaco-editor .view-lines').first().innerText());
const statusItem = () => page.locator('.statusbar-item', { hasText: 'ctxls' }).first();
// Ghost text: VS Code renders it as decorations, one span per token, within the line or
// in a view zone of lines of their own; one string per editor line.
const ghosts = async () =>
  (await page.evaluate(() =>
    [...document.querySelectorAll('.monaco-editor .view-line, .monaco-editor .ghost-text')].map((line) =>
      [...line.querySelectorAll('[class*="ghost-text"]')].map((e) => e.innerText).join(''),
    ),
  )).map(text).filter((g) => g.trim());
const fs = require('node:fs');
const onDisk = () => fs.readFileSync(`${process.env.WS}/src/lib.rs`, 'utf8');

async function palette(command) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 20000 });
  await page.keyboard.type(command, { delay: 20 });
  await until(`the palette lists "${command}"`, 20, async () => (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).some((r) => r.includes(command.replace(/^>\s*/, ''))));
  await page.keyboard.press('Enter');
}

// Focuses the text of the active editor: "Focus First Editor Group" (Ctrl+1) from the
// keyboard, a click into the text only if that did not do it (a click can land on a
// hover or a lens that VS Code just laid over the text).
async function focusEditor() {
  const inEditor = () => page.evaluate(() => Boolean(document.activeElement && document.activeElement.closest('.editor-instance .monaco-editor')));
  await page.keyboard.press('Control+1');
  for (let i = 0; i < 10 && !(await inEditor()); i++) await page.waitForTimeout(100);
  if (!(await inEditor())) {
    log('focus: Ctrl+1 left the focus outside the editor; clicking into the text');
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click({ position: { x: 5, y: 5 } });
  }
}

(async () => {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error') log('console.error', m.text().slice(0, 200)); });

    await step('workbench', async () => {
      await page.goto(process.env.URL, { waitUntil: 'domcontentloaded', timeout: 120000 });
      await page.waitForSelector('.monaco-workbench .statusbar', { timeout: 180000 });
    });

    await step('open-lib-rs', async () => {
      await until('Quick Open', 60, async () => {
        await page.locator('.monaco-workbench').click({ position: { x: 700, y: 400 } });
        await page.keyboard.press('Control+P');
        return page.locator('.quick-input-widget input').isVisible();
      });
      await page.keyboard.type('lib.rs', { delay: 20 });
      await until('Quick Open finds lib.rs', 30, async () => (await page.locator('.quick-input-list .monaco-list-row').allInnerTexts()).some((r) => r.includes('lib.rs')));
      await page.keyboard.press('Enter');
      await until('lib.rs in the editor', 60, async () => (await editorText()).includes('AI: return the point at the origin'));
    });

    await step('activated', async () => {
      await until('the ctxls status item', 120, async () => (await statusItem().count()) > 0);
      log('status item:', await statusItem().getAttribute('aria-label'));
    });

    await step('requirement-diagnostic', async () => {
      await page.keyboard.press('Control+Shift+M');
      await until('the requirement in the Problems panel', 90, async () => {
        const problems = text(await page.locator('.markers-panel').innerText());
        return problems.includes('return the point at the origin') && problems;
      });
    });

    const lens = page.locator('.codelens-decoration a', { hasText: /Generate/ });
    await step('generate-lens', async () => {
      // VS Code asks for lenses a moment after the server's refresh, and cancels the asking
      // when the editor loses focus meanwhile (codelensController: onDidBlurEditorText);
      // the Problems panel just took it. A user clicks back into the code: so does this.
      await focusEditor();
      await until('the "ctxls: Generate" code lens', 30, async () => (await lens.count()) > 0);
    });

    await step('generate-applied', async () => {
      await control({
        chat: ['src/lib.rs\n<<<<<<< SEARCH\n// AI: return the point at the origin\npub fn origin() -> Point {\n}\n=======\npub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n}\n>>>>>>> REPLACE\n'],
      });
      await lens.first().click();
      await until('the generated code in the editor', 60, async () => {
        const now = await editorText();
        return now.includes('Point { x: 0, y: 0 }') && !now.includes('AI: return the point') && now;
      });
    });

    await step('undo-reverts', async () => {
      await focusEditor();
      await page.keyboard.press('Control+Z');
      await until('the requirement back after undo', 30, async () => {
        const now = await editorText();
        return now.includes('AI: return the point at the origin') && !now.includes('Point { x: 0, y: 0 }');
      });
    });

    await step('inline-ghost-text', async () => {
      await control({ fim: 'a * b' });
      await focusEditor();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('\npub fn mul(a: i32, b: i32) -> i32 {\n', { delay: 40 });
      try {
        await until('ghost text "a * b"', 60, async () => (await ghosts()).some((g) => g.includes('a * b')));
      } catch (error) {
        log('DOM near ghosts:', await page.evaluate(() => [...document.querySelectorAll('[class*="ghost"], [class*="inline-completion"], [class*="inlineSuggest"]')].map((e) => e.outerHTML.slice(0, 400)).join('\n')));
        log('line:', await page.evaluate(() => [...document.querySelectorAll('.view-line')].map((e) => e.innerHTML).filter((h) => h.includes('a')).slice(-3).join('\n')));
        throw error;
      }
    });

    await step('tab-accepts-once', async () => {
      const fimRequests = async () => (await control()).requests.filter((r) => r.path.endsWith('/completions') && !r.path.endsWith('chat/completions')).length;
      const before = await fimRequests();
      await page.keyboard.press('Tab');
      await page.waitForTimeout(500);
      await page.keyboard.press('Control+S');
      await until('"a * b" accepted and saved', 20, async () => /\n\s*a \* b\s*\n/.test(onDisk()));
      // VS Code asks again right after an accept; the model answers "a * b" again. Give it
      // time, then no ghost text may be shown.
      await page.waitForTimeout(6000);
      const after = (await fimRequests()) - before;
      log(`completion requests: ${before} before Tab, ${after} after it (each answered "a * b")`);
      if (after === 0) log('NOTE: VS Code did not ask again after Tab this time: the no-second-ghost check saw no repeat');
      const left = await ghosts();
      if (left.length) throw new Error(`a second ghost text after Tab: ${JSON.stringify(left)}`);
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(1000);
      const lines = onDisk().split('\n').filter((l) => l.includes('a * b'));
      if (lines.length !== 1 || lines[0].trim() !== 'a * b') throw new Error(`accepted more than once: ${JSON.stringify(lines)}`);
    });

    await step('explain', async () => {
      await control({ chat: ['EXPLAINED: mul multiplies its two arguments.'] });
      await palette('>ctxls: Explain');
      // Shown as a Markdown document from the user's cache (explanations/), in a preview.
      const tab = await until('the explanation opened in a tab', 60, async () =>
        (await page.locator('.tabs-container .tab').allInnerTexts()).find((t) => /src_lib\.rs-[0-9a-f]+\.md/.test(t)));
      log('tab:', tab);
      const dir = `${process.env.CACHE}/explanations`;
      await until('the explanation in the cache directory', 20, () =>
        fs.readdirSync(dir).some((f) => fs.readFileSync(`${dir}/${f}`, 'utf8').includes('EXPLAINED: mul multiplies')));
      await until('the explanation rendered', 30, async () => {
        for (const frame of page.frames()) {
          const body = await frame.evaluate(() => document.body?.innerText ?? '').catch(() => '');
          if (body.includes('EXPLAINED: mul multiplies')) return true;
        }
        return false;
      });
    });

    await step('dead-model', async () => {
      await control({ dead: true });
      await palette('>View: Close All Editors');
      await page.waitForTimeout(1000);
      await page.keyboard.press('Control+P');
      await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 20000 });
      await page.keyboard.type('lib.rs', { delay: 20 });
      await page.waitForTimeout(1500);
      await page.keyboard.press('Enter');
      await until('lib.rs in the editor', 30, async () => (await editorText()).includes('pub fn mul'));
      await focusEditor();
      await page.keyboard.press('Control+End');
      await page.keyboard.type('\npub fn sub(a: i32, b: i32) -> i32 {\n', { delay: 40 });
      await until('the status item shows the model error', 90, async () => {
        const item = statusItem();
        return (await item.locator('.codicon-warning').count()) > 0 || /error/i.test((await item.getAttribute('aria-label')) ?? '');
      });
      await statusItem().hover();
      await until('the status tooltip tells the error', 20, async () => /Model: error/.test(text(await page.locator('.monaco-hover, .workbench-hover').allInnerTexts().then((t) => t.join('\n')))));
    });
    log('all steps passed');
  } finally {
    await browser.close();
  }
})().catch((error) => {
  if (!error.reported) console.error(`FAILED: ${error.stack ?? error}`);
  process.exit(1);
});
