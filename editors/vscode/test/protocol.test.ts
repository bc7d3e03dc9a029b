// The extension's protocol against the real `ctxls` binary ($CTXLS_BIN, else
// ../../target/debug/ctxls): initialized with the options the extension's own mapping
// produces from settings, the model being a scripted OpenAI-compatible server on
// 127.0.0.1. Covers indexing progress, inline completion (and its cancellation), a
// requirement comment's code action run to a `workspace/applyEdit`, completion items
// left to inline completion (`completion.items: false`), show context with
// the project's knowledge, `ctxls/status` around model requests (and a failing one),
// mention completion, a prompt file's code action run to a `workspace/applyEdit`, and
// settings changes, including every setting key the extension exposes.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CancellationTokenSource, ResponseError } from 'vscode-jsonrpc/node';
import type { CodeAction, CompletionList, Diagnostic, InlineCompletionList, TextEdit } from 'vscode-languageserver-protocol';

import {
  ContextResult,
  INVALID_PARAMS,
  inlineCompletionParams,
  lacksInput,
  LIST_PROMPTS,
  ListPromptsResult,
  parseStatus,
  progressKind,
  REQUEST_CANCELLED,
  renderContext,
  STATUS_NOTIFICATION,
  StatusParams,
  VSCODE_TRIGGER_INVOKE,
} from '../src/protocol';
import { PromptCatalog } from '../src/prompts';
import { buildServerOptions, Inspect, leafPaths, Options, TOML_KEYS } from '../src/settings';
import { chatReply, completionReply, ScriptedLlm } from './support/llmServer';
import { binaryUnderTest, CLIENT_CAPABILITIES, LspSession } from './support/lspSession';

const LIB = `mod geometry;
use geometry::Point;
/// Adds two points.
pub fn add(a: Point, b: Point) -> Point {
    
}
// AI: return the point at the origin
pub fn origin() -> Point {
}
`;
const GEOMETRY = `/// A point on the plane.
pub struct Point { pub x: i32, pub y: i32 }
`;
const HTTP = `/// Sends requests to the API.
pub struct HttpClient { pub base: String }
impl HttpClient {
    pub fn send(&self, path: &str) -> u16 { 200 }
}
`;
const API_DOC = `# Shop API

## Orders

An order has an id, a list of items and a total in cents. Orders are created with POST /orders.

## Refunds

A refund returns the total of an order to the customer's card.
`;
/** Opened, never saved: where the completion items are tried. */
const SHAPES = `use crate::geometry::Point;
/// The point mirrored across the x axis.
pub fn mirror(p: Point) -> Point {
    
}
/// The point moved right by one.
pub fn shift(p: Point) -> Point {
    
}
`;
/** A prompt file: on a selection, replacing it, with the user's input. */
const PROMPT = `---
title: Rename fields
applies_to: selection
output: replace
---
Rename the fields of this code: {{input}}
{{selection}}
`;

/** settings.json as a user writes it, read through `inspect` like VS Code does (defaults from package.json). */
function inspectSettings(settings: Record<string, unknown>): Inspect {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8'));
  const properties = manifest.contributes.configuration.properties as Record<string, { default?: unknown }>;
  return (key) => {
    const property = properties[`ctxls.${key}`];
    return property === undefined ? undefined : { defaultValue: property.default, globalValue: settings[`ctxls.${key}`] };
  };
}

function fileUri(file: string): string {
  return `file://${file}`;
}

/** Applies LSP text edits (UTF-16 positions, ASCII text here) to a text. */
function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const offset = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((sum, l) => sum + l.length + 1, 0) + p.character;
  const sorted = [...edits].sort((a, b) => offset(b.range.start) - offset(a.range.start));
  let out = text;
  for (const edit of sorted) {
    out = out.slice(0, offset(edit.range.start)) + edit.newText + out.slice(offset(edit.range.end));
  }
  return out;
}

/** A fresh workspace and cache under the system's temp directory. */
function workspace(): { root: string; cache: string; remove(): void } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ctxls-vscode-test-'));
  const root = path.join(base, 'workspace');
  const cache = path.join(base, 'cache');
  fs.mkdirSync(path.join(root, 'src'), { recursive: true });
  fs.mkdirSync(cache);
  fs.writeFileSync(path.join(root, 'Cargo.toml'), '[package]\nname = "fixture"\nversion = "0.1.0"\nedition = "2021"\n');
  fs.writeFileSync(path.join(root, 'src', 'lib.rs'), LIB);
  fs.writeFileSync(path.join(root, 'src', 'geometry.rs'), GEOMETRY);
  fs.writeFileSync(path.join(root, 'src', 'http.rs'), HTTP);
  fs.mkdirSync(path.join(root, 'docs'));
  fs.writeFileSync(path.join(root, 'docs', 'api.md'), API_DOC);
  fs.writeFileSync(path.join(root, 'AGENTS.md'), 'Amounts are integers in cents.\n');
  fs.mkdirSync(path.join(root, '.ctxls', 'prompts'), { recursive: true });
  fs.writeFileSync(path.join(root, '.ctxls', 'prompts', 'x.md'), PROMPT);
  return { root: fs.realpathSync(root), cache, remove: () => fs.rmSync(base, { recursive: true, force: true }) };
}

/** The server's environment: no API keys or log settings leaking in from the outside. */
function serverEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'CTXLS_LOG', 'CTXLS_CACHE_DIR', 'CTXLS_GENERATORS']) {
    delete env[name];
  }
  return env;
}

async function initialize(session: LspSession, root: string, options: Options): Promise<any> {
  const result = await session.connection.sendRequest('initialize', {
    processId: process.pid,
    clientInfo: { name: 'Visual Studio Code', version: '1.91.0' },
    rootUri: fileUri(root),
    workspaceFolders: [{ uri: fileUri(root), name: path.basename(root) }],
    initializationOptions: options,
    capabilities: CLIENT_CAPABILITIES,
  });
  await session.connection.sendNotification('initialized', {});
  return result;
}

const binary = binaryUnderTest();

describe('the extension against the ctxls binary', { timeout: 90_000 }, () => {
  let llm: ScriptedLlm;
  let session: LspSession;
  let ws: ReturnType<typeof workspace>;
  let lib: string;
  let settings: Record<string, unknown>;
  const apiKey = 'sk-from-vscode-secret-storage';

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
    assert.ok(
      fs.existsSync(binary),
      `no ctxls binary at ${binary}: build it (cargo build) or point CTXLS_BIN at one`,
    );
    llm = await ScriptedLlm.start();
    ws = workspace();
    lib = fileUri(path.join(ws.root, 'src', 'lib.rs'));
    settings = {
      'ctxls.llm.provider': 'openai',
      'ctxls.llm.base_url': `${llm.url}/v1`,
      'ctxls.llm.model': 'qwen2.5-coder-1.5b',
      'ctxls.llm.retries': 0,
      'ctxls.llm.chat.model': 'chat-model-7b',
      'ctxls.hover.explain': false,
      // Left at their defaults: never sent.
      'ctxls.completion.debounce_ms': undefined,
    };
    session = LspSession.start(binary, ws.cache, serverEnv());
  }

  after(() => cleanUp());

  async function cleanUp(): Promise<void> {
    session?.kill();
    await llm?.close();
    ws?.remove();
  }

  test('initialize: the options are the settings the user set, nested like .ctxls.toml', async () => {
    const options = buildServerOptions(inspectSettings(settings), { 'llm.api_key': apiKey });
    // Initialized before anything is asserted: the tests that follow need the session.
    const result = await initialize(session, ws.root, options);
    assert.deepEqual(options, {
      llm: { provider: 'openai', base_url: `${llm.url}/v1`, model: 'qwen2.5-coder-1.5b', retries: 0, chat: { model: 'chat-model-7b' }, api_key: apiKey },
      hover: { explain: false },
      // Not set, sent all the same: VS Code shows the model's completion inline.
      completion: { items: false },
    });
    assert.equal(result.serverInfo?.name, 'ctxls');
    assert.equal(result.capabilities.inlineCompletionProvider, true);
    assert.ok(result.capabilities.executeCommandProvider.commands.includes('ctxls.generate'));
  });

  test('indexing reports $/progress begin ... end on an index token', async () => {
    const created = await session.waitFor('window/workDoneProgress/create', (m) => m.method === 'window/workDoneProgress/create');
    assert.equal(progressKind(created.params.token), 'index');
    const begin = await session.waitFor('progress begin', (m) => m.method === '$/progress' && m.params.value.kind === 'begin');
    assert.match(begin.params.value.title, /^Indexing /);
    await session.waitFor('progress end', (m) => m.method === '$/progress' && m.params.token === created.params.token && m.params.value.kind === 'end');
    const warnings = session.incoming.filter((m) => m.method === 'window/showMessage');
    assert.deepEqual(warnings, [], 'no setting was refused');
  });

  test('inline completion: the item the model streamed, cut to the position; the request as sent', async () => {
    await session.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: lib, languageId: 'rust', version: 1, text: LIB } });
    llm.push(completionReply(['Point { x: a.x + b.x, ', 'y: a.y + b.y }\n}\n\npub fn extra() {}\n']));
    const params = inlineCompletionParams(lib, { line: 4, character: 4 }, VSCODE_TRIGGER_INVOKE);
    assert.equal(params.context.triggerKind, 1, 'VS Code Invoke (0) is LSP Invoked (1)');
    const result = (await session.connection.sendRequest('textDocument/inlineCompletion', params)) as InlineCompletionList;
    assert.deepEqual(
      result.items.map((i) => i.insertText),
      ['Point { x: a.x + b.x, y: a.y + b.y }'],
    );
    assert.deepEqual(result.items[0].range, { start: { line: 4, character: 4 }, end: { line: 4, character: 4 } });
    const sent = llm.requests[0];
    assert.equal(sent.path, '/v1/completions');
    assert.equal(sent.headers.authorization, `Bearer ${apiKey}`, 'the key from secret storage');
    const body = sent.json();
    assert.equal(body.model, 'qwen2.5-coder-1.5b');
    assert.equal(body.stream, true);
    assert.match(body.prompt, /^<\|fim_prefix\|>/, 'the Qwen FIM template, from the model name');
    assert.ok(body.prompt.includes('pub struct Point { pub x: i32, pub y: i32 }'), 'the definition from geometry.rs is in the context');
    assert.ok(body.prompt.includes('<|fim_suffix|>\n}\n// AI: return the point at the origin'), body.prompt);
  });

  test('inline completion: cancelling the request drops the model call', async () => {
    const before = llm.requests.length;
    llm.push({ ...completionReply(['never shown']), delayFirstMs: 10_000 });
    const source = new CancellationTokenSource();
    const started = Date.now();
    const pending = session.connection.sendRequest('textDocument/inlineCompletion', inlineCompletionParams(lib, { line: 8, character: 0 }, VSCODE_TRIGGER_INVOKE), source.token);
    await llm.waitForRequests(before + 1);
    source.cancel();
    await assert.rejects(pending, (error: unknown) => error instanceof ResponseError && error.code === REQUEST_CANCELLED);
    assert.ok(Date.now() - started < 5_000, 'answered at once, not after the model');
    const deadline = Date.now() + 5_000;
    while (llm.hangups < 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(llm.hangups, 1, 'the HTTP request to the model was dropped');
  });

  test('a requirement comment: diagnostic, preferred code action, command, workspace/applyEdit', async () => {
    const published = await session.waitFor(
      'the requirement diagnostic',
      (m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === lib && m.params.diagnostics.length === 1,
    );
    const diagnostic: Diagnostic = published.params.diagnostics[0];
    assert.equal(diagnostic.message, 'AI requirement: return the point at the origin');
    assert.equal(diagnostic.source, 'ctxls');
    assert.equal(diagnostic.range.start.line, 6);

    const actions = (await session.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri: lib },
      range: { start: { line: 6, character: 5 }, end: { line: 6, character: 5 } },
      context: { diagnostics: [diagnostic], triggerKind: 1 },
    })) as CodeAction[];
    const first = actions[0];
    assert.equal(first.title, 'ctxls: Generate from comment');
    assert.equal(first.isPreferred, true);
    assert.equal(first.command?.command, 'ctxls.generate');

    const chatBefore = llm.requests.length;
    llm.push(
      chatReply([
        'src/lib.rs\n<<<<<<< SEARCH\n// AI: return the point at the origin\npub fn origin() -> Point {\n}\n',
        '=======\npub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n}\n>>>>>>> REPLACE\n',
      ]),
    );
    const result: any = await session.connection.sendRequest('workspace/executeCommand', { command: first.command!.command, arguments: first.command!.arguments });
    assert.equal(result.applied, true, JSON.stringify(result));
    assert.deepEqual(result.files, ['src/lib.rs']);

    const chat = llm.requests[chatBefore];
    assert.equal(chat.path, '/v1/chat/completions');
    assert.equal(chat.json().model, 'chat-model-7b', 'the llm.chat override');
    const asked = chat.json().messages.map((m: { content: string }) => m.content).join('\n');
    assert.ok(asked.includes('return the point at the origin'), asked);

    const applyEdit = await session.waitFor('workspace/applyEdit', (m) => m.method === 'workspace/applyEdit');
    assert.deepEqual(applyEdit.answered, { applied: true });
    const changes = applyEdit.params.edit.documentChanges;
    assert.equal(changes.length, 1);
    assert.equal(changes[0].textDocument.uri, lib);
    assert.equal(changes[0].textDocument.version, 1, 'versioned: the open document');
    assert.equal(
      applyEdits(LIB, changes[0].edits),
      LIB.replace('// AI: return the point at the origin\npub fn origin() -> Point {\n}\n', 'pub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n}\n'),
    );
  });

  test('show context: the snippets, rendered as the extension shows them', async () => {
    const result = (await session.connection.sendRequest('workspace/executeCommand', {
      command: 'ctxls.showContext',
      arguments: [{ uri: lib, position: { line: 4, character: 4 }, budget: 256 }],
    })) as ContextResult;
    assert.equal(result.snippets[0]?.path, 'src/geometry.rs', JSON.stringify(result));
    assert.ok(result.tokens <= 256);
    const markdown = renderContext(result, { path: 'src/lib.rs', line: 5 });
    assert.ok(markdown.startsWith('# Context for src/lib.rs:5\n'), markdown);
    assert.ok(markdown.includes('## 1. src/geometry.rs:'), markdown);
    assert.ok(markdown.includes('```rust\n'), markdown);
  });

  test('workspace/didChangeConfiguration: the new layer reaches the model requests; a bad value is named', async () => {
    const changed = buildServerOptions(inspectSettings({ ...settings, 'ctxls.llm.completion.model': 'qwen2.5-coder-0.5b' }), { 'llm.api_key': apiKey });
    await session.connection.sendNotification('workspace/didChangeConfiguration', { settings: changed });
    const before = llm.requests.length;
    llm.push(completionReply(['\n    Point { x: 0, y: 0 }\n}\n']));
    // A position not asked before: nothing is remembered for it, so the model is asked.
    const result = (await session.connection.sendRequest(
      'textDocument/inlineCompletion',
      inlineCompletionParams(lib, { line: 8, character: 0 }, VSCODE_TRIGGER_INVOKE),
    )) as InlineCompletionList | null;
    assert.equal(llm.requests.length, before + 1, JSON.stringify(result));
    assert.equal(llm.requests[before].json().model, 'qwen2.5-coder-0.5b', 'the llm.completion override, sent after startup');
    assert.equal(llm.requests[before].headers.authorization, `Bearer ${apiKey}`);

    const bad = buildServerOptions(inspectSettings({ ...settings, 'ctxls.completion.debounce_ms': 'soon' }), {});
    await session.connection.sendNotification('workspace/didChangeConfiguration', { settings: bad });
    const warning = await session.waitFor('a warning naming the key', (m) => m.method === 'window/showMessage' && /completion\.debounce_ms/.test(m.params.message));
    assert.equal(warning.params.type, 2, 'a warning');
    // Back to the good settings for the tests that follow.
    await session.connection.sendNotification('workspace/didChangeConfiguration', { settings: buildServerOptions(inspectSettings(settings), { 'llm.api_key': apiKey }) });
  });

  test('completion items off (the extension\'s options): an invoked textDocument/completion asks no model, inline completion still does', async () => {
    const shapes = fileUri(path.join(ws.root, 'src', 'shapes.rs'));
    await session.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: shapes, languageId: 'rust', version: 1, text: SHAPES } });
    const inMirror = { line: 3, character: 4 };
    const completion = (position: { line: number; character: number }) =>
      session.connection.sendRequest('textDocument/completion', { textDocument: { uri: shapes }, position, context: { triggerKind: 1 } }) as Promise<CompletionList | null>;

    // Invoked (Ctrl+Space) in a function body, no mention: no item, and no model call,
    // not even one left running in the background past the debounce.
    const before = llm.requests.length;
    const mark = session.mark();
    assert.equal(await completion(inMirror), null);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(llm.requests.length, before, 'the model was not asked');
    assert.deepEqual(statusesSince(mark), [], 'the model never became busy');

    // Ghost text at the same place asks the model, as ever.
    llm.push(completionReply(['Point { x: p.x, y: -p.y }\n}\n']));
    const inline = (await session.connection.sendRequest('textDocument/inlineCompletion', inlineCompletionParams(shapes, inMirror, VSCODE_TRIGGER_INVOKE))) as InlineCompletionList;
    assert.deepEqual(inline.items.map((i) => i.insertText), ['Point { x: p.x, y: -p.y }']);
    assert.equal(llm.requests.length, before + 1, 'one model call');
    assert.equal(llm.requests[before].path, '/v1/completions');

    // The setting is what holds it back: the user turning it on sends true, and the same
    // request elsewhere asks the model (answered past the debounce, then from memory).
    const on = buildServerOptions(inspectSettings({ ...settings, 'ctxls.completion.items': true }), { 'llm.api_key': apiKey });
    assert.deepEqual(on.completion, { items: true });
    await session.connection.sendNotification('workspace/didChangeConfiguration', { settings: on });
    const inShift = { line: 7, character: 4 };
    const asked = session.mark();
    llm.push(completionReply(['Point { x: p.x + 1, y: p.y }\n}\n']));
    await completion(inShift);
    await llm.waitForRequests(before + 2);
    assert.equal(llm.requests[before + 1].path, '/v1/completions');
    await session.waitFor('ready', (m) => m.method === STATUS_NOTIFICATION && m.params.model === 'ready', 10_000, asked);
    const list = await completion(inShift);
    assert.deepEqual(list?.items.map((i) => i.insertText ?? (i.textEdit as TextEdit | undefined)?.newText), ['Point { x: p.x + 1, y: p.y }'], JSON.stringify(list));
    assert.equal(llm.requests.length, before + 2, 'served from memory');

    // Back to the extension's options for the tests that follow.
    await session.connection.sendNotification('workspace/didChangeConfiguration', { settings: buildServerOptions(inspectSettings(settings), { 'llm.api_key': apiKey }) });
    assert.equal(await completion({ line: 8, character: 0 }), null);
    assert.equal(llm.requests.length, before + 2);
  });

  /** The `ctxls/status` notifications since `mark`, as the extension parses them. */
  function statusesSince(mark: number): (StatusParams | undefined)[] {
    return session
      .since(mark)
      .filter((m) => m.method === STATUS_NOTIFICATION)
      .map((m) => parseStatus(m.params));
  }

  /** `ctxls.explain` on `add` (the model's reply is pushed by the caller). */
  function explainAdd(): Promise<unknown> {
    return session.connection.sendRequest('workspace/executeCommand', {
      command: 'ctxls.explain',
      arguments: [{ uri: lib, range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } } }],
    });
  }

  test('ctxls/status: busy while a model request runs, then ready', async () => {
    const mark = session.mark();
    llm.push({ ...chatReply(['Adds the coordinates of two points.']), delayFirstMs: 200 });
    const pending = explainAdd();
    // Busy is sent while the model works, before the answer.
    await session.waitFor('busy', (m) => m.method === STATUS_NOTIFICATION && m.params.model === 'busy', 10_000, mark);
    const result = (await pending) as { markdown: string };
    assert.equal(result.markdown, 'Adds the coordinates of two points.');
    await session.waitFor('ready', (m) => m.method === STATUS_NOTIFICATION && m.params.model === 'ready', 10_000, mark);
    assert.deepEqual(statusesSince(mark), [{ model: 'busy' }, { model: 'ready' }]);
  });

  test('ctxls/status: a model answering 500 is an error with the reason, until a request succeeds', async () => {
    const mark = session.mark();
    const before = llm.requests.length;
    llm.push({ status: 500, contentType: 'application/json', chunks: ['{"error":{"message":"the GPU caught fire"}}'] });
    await assert.rejects(explainAdd(), (error: unknown) => error instanceof ResponseError && /Explain/.test(error.message));
    assert.equal(llm.requests.length, before + 1, 'retries = 0: asked once');
    const error = await session.waitFor('error', (m) => m.method === STATUS_NOTIFICATION && m.params.model === 'error', 10_000, mark);
    const status = parseStatus(error.params);
    assert.equal(status?.model, 'error');
    assert.match(status?.message ?? '', /500/, JSON.stringify(error.params));
    assert.deepEqual(statusesSince(mark).map((s) => s?.model), ['busy', 'error']);

    const again = session.mark();
    llm.push(chatReply(['Adds two points.']));
    await explainAdd();
    await session.waitFor('ready', (m) => m.method === STATUS_NOTIFICATION && m.params.model === 'ready', 10_000, again);
    assert.deepEqual(statusesSince(again), [{ model: 'busy' }, { model: 'ready' }]);
  });

  test('show context with a query: the instructions, mentions and documents a chat request would include', async () => {
    const query = 'send the order with @HttpClient::send as @docs/api.md#orders says; not @NoSuchThing';
    const result = (await session.connection.sendRequest('workspace/executeCommand', {
      command: 'ctxls.showContext',
      arguments: [{ uri: lib, position: { line: 4, character: 4 }, query }],
    })) as ContextResult;
    const json = JSON.stringify(result, null, 1);
    assert.equal(result.query, query);
    assert.deepEqual(result.instructions?.map((i) => i.path), ['AGENTS.md'], json);
    const mentions = new Map(result.mentions?.map((m) => [m.mention, m]));
    assert.equal(mentions.get('@HttpClient::send')?.path, 'src/http.rs', json);
    assert.match(mentions.get('@HttpClient::send')?.text ?? '', /pub fn send/, json);
    assert.equal(mentions.get('@docs/api.md#orders')?.path, 'docs/api.md', json);
    assert.deepEqual(result.unresolved?.map((u) => u.mention), ['@NoSuchThing'], json);
    assert.ok(result.documents?.some((d) => d.path === 'docs/api.md'), json);

    const markdown = renderContext(result, { path: 'src/lib.rs', line: 5 });
    for (const part of ['## Instructions', '- `AGENTS.md`: ', '## Mentions', '### @HttpClient::send: ', '- `@NoSuchThing`: ', '## Documents', '### 1. docs/api.md#', '## Code']) {
      assert.ok(markdown.includes(part), `${part} in:\n${markdown}`);
    }
  });

  test('mentions: after @ in a comment, the server completes definitions (no model asked)', async () => {
    const notes = fileUri(path.join(ws.root, 'src', 'notes.rs'));
    const requests = llm.requests.length;
    await session.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: notes, languageId: 'rust', version: 1, text: '// see @\n' } });
    const typedAt = (await session.connection.sendRequest('textDocument/completion', {
      textDocument: { uri: notes },
      position: { line: 0, character: 8 },
      context: { triggerKind: 2, triggerCharacter: '@' },
    })) as CompletionList | null;
    assert.ok(typedAt !== null && typedAt.items.length > 0, JSON.stringify(typedAt));
    // Typing on: `// see @Http`, asked again because the list was incomplete.
    await session.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: notes, version: 2 },
      contentChanges: [{ range: { start: { line: 0, character: 8 }, end: { line: 0, character: 8 } }, text: 'Http' }],
    });
    const list = (await session.connection.sendRequest('textDocument/completion', {
      textDocument: { uri: notes },
      position: { line: 0, character: 12 },
      context: { triggerKind: 3 },
    })) as CompletionList | null;
    assert.equal(list?.isIncomplete, true);
    const item = list?.items.find((i) => i.label === 'HttpClient');
    assert.ok(item, JSON.stringify(list));
    assert.equal(item.kind, 22, 'a struct');
    assert.deepEqual(item.textEdit, { range: { start: { line: 0, character: 8 }, end: { line: 0, character: 12 } }, newText: 'HttpClient' });
    assert.equal(list?.items[0].label, 'HttpClient', 'the best match first');
    assert.equal(llm.requests.length, requests, 'mentions never ask the model');
  });

  test('a prompt file: listed, offered on a selection, refused without input, applied with it', async () => {
    const geometry = fileUri(path.join(ws.root, 'src', 'geometry.rs'));
    await session.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: geometry, languageId: 'rust', version: 1, text: GEOMETRY } });
    const listed = (await session.connection.sendRequest('workspace/executeCommand', { command: LIST_PROMPTS, arguments: [{ uri: geometry }] })) as ListPromptsResult;
    assert.deepEqual(listed.prompts, [
      { name: 'x', title: 'Rename fields', path: '.ctxls/prompts/x.md', appliesTo: 'selection', languages: [], output: 'replace', needsInput: true },
    ]);

    const codeActions = (range: { start: { line: number; character: number }; end: { line: number; character: number } }) =>
      session.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: geometry }, range, context: { diagnostics: [], triggerKind: 1 } }) as Promise<CodeAction[]>;
    const atCursor = await codeActions({ start: { line: 1, character: 4 }, end: { line: 1, character: 4 } });
    assert.ok(!atCursor.some((a) => a.command?.command === 'ctxls.runPrompt'), 'a selection prompt needs a selection');
    const selection = { start: { line: 1, character: 0 }, end: { line: 1, character: 43 } };
    const action = (await codeActions(selection)).find((a) => a.command?.command === 'ctxls.runPrompt');
    assert.ok(action, 'the prompt is offered on the selection');
    assert.equal(action.title, 'ctxls: Rename fields…', 'the title says it needs input');
    assert.equal(action.kind, 'refactor.ctxls.prompt');
    const args = action.command!.arguments!;
    assert.deepEqual(args, [{ name: 'x', uri: geometry, range: selection, needsInput: true }], 'the argument says it needs input too');
    // What the extension makes of it.
    assert.equal(lacksInput('ctxls.runPrompt', args), true);
    const catalog = new PromptCatalog();
    catalog.noteCommand(action.command!);
    assert.deepEqual(catalog.get('x'), { title: 'Rename fields', needsInput: true });

    const before = llm.requests.length;
    await assert.rejects(
      session.connection.sendRequest('workspace/executeCommand', { command: 'ctxls.runPrompt', arguments: args }),
      (error: unknown) => error instanceof ResponseError && error.code === INVALID_PARAMS && /`input`/.test(error.message),
    );
    assert.equal(llm.requests.length, before, 'no model asked without the input');

    const mark = session.mark();
    llm.push(chatReply(['```rust\npub struct Point { pub left: i32, ', 'pub top: i32 }\n```\n']));
    const input = 'x becomes left, y becomes top';
    const result = (await session.connection.sendRequest('workspace/executeCommand', { command: 'ctxls.runPrompt', arguments: [{ ...args[0], input }] })) as { applied: boolean };
    assert.equal(result.applied, true, JSON.stringify(result));
    const asked = llm.requests[before].json().messages.map((m: { content: string }) => m.content).join('\n');
    assert.ok(asked.includes(`Rename the fields of this code: ${input}`), asked);
    assert.ok(asked.includes('pub struct Point { pub x: i32, pub y: i32 }'), asked);
    const applyEdit = await session.waitFor('workspace/applyEdit', (m) => m.method === 'workspace/applyEdit', 10_000, mark);
    const changes = applyEdit.params.edit.documentChanges;
    assert.deepEqual(changes.map((c: { textDocument: { uri: string; version: number } }) => c.textDocument), [{ uri: geometry, version: 1 }]);
    assert.equal(applyEdits(GEOMETRY, changes[0].edits), GEOMETRY.replace('pub struct Point { pub x: i32, pub y: i32 }', 'pub struct Point { pub left: i32, pub top: i32 }'));
  });

  test('every ctxls/status the server sent is what the extension parses', () => {
    const statuses = session.incoming.filter((m) => m.method === STATUS_NOTIFICATION);
    assert.ok(statuses.length >= 6, 'sent around each model request');
    for (const status of statuses) {
      assert.notEqual(parseStatus(status.params), undefined, JSON.stringify(status.params));
    }
  });

  test('shutdown and exit end the process', async () => {
    assert.equal(await session.shutdown(), 0);
  });
});

describe('every setting the extension exposes is a key the server knows', { timeout: 60_000 }, () => {
  test('all keys set at once: no setting refused', async () => {
    const ws = workspace();
    const closed = 'http://127.0.0.1:9/v1';
    const values: Record<string, unknown> = {
      'index.max_file_size': 2_000_000,
      'index.max_line_length': 5000,
      'index.exclude': ['generated/**'],
      'index.generated_files': 'full',
      'llm.provider': 'openai',
      'llm.base_url': closed,
      'llm.model': 'qwen2.5-coder-7b',
      'llm.api_key_env': 'CTXLS_TEST_KEY',
      'llm.fim': 'qwen',
      'llm.fim_stop': ['<|endoftext|>'],
      'llm.max_tokens': 128,
      'llm.temperature': 0.1,
      'llm.timeout_connect_ms': 500,
      'llm.timeout_first_token_ms': 5000,
      'llm.timeout_total_ms': 30000,
      'llm.max_in_flight': 2,
      'llm.retries': 0,
      'llm.redact_secrets': true,
      'embedding.provider': 'openai',
      'embedding.base_url': closed,
      'embedding.model': 'text-embedding-3-small',
      'embedding.api_key_env': 'CTXLS_TEST_EMBED_KEY',
      'completion.debounce_ms': 75,
      'completion.context_tokens': 512,
      'completion.in_comments': true,
      'completion.items': true,
      'hover.explain': false,
      'hover.timeout_ms': 1000,
      'instructions.max_tokens': 256,
      'documents.enabled': false,
      'documents.max_tokens': 512,
      'documents.in_completion': true,
      'mentions.max_tokens': 2048,
      'requirements.act_prefixes': ['AI:', 'TODO(ai):'],
      'requirements.act_suffixes': ['AI!'],
      'requirements.ask_suffixes': ['AI?'],
    };
    for (const task of ['completion', 'chat']) {
      Object.assign(values, {
        [`llm.${task}.provider`]: 'openai',
        [`llm.${task}.base_url`]: closed,
        [`llm.${task}.model`]: `${task}-model`,
        [`llm.${task}.api_key_env`]: 'CTXLS_TEST_KEY',
        [`llm.${task}.max_tokens`]: 64,
        [`llm.${task}.temperature`]: 0.3,
        [`llm.${task}.fim`]: 'deepseek',
      });
    }
    assert.deepEqual(Object.keys(values).sort(), [...TOML_KEYS].sort(), 'the list covers every key');
    const options = buildServerOptions(inspectSettings(Object.fromEntries(Object.entries(values).map(([k, v]) => [`ctxls.${k}`, v]))), {
      'llm.api_key': 'sk-1',
      'embedding.api_key': 'sk-2',
    });
    assert.equal((options.completion as Options).items, true, 'the user\'s value, not the extension\'s false');
    assert.deepEqual(leafPaths(options).sort(), [...TOML_KEYS, 'llm.api_key', 'embedding.api_key'].sort(), 'every key is sent');
    const session = LspSession.start(binary, ws.cache, serverEnv());
    try {
      await initialize(session, ws.root, options);
      // Configuration issues are shown right after `initialized`, before indexing begins.
      await session.waitFor('indexing begins', (m) => m.method === '$/progress' && m.params.value.kind === 'begin');
      const refused = session.incoming.filter((m) => m.method === 'window/showMessage').map((m) => m.params.message);
      assert.deepEqual(refused, []);
      assert.equal(await session.shutdown(), 0);
    } finally {
      session.kill();
      ws.remove();
    }
  });
});
