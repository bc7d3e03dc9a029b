// The bundled extension (dist/extension.js) activated in plain Node with a stand-in
// `vscode` module (VS Code cannot run here), driving the real ctxls binary and the
// scripted model server: vscode-languageclient starts the server, the extension's inline
// completion provider and palette commands talk to it, the status item follows, a killed
// server is restarted after the backoff, a missing binary is explained, and deactivation
// ends the process.

import * as assert from 'node:assert/strict';
import type * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { chatReply, completionReply, ScriptedLlm } from './support/llmServer';
import { binaryUnderTest } from './support/lspSession';
import { createVscode, Position, Selection, TextDocument, Uri } from './support/vscodeMock';

const LIB = `mod geometry;
use geometry::Point;
/// Adds two points.
pub fn add(a: Point, b: Point) -> Point {
    
}
// AI: return the point at the origin
pub fn origin() -> Point {
}
`;

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
    assert.equal(status().text, '$(sparkle) ctxls');
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

  test('show context opens a markdown document', async () => {
    mock.raw.window.activeTextEditor = { document, selection: new Selection(new Position(4, 4), new Position(4, 4)) };
    await mock.raw.commands.executeCommand('ctxls.palette.showContext');
    assert.equal(mock.opened.length, 1);
    assert.equal(mock.opened[0].language, 'markdown');
    assert.match(mock.opened[0].content ?? '', /^# Context for src\/lib\.rs:5\n[\s\S]*## 1\. src\/geometry\.rs:/);
  });

  test('a failing command says why, once', async () => {
    mock.raw.window.activeTextEditor = { document, selection: new Selection(new Position(1, 0), new Position(1, 0)) };
    const before = mock.shown.length;
    await mock.raw.commands.executeCommand('ctxls.palette.generate');
    const shown = mock.shown.slice(before);
    assert.equal(shown.length, 1, JSON.stringify(shown));
    assert.match(shown[0].message, /no comment at the position/);
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
