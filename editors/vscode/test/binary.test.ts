// The binary's resolution order: ctxls.path, then bin/ in the extension, then PATH.

import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { describeFailure, Probe, resolveBinary } from '../src/binary';

function probe(executables: string[], options: Partial<Probe> = {}): Probe {
  const set = new Set(executables);
  return { isExecutable: (file) => set.has(file), platform: 'linux', env: { PATH: '/usr/local/bin:/usr/bin' }, home: '/home/me', ...options };
}

const where = { extensionPath: '/ext', workspaceFolder: '/work/project' };

describe('binary resolution', () => {
  test('ctxls.path comes first', () => {
    const found = resolveBinary({ ...where, configured: '/opt/ctxls/ctxls' }, probe(['/opt/ctxls/ctxls', '/ext/bin/ctxls', '/usr/bin/ctxls']));
    assert.deepEqual(found, { kind: 'found', path: '/opt/ctxls/ctxls', source: 'setting' });
  });

  test('a ctxls.path naming nothing is an error, not a silent fallback', () => {
    const found = resolveBinary({ ...where, configured: '/nowhere/ctxls' }, probe(['/ext/bin/ctxls', '/usr/bin/ctxls']));
    assert.deepEqual(found, { kind: 'bad-setting', configured: '/nowhere/ctxls', resolved: '/nowhere/ctxls' });
    assert.match(describeFailure(found as never), /ctxls\.path is "\/nowhere\/ctxls"/);
  });

  test('~, ${workspaceFolder} and relative paths', () => {
    assert.equal((resolveBinary({ ...where, configured: '~/.cargo/bin/ctxls' }, probe(['/home/me/.cargo/bin/ctxls'])) as { path: string }).path, '/home/me/.cargo/bin/ctxls');
    assert.equal(
      (resolveBinary({ ...where, configured: '${workspaceFolder}/target/release/ctxls' }, probe(['/work/project/target/release/ctxls'])) as { path: string }).path,
      '/work/project/target/release/ctxls',
    );
    assert.equal((resolveBinary({ ...where, configured: 'target/debug/ctxls' }, probe(['/work/project/target/debug/ctxls'])) as { path: string }).path, '/work/project/target/debug/ctxls');
  });

  test('a bare name in ctxls.path is looked up on PATH', () => {
    assert.deepEqual(resolveBinary({ ...where, configured: 'ctxls-nightly' }, probe(['/usr/bin/ctxls-nightly'])), { kind: 'found', path: '/usr/bin/ctxls-nightly', source: 'setting' });
  });

  test('then the binary bundled in the extension, before PATH', () => {
    assert.deepEqual(resolveBinary({ ...where, configured: '' }, probe(['/ext/bin/ctxls', '/usr/bin/ctxls'])), { kind: 'found', path: '/ext/bin/ctxls', source: 'bundled' });
  });

  test('then PATH, in order', () => {
    assert.deepEqual(resolveBinary(where, probe(['/usr/local/bin/ctxls', '/usr/bin/ctxls'])), { kind: 'found', path: '/usr/local/bin/ctxls', source: 'PATH' });
  });

  test('Windows: ctxls.exe in bin/, PATHEXT on PATH', () => {
    const windows = { platform: 'win32' as const, env: { Path: 'C:\\tools;C:\\cargo\\bin', PATHEXT: '.COM;.EXE' } };
    assert.deepEqual(resolveBinary({ extensionPath: 'C:\\ext' }, probe(['C:\\ext\\bin\\ctxls.exe'], windows)), { kind: 'found', path: 'C:\\ext\\bin\\ctxls.exe', source: 'bundled' });
    assert.deepEqual(resolveBinary({ extensionPath: 'C:\\ext' }, probe(['C:\\cargo\\bin\\ctxls.exe'], windows)), { kind: 'found', path: 'C:\\cargo\\bin\\ctxls.exe', source: 'PATH' });
  });

  test('nowhere: the message says how to get it', () => {
    const missing = resolveBinary(where, probe([]));
    assert.equal(missing.kind, 'not-found');
    const message = describeFailure(missing as never);
    assert.match(message, /cargo install --path \./);
    assert.match(message, /cargo build --release/);
  });
});
