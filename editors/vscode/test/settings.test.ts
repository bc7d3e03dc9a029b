// Settings -> the server's configuration layer, and package.json kept in step with it.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';

import { paletteCommand, SERVER_COMMANDS } from '../src/protocol';
import { buildServerOptions, changeStrategy, CLIENT_KEYS, Inspect, Inspection, leafPaths, TOML_KEYS, userValue } from '../src/settings';

function inspectFrom(values: Record<string, Inspection>): Inspect {
  return (key) => values[key] ?? { defaultValue: 'whatever' };
}

describe('settings -> initializationOptions', () => {
  test('only what the user set is sent, nested like .ctxls.toml', () => {
    const options = buildServerOptions(
      inspectFrom({
        'llm.provider': { defaultValue: 'ollama', globalValue: 'openai' },
        'llm.base_url': { defaultValue: '', globalValue: 'http://127.0.0.1:8080/v1' },
        'llm.model': { defaultValue: 'qwen2.5-coder:1.5b' },
        'llm.chat.model': { defaultValue: null, workspaceValue: 'qwen2.5-coder:14b' },
        'completion.debounce_ms': { defaultValue: 150 },
        'completion.in_comments': { defaultValue: false, globalValue: false },
        'requirements.act_suffixes': { defaultValue: ['AI!'], globalValue: [] },
      }),
    );
    assert.deepEqual(options, {
      llm: { provider: 'openai', base_url: 'http://127.0.0.1:8080/v1', chat: { model: 'qwen2.5-coder:14b' } },
      // in_comments: set explicitly, even to the default: it overrides .ctxls.toml.
      // items: not set, sent as false all the same (see below).
      completion: { in_comments: false, items: false },
      requirements: { act_suffixes: [] },
    });
  });

  test('completion.items: unset sends false (VS Code shows completions inline); what the user set is sent as set', () => {
    const items = (inspection: Inspection | undefined) => (buildServerOptions(inspectFrom(inspection ? { 'completion.items': inspection } : {})).completion as { items?: unknown } | undefined)?.items;
    assert.equal(items(undefined), false, 'nothing set');
    assert.equal(items({ defaultValue: false }), false, 'left at its default');
    assert.equal(items({ defaultValue: false, globalValue: null }), false, 'cleared');
    assert.equal(items({ defaultValue: false, globalValue: true }), true, 'the user turned it on');
    assert.equal(items({ defaultValue: false, globalValue: false }), false, 'the user turned it off');
    assert.equal(items({ defaultValue: false, globalValue: false, workspaceFolderValue: true }), true, 'the most specific scope wins');
    assert.equal(items({ defaultValue: false, globalValue: true, workspaceValue: false }), false, 'the most specific scope wins');
    // It sits beside the other completion keys, whichever the user set.
    assert.deepEqual(buildServerOptions(inspectFrom({ 'completion.debounce_ms': { globalValue: 75 } })), { completion: { debounce_ms: 75, items: false } });
    // Always sent, so turning it off again is a notification, never a restart.
    const on = buildServerOptions(inspectFrom({ 'completion.items': { defaultValue: false, globalValue: true } }));
    const unset = buildServerOptions(inspectFrom({ 'completion.items': { defaultValue: false } }));
    assert.equal(changeStrategy(unset, on), 'notify');
    assert.equal(changeStrategy(on, unset), 'notify');
  });

  test('the most specific scope wins; null and empty strings are "not set"', () => {
    assert.equal(userValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
    assert.equal(userValue({ globalValue: 1, workspaceValue: 2 }), 2);
    assert.equal(userValue({ globalValue: 'a', workspaceValue: '' }), 'a');
    assert.equal(userValue({ globalValue: null }), undefined);
    assert.equal(userValue({ defaultValue: 150 }), undefined);
    assert.equal(userValue(undefined), undefined);
    assert.equal(userValue({ globalValue: 0 }), 0);
    assert.equal(userValue({ globalValue: false }), false);
  });

  test('API keys from secret storage join the layer; empty ones do not', () => {
    const options = buildServerOptions(inspectFrom({ 'llm.provider': { globalValue: 'anthropic' } }), { 'llm.api_key': 'sk-ant', 'embedding.api_key': '' });
    assert.deepEqual(options, { llm: { provider: 'anthropic', api_key: 'sk-ant' }, completion: { items: false } });
  });

  test('nothing set: only completion.items (false), so .ctxls.toml decides everything else', () => {
    assert.deepEqual(buildServerOptions(() => ({ defaultValue: 1 })), { completion: { items: false } });
    assert.deepEqual(buildServerOptions(() => undefined), { completion: { items: false } });
  });

  test('leaf paths are dotted keys; arrays are leaves', () => {
    assert.deepEqual(leafPaths({ llm: { model: 'm', chat: { model: 'c' } }, index: { exclude: ['a'] } }), ['llm.model', 'llm.chat.model', 'index.exclude']);
  });

  test('a key sent at initialization and since unset needs a restart; anything else a notification', () => {
    const initial = { llm: { model: 'a', chat: { model: 'b' } } };
    assert.equal(changeStrategy(initial, { llm: { model: 'x', chat: { model: 'b' }, retries: 0 } }), 'notify');
    assert.equal(changeStrategy(initial, { llm: { model: 'a' } }), 'restart');
    assert.equal(changeStrategy({}, {}), 'notify');
    assert.equal(changeStrategy({ hover: { explain: false } }, {}), 'restart');
  });
});

describe('package.json', () => {
  const manifest = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8'));
  const properties: Record<string, { default?: unknown; type: unknown }> = manifest.contributes.configuration.properties;

  test('every .ctxls.toml key is a setting, and every setting is either a key or the extension\'s own', () => {
    const declared = Object.keys(properties).map((k) => k.replace(/^ctxls\./, ''));
    assert.deepEqual(declared.filter((k) => !(TOML_KEYS as readonly string[]).includes(k) && !(CLIENT_KEYS as readonly string[]).includes(k)), []);
    assert.deepEqual([...TOML_KEYS, ...CLIENT_KEYS].filter((k) => !declared.includes(k)), []);
  });

  test('every palette command is contributed, and none clashes with a server command', () => {
    const contributed: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
    for (const command of SERVER_COMMANDS) {
      assert.ok(contributed.includes(paletteCommand(command)), paletteCommand(command));
      assert.ok(!contributed.includes(command), `${command} is vscode-languageclient's`);
    }
    for (const binding of manifest.contributes.keybindings) {
      assert.ok(contributed.includes(binding.command), binding.command);
    }
  });

  test('the bundle, the license and the engine vsce needs', () => {
    assert.equal(manifest.main, './dist/extension.js');
    assert.equal(manifest.license, 'MIT');
    assert.ok(fs.existsSync(path.resolve(__dirname, '..', '..', 'LICENSE')));
    assert.match(manifest.engines.vscode, /^\^1\.\d+\.0$/);
    assert.equal(manifest.devDependencies['@types/vscode'].replace(/^[~^]/, '').split('.').slice(0, 2).join('.'), manifest.engines.vscode.slice(1).split('.').slice(0, 2).join('.'), '@types/vscode matches the engine');
  });
});
