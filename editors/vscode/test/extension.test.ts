// The bundled extension (dist/extension.js) activated in plain Node with a stand-in
// `vscode` module (VS Code cannot run here), driving the real ctxls binary and the
// scripted model server: vscode-languageclient starts the server, the extension's inline
// completion provider and palette commands talk to it, prompt files run from a code
// action, the palette's quick pick or a bare command (asking for input when the prompt
// needs it), mentions complete through vscode-languageclient's provider, next-edit
// suggestions are shown, jumped to, dismissed and accepted (or refused), the status item
// follows the server's `ctxls/status` (a failing model included), a killed server is
// restarted after the backoff, a missing binary is explained, and deactivation ends the
// process.

import * as assert from 'node:assert/strict';
import type * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { chatReply, completionReply, ScriptedLlm } from './support/llmServer';
import { binaryUnderTest } from './support/lspSession';
import { CodeAction, CompletionList, createVscode, Position, Range, Selection, TextDocument, TextEditor, Uri } from './support/vscodeMock';

const LIB = `mod geometry;
use geometry::Point;
/// Adds two points.
pub fn add(a: Point, b: Point) -> Point {
    
}
// AI: return the point at the origin
pub fn origin() -> Point {
}
`;

/**
 * Prompt files: one for a selection, one for the file (an answer shown), one for a
 * requirement comment (not offered on other lines), one for TypeScript only.
 */
const PROMPTS: Record<string, string> = {
  'w.md': '---\ntitle: Answer from the spec\napplies_to: requirement\noutput: message\n---\n{{requirement}}, in the style of {{input}}\n',
  'x.md': '---\ntitle: Rename fields\napplies_to: selection\noutput: replace\n---\nRename in this code: {{input}}\n{{selection}}\n',
  'y.md': '---\ntitle: Review\napplies_to: file\noutput: message\n---\nReview this file for {{input}}:\n{{file}}\n',
  'z.md': '---\ntitle: TS only\napplies_to: file\nlanguages: [typescript]\noutput: message\n---\nLook at {{file}}\n',
};

const packageDir = path.resolve(__dirname, '..', '..');
const bundle = path.join(packageDir, 'dist', 'extension.js');

async function until(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the bundled extension, activated with a stand-in vscode module', { timeout: 90_000 }, () => {
  let llm: ScriptedLlm;
  let base: string;
  let root: string;
  let mock: ReturnType<typeof createVscode>;
  let extension: { activate(context: unknown): Promise<void>; deactivate(): Promise<void> };
  let document: TextDocument;
  /** The stand-in reads these live: changing one is changing the user's setting. */
  let settings: Record<string, unknown>;
  const spawned: cp.ChildProcess[] = [];
  /** Everything the extension wrote to the servers' stdin (JSON-RPC frames). */
  let toServer = '';
  // The module object itself (a namespace import has read-only bindings).
  const childProcess: typeof cp = require('node:child_process');
  const originalSpawn = childProcess.spawn;

  // Node 20 skips `after` when `before` throws: clean up here too.
  before(async () => {
    try {
      await setUp();
    } catch (error) {
      await cleanUp();
      throw error;
    }
  });

  async function setUp(): Promise<void> {
    assert.ok(fs.existsSync(bundle), `${bundle} is missing: run \`npm run bundle\``);
    assert.ok(fs.existsSync(binaryUnderTest()), `no ctxls binary at ${binaryUnderTest()}`);
    llm = await ScriptedLlm.start();
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxls-vscode-ext-'));
    root = path.join(base, 'workspace');
    fs.mkdirSync(path.join(root, 'src'), { recursive: true });
    fs.writeFileSync(path.join(root, 'src', 'lib.rs'), LIB);
    fs.writeFileSync(path.join(root, 'src', 'geometry.rs'), '/// A point on the plane.\npub struct Point { pub x: i32, pub y: i32 }\n');
    fs.writeFileSync(path.join(root, 'src', 'http.rs'), 'pub struct HttpClient { pub base: String }\n');
    fs.mkdirSync(path.join(root, '.ctxls', 'prompts'), { recursive: true });
    for (const [name, text] of Object.entries(PROMPTS)) {
      fs.writeFileSync(path.join(root, '.ctxls', 'prompts', name), text);
    }
    root = fs.realpathSync(root);
    settings = {
      'ctxls.path': binaryUnderTest(),
      'ctxls.server.cacheDir': path.join(base, 'cache'),
      'ctxls.llm.provider': 'openai',
      'ctxls.llm.base_url': `${llm.url}/v1`,
      'ctxls.llm.model': 'qwen2.5-coder-1.5b',
      'ctxls.llm.retries': 0,
      'ctxls.hover.explain': false,
    };
    mock = createVscode({ folder: root, settings });
    document = new TextDocument(Uri.file(path.join(root, 'src', 'lib.rs')), 'rust', 1, LIB);
    mock.documents.push(document);
    // Route `require('vscode')` to the stand-in, and record the processes the bundle starts.
    const Module = require('node:module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request: string, ...rest: unknown[]) {
      return request === 'vscode' ? 'vscode' : resolve.call(this, request, ...rest);
    };
    require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: mock.module } as NodeJS.Module;
    childProcess.spawn = ((...args: Parameters<typeof cp.spawn>) => {
      const child = originalSpawn(...args);
      spawned.push(child);
      const stdin = child.stdin!;
      const write = stdin.write.bind(stdin) as (chunk: unknown, ...rest: unknown[]) => boolean;
      stdin.write = ((chunk: unknown, ...rest: unknown[]) => {
        toServer += String(chunk);
        return write(chunk, ...rest);
      }) as typeof stdin.write;
      return child;
    }) as typeof cp.spawn;
    extension = require(bundle);
  }

  after(() => cleanUp());

  async function cleanUp(): Promise<void> {
    childProcess.spawn = originalSpawn;
    for (const child of spawned) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    }
    await llm?.close();
    if (base) {
      fs.rmSync(base, { recursive: true, force: true });
    }
  }

  const context = () => ({
    subscriptions: [] as { dispose(): unknown }[],
    extensionPath: packageDir,
    extensionUri: Uri.file(packageDir),
    secrets: {
      get: (key: string) => Promise.resolve(key === 'ctxls.llm.api_key' ? 'sk-secret' : undefined),
      store: () => Promise.resolve(),
      delete: () => Promise.resolve(),
      onDidChange: () => ({ dispose() {} }),
    },
  });

  const status = () => mock.statusItems[0];

  test('activation starts the server; the status item shows indexing, then ready', async () => {
    await extension.activate(context());
    assert.equal(spawned.length, 1);
    assert.deepEqual(spawned[0].spawnargs.slice(1), ['serve', '--log', 'warn', '--cache-dir', path.join(base, 'cache')]);
    await until('ready', () => status().text === '$(sparkle) ctxls');
    const tooltip = (status().tooltip as { value: string }).value;
    assert.match(tooltip, /\*\*ctxls 0\.\d+\.\d+\*\*: running/);
    assert.match(tooltip, /Model: ready/);
    assert.deepEqual(mock.shown, [], 'no message');
    for (const id of ['ctxls.palette.generate', 'ctxls.palette.refactor', 'ctxls.showCommands', 'ctxls.restartServer']) {
      assert.ok(mock.commands.has(id), id);
    }
    assert.ok(mock.commands.has('ctxls.generate'), "vscode-languageclient registered the server's command");
    assert.equal(mock.inlineProviders.length, 1, "only the extension's provider, not vscode-languageclient's");
  });

  test('the inline completion provider: an item from the model, busy meanwhile', async () => {
    llm.push({ ...completionReply(['Point { x: a.x + b.x, y: a.y + b.y }']), delayFirstMs: 300 });
    const pending = mock.inlineProviders[0].provideInlineCompletionItems(
      document,
      new Position(4, 4),
      { triggerKind: 1, selectedCompletionInfo: undefined },
      { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) },
    );
    await until('busy', () => status().text === '$(loading~spin) ctxls');
    const items = await pending;
    assert.deepEqual(
      items.map((i: { insertText: string }) => i.insertText),
      ['Point { x: a.x + b.x, y: a.y + b.y }'],
    );
    // The server's `ready` may come just after the answer.
    await until('ready', () => status().text === '$(sparkle) ctxls');
    const request = llm.requests[llm.requests.length - 1];
    assert.equal(request.headers.authorization, 'Bearer sk-secret');
  });

  test('the palette: generate from the comment at the cursor applies the edit', async () => {
    mock.raw.window.activeTextEditor = { document, selection: new Selection(new Position(6, 8), new Position(6, 8)) };
    llm.push(chatReply(['src/lib.rs\n<<<<<<< SEARCH\n// AI: return the point at the origin\npub fn origin() -> Point {\n}\n=======\npub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n}\n>>>>>>> REPLACE\n']));
    const result = (await mock.raw.commands.executeCommand('ctxls.palette.generate')) as { applied: boolean };
    assert.equal(result?.applied, true, JSON.stringify(result) + mock.log.join('\n'));
    // The cancellable notification; the server's own progress for it is not shown twice.
    assert.deepEqual(mock.progressTitles.filter((t) => t.startsWith('ctxls')), ['ctxls: Generate from comment…']);
    assert.ok(mock.progressTitles.includes('Indexing workspace'), "the server's indexing progress is shown");
    const edit = mock.applied[0];
    const [uri, edits] = edit.entries()[0];
    assert.equal(uri.fsPath, document.uri.fsPath);
    assert.ok(edits.some((e) => e.newText.includes('Point { x: 0, y: 0 }')), JSON.stringify(edits));
  });

  test('a code action without an instruction: the refactoring asks for one', async () => {
    mock.inputs.push('use todo!()');
    llm.push(chatReply(['```rust\npub fn add(a: Point, b: Point) -> Point { todo!() }\n```']));
    const range = { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } };
    const result = (await mock.raw.commands.executeCommand('ctxls.refactor', { uri: document.uri.toString(), range })) as { applied: boolean };
    assert.equal(result?.applied, true, JSON.stringify(result));
    const asked = llm.requests[llm.requests.length - 1].json().messages.map((m: { content: string }) => m.content).join('\n');
    assert.ok(asked.includes('use todo!()'), asked);
  });

  /** The chat model's messages of the latest request, joined. */
  const lastAsked = () => llm.requests[llm.requests.length - 1].json().messages.map((m: { content: string }) => m.content).join('\n');
  const listPromptsSent = () => (toServer.match(/"command":"ctxls\.listPrompts"/g) ?? []).length;

  test("a prompt's code action: its title says it needs input, which is asked before the command runs", async () => {
    const listed = listPromptsSent();
    const provider = mock.codeActionProviders[0];
    assert.ok(provider, 'vscode-languageclient registered a code action provider');
    const selection = new Range(new Position(3, 0), new Position(5, 1));
    const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };
    const actions = (await provider.provideCodeActions(document, selection, { diagnostics: [], only: undefined, triggerKind: 1 }, token)) as CodeAction[];
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('ctxls: Review…'), titles.join(', '));
    assert.ok(!titles.includes('ctxls: TS only') && !titles.includes('ctxls: Answer from the spec…'), 'not for Rust, not on a requirement');
    const rename = actions.find((a) => a.title === 'ctxls: Rename fields…');
    assert.ok(rename?.command, titles.join(', '));
    assert.equal(rename.command.command, 'ctxls.runPrompt');

    mock.inputs.push('a becomes left');
    llm.push(chatReply(['```rust\npub fn add(left: Point, b: Point) -> Point {\n    todo!()\n}\n```\n']));
    const applied = mock.applied.length;
    // What VS Code does when the action is chosen: vscode-languageclient's command, with the action's arguments.
    const result = (await mock.raw.commands.executeCommand(rename.command.command, ...(rename.command.arguments ?? []))) as { applied?: boolean };
    assert.equal(result?.applied, true, JSON.stringify(result) + mock.log.join('\n'));
    assert.equal(listPromptsSent(), listed, 'the title said it: no ctxls.listPrompts');
    assert.equal(mock.inputBoxes[mock.inputBoxes.length - 1].title, 'ctxls: Rename fields');
    assert.ok(lastAsked().includes('Rename in this code: a becomes left'), lastAsked());
    const [uri, edits] = mock.applied[applied].entries()[0];
    assert.equal(uri.fsPath, document.uri.fsPath);
    assert.deepEqual(
      edits.map((e) => [e.range.start.line, e.range.end.line, e.newText]),
      [[3, 6, 'pub fn add(left: Point, b: Point) -> Point {\n    todo!()\n}\n']],
    );
  });

  test('a prompt run with no code action seen: ctxls.listPrompts says it needs input, which is asked', async () => {
    const listed = listPromptsSent();
    mock.inputs.push('error handling');
    llm.push(chatReply(['Looks fine.']));
    // The requirement comment: no code action there was asked for, so `w` is unknown.
    const result = (await mock.raw.commands.executeCommand('ctxls.runPrompt', { name: 'w', uri: document.uri.toString(), position: { line: 6, character: 5 } })) as { markdown?: string };
    assert.equal(result?.markdown, 'Looks fine.', JSON.stringify(result) + mock.log.join('\n'));
    assert.equal(listPromptsSent(), listed + 1, 'asked the server which prompts need input');
    assert.equal(mock.inputBoxes[mock.inputBoxes.length - 1].title, 'ctxls: Answer from the spec');
    assert.ok(lastAsked().includes('return the point at the origin, in the style of error handling'), lastAsked());
    assert.equal(mock.progressTitles[mock.progressTitles.length - 1], 'ctxls: Answer from the spec…');
  });

  test("a prompt's input box cancelled: nothing is sent", async () => {
    const requests = llm.requests.length;
    const [asked, shown] = [mock.inputBoxes.length, mock.shown.length];
    mock.inputs.push(undefined);
    const result = await mock.raw.commands.executeCommand('ctxls.runPrompt', { name: 'x', uri: document.uri.toString(), range: { start: { line: 3, character: 0 }, end: { line: 5, character: 1 } } });
    assert.equal(result, undefined);
    assert.equal(mock.inputBoxes.length, asked + 1, 'asked');
    assert.equal(llm.requests.length, requests);
    assert.deepEqual(mock.shown.slice(shown), [], 'no error: the user chose not to');
  });

  test("the palette's Run Prompt: the document's prompts in a quick pick, input asked, run on the selection", async () => {
    mock.raw.window.activeTextEditor = { document, selection: new Selection(new Position(3, 0), new Position(5, 1)) };
    mock.picks.push((items) => items.find((i: { label: string }) => i.label === 'Rename fields…'));
    mock.inputs.push('b becomes right');
    llm.push(chatReply(['```rust\npub fn add(a: Point, right: Point) -> Point {\n    todo!()\n}\n```\n']));
    const applied = mock.applied.length;
    const result = (await mock.raw.commands.executeCommand('ctxls.palette.runPrompt')) as { applied?: boolean };
    assert.equal(result?.applied, true, JSON.stringify(result) + mock.log.join('\n'));
    const shown = mock.quickPicks[mock.quickPicks.length - 1].items.map((i: { label: string; description: string; detail: string }) => [i.label, i.description, i.detail]);
    assert.deepEqual(shown, [
      ['Answer from the spec…', 'on the requirement comment at the cursor, shows the answer, asks for input', '.ctxls/prompts/w.md'],
      ['Rename fields…', 'on the selection, replaces it, asks for input', '.ctxls/prompts/x.md'],
      ['Review…', 'on the file, shows the answer, asks for input', '.ctxls/prompts/y.md'],
    ], 'the TypeScript-only prompt is left out of a Rust file');
    assert.ok(lastAsked().includes('Rename in this code: b becomes right'), lastAsked());
    const [, edits] = mock.applied[applied].entries()[0];
    assert.ok(edits[0].newText.includes('right: Point'), JSON.stringify(edits));
  });

  test("the palette's Run Prompt: a selection prompt with nothing selected says so before asking anything", async () => {
    mock.raw.window.activeTextEditor = { document, selection: new Selection(new Position(4, 2), new Position(4, 2)) };
    mock.picks.push((items) => items.find((i: { label: string }) => i.label === 'Rename fields…'));
    const [asked, shown, requests] = [mock.inputBoxes.length, mock.shown.length, llm.requests.length];
    assert.equal(await mock.raw.commands.executeCommand('ctxls.palette.runPrompt'), undefined);
    assert.equal(mock.inputBoxes.length, asked, 'no input asked');
    assert.deepEqual(mock.shown.slice(shown).map((m) => m.message), ['ctxls: Rename fields applies to a selection: select the code first.']);
    assert.equal(llm.requests.length, requests);
  });

  test('the status quick pick offers Run Prompt in a code file', async () => {
    mock.picks.push(() => undefined);
    await mock.raw.commands.executeCommand('ctxls.showCommands');
    const labels = mock.quickPicks[mock.quickPicks.length - 1].items.map((i: { label: string }) => i.label);
    assert.ok(labels.includes('Run prompt'), labels.join(', '));
  });

  test('mentions: vscode-languageclient completes after @ (its provider is not filtered out)', async () => {
    const registered = mock.completionProviders[0];
    assert.ok(registered, 'a completion provider');
    assert.deepEqual(registered.triggerCharacters.sort(), ['#', '@']);
    const notes = new TextDocument(Uri.file(path.join(root, 'src', 'notes.rs')), 'rust', 1, '// see @Http\n');
    mock.documents.push(notes);
    mock.events.didOpenTextDocument.fire(notes);
    await until('didOpen sent', () => toServer.includes('notes.rs'));
    const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose() {} }) };
    const list = (await registered.provider.provideCompletionItems(notes, new Position(0, 12), token, { triggerKind: 0 })) as CompletionList;
    const item = list.items.find((i) => i.label === 'HttpClient');
    assert.ok(item, JSON.stringify(list));
    assert.equal(item.insertText, 'HttpClient');
    assert.ok(item.range instanceof Range, 'replacing what was typed after @');
    assert.deepEqual([item.range.start.character, item.range.end.character], [8, 12]);
  });

  test('a model failing: the status item shows the error and its reason until a request succeeds', async () => {
    mock.raw.window.activeTextEditor = { document, selection: new Selection(new Position(3, 0), new Position(3, 0)) };
    llm.push({ status: 500, contentType: 'application/json', chunks: ['{"error":{"message":"overloaded"}}'] });
    const shownBefore = mock.shown.length;
    await mock.raw.commands.executeCommand('ctxls.palette.explain');
    await until('the error', () => status().text === '$(warning) ctxls');
    assert.match((status().tooltip as { value: string }).value, /Model: error: .*HTTP 500: overloaded/);
    assert.equal(mock.shown.length - shownBefore, 1, `one message: ${JSON.stringify(mock.shown.slice(shownBefore))}`);
    llm.push(chatReply(['Adds two points.']));
    await mock.raw.commands.executeCommand('ctxls.palette.explain');
    await until('ready again', () => status().text === '$(sparkle) ctxls');
  });

  test('show context opens a markdown document', async () => {
    mock.raw.window.activeTextEditor = { document, selection: new Selection(new Position(4, 4), new Position(4, 4)) };
    await mock.raw.commands.executeCommand('ctxls.palette.showContext');
    assert.equal(mock.opened.length, 1);
    assert.equal(mock.opened[0].language, 'markdown');
    assert.match(mock.opened[0].content ?? '', /^# Context for src\/lib\.rs:5\n[\s\S]*### 1\. src\/geometry\.rs:/);
  });

  test('a failing command says why, once', async () => {
    mock.raw.window.activeTextEditor = { document, selection: new Selection(new Position(1, 0), new Position(1, 0)) };
    const before = mock.shown.length;
    await mock.raw.commands.executeCommand('ctxls.palette.generate');
    const shown = mock.shown.slice(before);
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.match(shown[0].message, /no comment at the position/);
  });

  test("next edit: a changed signature's call in another file shown, Tab jumps, Escape dismisses, declined and stale say why, Tab accepts", async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8'));
    const tab = manifest.contributes.keybindings.find((k: { key: string }) => k.key === 'tab');
    assert.equal(tab.command, 'ctxls.nextEdit.jumpOrAccept');
    assert.match(tab.when, /ctxls\.nextEditVisible/);
    assert.match(tab.when, /!inlineSuggestionVisible/, 'Tab keeps accepting ghost text');
    const escape = manifest.contributes.keybindings.find((k: { key: string }) => k.key === 'escape');
    assert.equal(escape.command, 'ctxls.nextEdit.dismiss');
    assert.match(escape.when, /ctxls\.nextEditVisible.*!inlineSuggestionVisible/);

    const shapesText = 'pub fn scale(x: u32, factor: u32) -> u32 {\n    x * factor\n}\n';
    const reportText = 'use crate::shapes::scale;\npub fn report() -> u32 {\n    let a = scale(1, 2);\n    a + 1\n}\n';
    const rewritten = reportText.replace('scale(1, 2)', 'scale(1, 2, 1)');
    fs.writeFileSync(path.join(root, 'src', 'shapes.rs'), shapesText);
    fs.writeFileSync(path.join(root, 'src', 'report.rs'), reportText);
    const shapes = new TextDocument(Uri.file(path.join(root, 'src', 'shapes.rs')), 'rust', 1, shapesText);
    const report = new TextDocument(Uri.file(path.join(root, 'src', 'report.rs')), 'rust', 1, reportText);
    for (const d of [report, shapes]) {
      mock.documents.push(d);
      mock.events.didOpenTextDocument.fire(d);
    }
    const editor = mock.show(shapes, new Position(0, 40));
    // A parameter added to `scale`, typed in the editor.
    mock.change(shapes, new Range(0, 32, 0, 32), ', depth: u32');
    assert.equal(shapes.lineAt(0).text, 'pub fn scale(x: u32, factor: u32, depth: u32) -> u32 {');
    const answer = (text: string) => chatReply(['```rust\n' + text + '```']);
    const contextKey = () => mock.executed.filter((e) => e.command === 'setContext' && e.args[0] === 'ctxls.nextEditVisible').map((e) => e.args[1]);
    type Shown = { uri: Uri; file: string; place: Range; reason: string; version: number | null; edits?: Array<{ range: Range; newText: string }>; why?: string };
    const suggest = async (): Promise<Shown> => {
      const shown = (await mock.raw.commands.executeCommand('ctxls.nextEdit.suggest')) as Shown | undefined;
      assert.ok(shown, 'a suggestion: ' + JSON.stringify(mock.shown) + mock.log.slice(-5).join('\n'));
      return shown;
    };
    const decorationsOf = (e: TextEditor) => mock.decorationTypes.map((t) => e.decorations.get(t.key) ?? []);

    // Shown: the place in report.rs, the rewrite's edit; the context key set; a hint in the status bar.
    llm.push(answer(rewritten));
    let s = await suggest();
    assert.equal(s.file, 'src/report.rs');
    assert.equal(s.uri.toString(), report.uri.toString());
    assert.equal(s.place.start.line, 2);
    assert.match(s.reason, /scale/);
    assert.equal(s.version, 1);
    assert.deepEqual(
      s.edits?.map((e) => [e.range.start.line, e.range.start.character, e.range.end.line, e.range.end.character, e.newText]),
      [[2, 0, 3, 0, '    let a = scale(1, 2, 1);\n']],
    );
    assert.deepEqual(contextKey().slice(-1), [true]);
    assert.ok(mock.log.some((l) => l.startsWith('[status bar] ctxls: next edit at src/report.rs:3')), mock.log.slice(-3).join('\n'));
    assert.deepEqual(decorationsOf(editor), [[], []], 'nothing drawn in shapes.rs');

    // Tab away from it: jumps (report.rs shown, the cursor at the place), drawn there.
    const applied = mock.applied.length;
    assert.equal(await mock.raw.commands.executeCommand('ctxls.nextEdit.jumpOrAccept'), false);
    const there = mock.raw.window.activeTextEditor as TextEditor;
    assert.equal(there.document, report);
    assert.deepEqual([there.selection.active.line, there.selection.active.character], [2, 4]);
    const [removed, added] = decorationsOf(there);
    assert.deepEqual(removed.map((d: { range: Range }) => [d.range.start.line, d.range.end.line]), [[2, 2]], 'the replaced line marked');
    assert.equal(added.length, 1);
    assert.match(added[0].renderOptions.after.contentText, /^→ let a = scale\(1, 2, 1\);  ctxls: /);
    assert.match(added[0].hoverMessage.value, /```rust\n {4}let a = scale\(1, 2, 1\);\n```/);
    assert.equal(mock.applied.length, applied, 'jumping applies nothing');

    // Escape dismisses.
    await mock.raw.commands.executeCommand('ctxls.nextEdit.dismiss');
    assert.equal(await mock.raw.commands.executeCommand('ctxls.nextEdit.accept'), false);
    assert.deepEqual(decorationsOf(there), [[], []]);
    assert.deepEqual(contextKey().slice(-1), [false]);

    // Declined: the message says why; accepting applies nothing.
    let before = mock.shown.length;
    llm.push(answer(reportText));
    s = await suggest();
    assert.equal(s.edits, undefined);
    assert.equal(s.why, 'the model changed nothing');
    assert.match(mock.shown[before].message, /^ctxls: next edit at src\/report\.rs:3 \(.*scale.*\): no rewrite: the model changed nothing$/);
    assert.equal(await mock.raw.commands.executeCommand('ctxls.nextEdit.accept'), false);
    assert.match(mock.shown[mock.shown.length - 1].message, /nothing to accept: the model changed nothing/);
    assert.equal(mock.applied.length, applied);

    // Stale: report.rs changed after the suggestion; nothing applied.
    llm.push(answer(rewritten));
    s = await suggest();
    assert.equal(s.version, 1);
    mock.change(report, new Range(5, 0, 5, 0), '// later\n');
    before = mock.shown.length;
    assert.equal(await mock.raw.commands.executeCommand('ctxls.nextEdit.jumpOrAccept'), false);
    assert.equal(mock.shown[before].level, 'warning');
    assert.match(mock.shown[before].message, /src\/report\.rs changed since the suggestion \(version 1, now 2\): nothing was applied/);
    assert.equal(mock.applied.length, applied);
    mock.change(report, new Range(5, 0, 6, 0), '');

    // Tab at the place accepts: one WorkspaceEdit, the document exactly the rewrite.
    mock.behaviour.applyEdits = true;
    llm.push(answer(rewritten));
    s = await suggest();
    assert.equal(s.version, 3);
    assert.equal(await mock.raw.commands.executeCommand('ctxls.nextEdit.jumpOrAccept'), true);
    mock.behaviour.applyEdits = false;
    assert.equal(mock.applied.length, applied + 1);
    assert.equal(report.getText(), rewritten);
    assert.deepEqual(decorationsOf(there), [[], []]);
    assert.deepEqual(contextKey().slice(-1), [false]);

    // Automatic (ctxls.nextEdit.auto): an edit pauses, the suggestion comes unasked.
    // (report.rs back to its call with two arguments: the place to suggest again.)
    mock.change(report, new Range(0, 0, 5, 0), reportText);
    settings['ctxls.nextEdit.auto'] = true;
    settings['ctxls.nextEdit.debounce_ms'] = 20;
    mock.show(shapes, new Position(0, 40));
    llm.push(answer(reportText.replace('scale(1, 2)', 'scale(1, 2, 1, 1)')));
    const asked = llm.requests.length;
    mock.change(shapes, new Range(0, 44, 0, 44), ', unit: u32');
    await until('the automatic suggestion', () => contextKey().slice(-1)[0] === true);
    assert.equal(llm.requests.length, asked + 1, 'one model call for the pause');
    const hint = mock.log.filter((l) => l.startsWith('[status bar]')).pop();
    assert.match(hint ?? '', /next edit at src\/report\.rs:3/);
    settings['ctxls.nextEdit.auto'] = false;
    await mock.raw.commands.executeCommand('ctxls.nextEdit.dismiss');
  });

  test('a killed server is restarted after the backoff, with one message', async () => {
    const first = spawned[spawned.length - 1];
    const before = mock.shown.length;
    first.kill('SIGKILL');
    await until('the crash message', () => mock.shown.length > before);
    // The server's last log line, if it wrote one, follows the signal.
    assert.match(mock.shown[before].message, /^ctxls stopped unexpectedly \(killed by SIGKILL(: .+)?\); restarting in 1 s\.$/);
    assert.equal(status().text, '$(debug-restart) ctxls');
    await until('a new process', () => spawned.length === 2 && spawned[1] !== first);
    await until('ready again', () => status().text === '$(sparkle) ctxls');
    assert.equal(mock.shown.length, before + 1, 'no second message');
  });

  test('a ctxls.path naming nothing is explained, with the way out', async () => {
    const before = mock.shown.length;
    const previous = settings['ctxls.path'];
    settings['ctxls.path'] = path.join(base, 'no-such-ctxls');
    await mock.raw.commands.executeCommand('ctxls.restartServer');
    const message = mock.shown[before];
    assert.match(message.message, /ctxls\.path is ".*no-such-ctxls", but .* is not an executable file/);
    assert.deepEqual(message.items, ['Open README', 'Set ctxls.path']);
    assert.equal(status().text, '$(circle-slash) ctxls');
    settings['ctxls.path'] = previous;
    await mock.raw.commands.executeCommand('ctxls.restartServer');
    await until('ready again', () => status().text === '$(sparkle) ctxls');
  });

  test('deactivation ends the server process', async () => {
    const last = spawned[spawned.length - 1];
    await extension.deactivate();
    await until('the process exits', () => last.exitCode !== null || last.signalCode !== null, 8000);
    assert.equal(last.exitCode, 0, 'it exited on `exit`, not killed');
  });
});
