// The status item's model, the small protocol helpers and the prompt catalog.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  inlineCompletionParams,
  lacksInput,
  lspTriggerKind,
  needsInstruction,
  PromptInfo,
  parseStatus,
  progressKind,
  renderContext,
  VSCODE_TRIGGER_AUTOMATIC,
  VSCODE_TRIGGER_INVOKE,
} from '../src/protocol';
import { describePrompt, PromptCatalog, promptForLanguage } from '../src/prompts';
import { StatusModel } from '../src/status';

function running(): StatusModel {
  const model = new StatusModel();
  model.setServer({ kind: 'running', version: '0.1.0', binary: '/usr/bin/ctxls' });
  return model;
}

describe('status item', () => {
  test('ready until the server says otherwise', () => {
    const model = running();
    assert.equal(model.modelState(), 'ready');
    assert.equal(model.view().text, '$(sparkle) ctxls');
    assert.match(model.view().tooltip, /ctxls 0\.1\.0\*\*: running/);
  });

  test('ctxls/status error shows the reason; ready clears it', () => {
    const model = running();
    model.setModel({ model: 'error', message: 'http://localhost:11434 is not reachable' });
    const view = model.view();
    assert.equal(view.severity, 'warning');
    assert.equal(view.text, '$(warning) ctxls');
    assert.match(view.tooltip, /Model: error: http:\/\/localhost:11434 is not reachable/);
    model.setModel({ model: 'ready' });
    assert.equal(model.view().severity, 'normal');
  });

  test('in-flight requests are busy, whatever the server last said', () => {
    const model = running();
    model.setModel({ model: 'error', message: 'timeout' });
    const end = model.beginRequest();
    assert.equal(model.modelState(), 'busy');
    assert.match(model.view().tooltip, /Model: busy \(last error: timeout\)/);
    end();
    end();
    assert.equal(model.modelState(), 'error', 'ending twice counts once');
  });

  test('indexing progress shows its percentage until it ends', () => {
    const model = running();
    model.onProgress('ctxls/index/1', 'index', { kind: 'begin', title: 'Indexing project', percentage: 0 });
    model.onProgress('ctxls/index/1', 'index', { kind: 'report', percentage: 42 });
    assert.equal(model.view().text, '$(sync~spin) ctxls 42%');
    assert.match(model.view().tooltip, /Indexing project 42%/);
    model.onProgress('ctxls/index/1', 'index', { kind: 'end', message: '3 files' });
    assert.equal(model.view().text, '$(sparkle) ctxls');
  });

  test("a model action's progress is busy, not indexing", () => {
    const model = running();
    model.onProgress('ctxls/action/1', 'action', { kind: 'begin', title: 'ctxls: Explain' });
    assert.equal(model.modelState(), 'busy');
    assert.equal(model.view().text, '$(loading~spin) ctxls');
  });

  test('restarting and stopped', () => {
    const model = running();
    model.setServer({ kind: 'restarting', inMs: 2000, reason: 'exit code 101' });
    assert.match(model.view().tooltip, /exit code 101\); restarting in 2 s/);
    model.setServer({ kind: 'stopped', reason: 'The ctxls binary was not found.' });
    assert.equal(model.view().severity, 'error');
  });
});

describe('protocol helpers', () => {
  test('ctxls/status payloads are validated', () => {
    assert.deepEqual(parseStatus({ model: 'busy' }), { model: 'busy' });
    assert.deepEqual(parseStatus({ model: 'error', message: 'down' }), { model: 'error', message: 'down' });
    assert.equal(parseStatus({ model: 'sleepy' }), undefined);
    assert.equal(parseStatus(null), undefined);
  });

  test("VS Code's trigger kinds (0, 1) map to LSP's (1, 2)", () => {
    assert.equal(lspTriggerKind(VSCODE_TRIGGER_INVOKE), 1);
    assert.equal(lspTriggerKind(VSCODE_TRIGGER_AUTOMATIC), 2);
    const selected = { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 2 } }, text: 'ab' };
    assert.deepEqual(inlineCompletionParams('file:///a.rs', { line: 1, character: 2 }, VSCODE_TRIGGER_AUTOMATIC, selected), {
      textDocument: { uri: 'file:///a.rs' },
      position: { line: 1, character: 2 },
      context: { triggerKind: 2, selectedCompletionInfo: selected },
    });
  });

  test('a refactoring without an instruction asks for one', () => {
    const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    assert.equal(needsInstruction('ctxls.refactor', [{ uri: 'u', range }]), true);
    assert.equal(needsInstruction('ctxls.refactor', [{ uri: 'u', range, instruction: '  ' }]), true);
    assert.equal(needsInstruction('ctxls.refactor', [{ uri: 'u', range, instruction: 'use iterators' }]), false);
    assert.equal(needsInstruction('ctxls.explain', [{ uri: 'u', range }]), false);
  });

  test('progress tokens', () => {
    assert.equal(progressKind('ctxls/index/abc'), 'index');
    assert.equal(progressKind('ctxls/embed/abc'), 'embed');
    assert.equal(progressKind('ctxls/action/3'), 'action');
    assert.equal(progressKind(7), 'other');
  });

  test('show context renders snippets with their reasons', () => {
    const markdown = renderContext(
      { snippets: [{ path: 'src/a.ts', start_line: 3, end_line: 4, text: 'export const a = 1;\n', score: 0.5, sources: ['symbol', 'lexical'], why: 'defines a', tokens: 7 }], tokens: 7, budget: 100 },
      { path: 'src/b.ts', line: 10 },
    );
    assert.equal(
      markdown,
      '# Context for src/b.ts:10\n\n## Code\n\n1 snippet, 7 of 100 tokens, best first: what the model would be sent with the code around the cursor.\n\n' +
        '### 1. src/a.ts:3-4\n\nscore 0.500 · 7 tokens · from symbol, lexical · defines a\n\n```typescript\nexport const a = 1;\n```\n',
    );
  });

  test('show context renders the knowledge a chat request would include; no query says how to get it', () => {
    const markdown = renderContext(
      {
        snippets: [],
        tokens: 0,
        budget: 100,
        query: 'pay with\n@docs/pay.md#refunds',
        instructions: [{ path: '.ctxls/instructions.md', tokens: 12 }],
        mentions: [{ mention: '@docs/pay.md#refunds', path: 'docs/pay.md', what: 'section Refunds', start_line: 3, end_line: 9, text: '## Refunds\n\n```js\nrefund()\n```\n', summarized: true, tokens: 30 }],
        unresolved: [{ mention: '@Nope', reason: 'nothing named `Nope`' }],
        documents: [{ path: 'api.yaml', title: 'POST /refunds', anchor: 'createRefund', start_line: 20, end_line: 31, text: 'post:\n  operationId: createRefund\n', why: 'words refund', tokens: 1 }],
      },
      { path: 'src/pay.ts', line: 4 },
    );
    assert.equal(
      markdown,
      [
        '# Context for src/pay.ts:4',
        '',
        'Query: pay with @docs/pay.md#refunds',
        '',
        '## Instructions',
        '',
        'Project instructions sent with every chat request about this file:',
        '',
        '- `.ctxls/instructions.md`: 12 tokens',
        '',
        '## Mentions',
        '',
        '### @docs/pay.md#refunds: section Refunds, docs/pay.md:3-9',
        '',
        '30 tokens · summarized to its signatures to fit `mentions.max_tokens`',
        '',
        // The text holds a fence: a longer one encloses it.
        '````markdown',
        '## Refunds',
        '',
        '```js',
        'refund()',
        '```',
        '````',
        '',
        'Named nothing, so not sent:',
        '',
        '- `@Nope`: nothing named `Nope`',
        '',
        '## Documents',
        '',
        '1 section, 1 token, best first.',
        '',
        '### 1. api.yaml#createRefund: POST /refunds',
        '',
        'lines 20-31 · 1 token · words refund',
        '',
        '```yaml',
        'post:',
        '  operationId: createRefund',
        '```',
        '',
        '## Code',
        '',
        '0 snippets, 0 of 100 tokens, best first: what the model would be sent with the code around the cursor.',
        '',
        'Nothing in the workspace was picked for this position.',
        '',
      ].join('\n'),
    );
    const without = renderContext({ snippets: [], tokens: 0, budget: 100, query: null, instructions: [], mentions: [], unresolved: [], documents: [] }, { path: 'a.rs', line: 1 });
    assert.ok(!without.includes('## Mentions') && !without.includes('## Documents') && !without.includes('## Instructions'), without);
    assert.match(without, /listed for a query: run this on a requirement comment, or select the text/);
  });
});

describe('prompt files', () => {
  const prompt = (over: Partial<PromptInfo>): PromptInfo => ({
    name: 'x',
    title: 'Rename fields',
    path: '.ctxls/prompts/x.md',
    appliesTo: 'selection',
    languages: [],
    output: 'replace',
    needsInput: false,
    ...over,
  });

  test('a prompt run without input may need it; other commands never', () => {
    const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } };
    assert.equal(lacksInput('ctxls.runPrompt', [{ name: 'x', uri: 'u', range }]), true);
    assert.equal(lacksInput('ctxls.runPrompt', [{ name: 'x', uri: 'u', range, input: ' ' }]), true);
    assert.equal(lacksInput('ctxls.runPrompt', [{ name: 'x', uri: 'u', range, input: 'snake_case' }]), false);
    assert.equal(lacksInput('ctxls.runPrompt', [{ uri: 'u', range }]), false, 'no name: the server says so');
    assert.equal(lacksInput('ctxls.refactor', [{ uri: 'u', range }]), false);
  });

  test('the catalog learns from code action titles and from ctxls.listPrompts; the latest word wins', () => {
    const catalog = new PromptCatalog();
    assert.equal(catalog.get('x'), undefined, 'unknown, not "needs no input"');
    catalog.noteCommand({ title: 'Rename fields…', command: 'ctxls.runPrompt', arguments: [{ name: 'x', uri: 'u' }] });
    assert.deepEqual(catalog.get('x'), { title: 'Rename fields', needsInput: true });
    catalog.noteCommand({ title: 'Explain', command: 'ctxls.explain', arguments: [{ name: 'x' }] });
    assert.deepEqual(catalog.get('x'), { title: 'Rename fields', needsInput: true }, 'other commands are ignored');
    catalog.noteListed([prompt({ title: 'Rename the fields', needsInput: false })]);
    assert.deepEqual(catalog.get('x'), { title: 'Rename the fields', needsInput: false });
    catalog.noteCommand({ title: 'Rename fields', command: 'ctxls.runPrompt', arguments: [{ name: 'x' }] });
    assert.deepEqual(catalog.get('x'), { title: 'Rename fields', needsInput: false });
    catalog.clear();
    assert.equal(catalog.get('x'), undefined);
  });

  test('the quick pick describes where a prompt applies and what it does; languages as the server names them', () => {
    assert.equal(describePrompt(prompt({})), 'on the selection, replaces it');
    assert.equal(describePrompt(prompt({ appliesTo: 'requirement', output: 'edit', needsInput: true })), 'on the requirement comment at the cursor, edits files, asks for input');
    assert.equal(describePrompt(prompt({ appliesTo: 'file', output: 'message' })), 'on the file, shows the answer');
    assert.equal(promptForLanguage(prompt({}), 'rust'), true, 'no list: every language');
    assert.equal(promptForLanguage(prompt({ languages: ['typescript'] }), 'rust'), false);
    assert.equal(promptForLanguage(prompt({ languages: ['tsx'] }), 'typescriptreact'), true);
    assert.equal(promptForLanguage(prompt({ languages: ['typescript'] }), 'typescriptreact'), true, 'typescript covers TSX');
    assert.equal(promptForLanguage(prompt({ languages: ['tsx'] }), 'typescript'), false);
    assert.equal(promptForLanguage(prompt({ languages: ['javascript'] }), 'javascriptreact'), true);
  });
});
