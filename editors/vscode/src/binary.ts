// Finding the `ctxls` binary: the `ctxls.path` setting, else the binary bundled in the
// extension (`bin/ctxls`, `bin/ctxls.exe`), else `ctxls` on PATH. Pure apart from the
// file-system probe the caller passes, so the order is unit-tested.
//
// Invariant: a `ctxls.path` that names no executable is an error of its own; the other
// places are not tried behind the user's back.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Probe {
  /** True when `file` exists, is a file, and may be executed. */
  isExecutable(file: string): boolean;
  platform: NodeJS.Platform;
  env: { [name: string]: string | undefined };
  home: string;
}

export type Source = 'setting' | 'bundled' | 'PATH';

export type Resolution =
  | { kind: 'found'; path: string; source: Source }
  /** `ctxls.path` is set but names nothing executable. */
  | { kind: 'bad-setting'; configured: string; resolved: string }
  /** Not in the extension, not on PATH; `searched` lists where it was looked for. */
  | { kind: 'not-found'; searched: string[] };

export interface Where {
  /** The `ctxls.path` setting ('' or undefined when unset). */
  configured?: string;
  /** The extension's installation directory. */
  extensionPath: string;
  /** The first workspace folder, for relative paths and `${workspaceFolder}`. */
  workspaceFolder?: string;
}

export function executableName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'ctxls.exe' : 'ctxls';
}

export function resolveBinary(where: Where, probe: Probe): Resolution {
  const paths = probe.platform === 'win32' ? path.win32 : path.posix;
  const configured = where.configured?.trim() ?? '';
  if (configured !== '') {
    const expanded = expand(configured, where, probe);
    const isBareName = !expanded.includes('/') && !(probe.platform === 'win32' && expanded.includes('\\'));
    if (isBareName) {
      const found = searchPath(expanded, probe);
      return found ? { kind: 'found', path: found, source: 'setting' } : { kind: 'bad-setting', configured, resolved: `${expanded} (on PATH)` };
    }
    const absolute = paths.isAbsolute(expanded) || where.workspaceFolder === undefined ? expanded : paths.join(where.workspaceFolder, expanded);
    return probe.isExecutable(absolute) ? { kind: 'found', path: absolute, source: 'setting' } : { kind: 'bad-setting', configured, resolved: absolute };
  }
  const bundled = paths.join(where.extensionPath, 'bin', executableName(probe.platform));
  if (probe.isExecutable(bundled)) {
    return { kind: 'found', path: bundled, source: 'bundled' };
  }
  const onPath = searchPath('ctxls', probe);
  if (onPath) {
    return { kind: 'found', path: onPath, source: 'PATH' };
  }
  return { kind: 'not-found', searched: [bundled, `PATH (${pathEntries(probe).length} directories)`] };
}

function expand(configured: string, where: Where, probe: Probe): string {
  let value = configured;
  if (value === '~' || value.startsWith('~/') || value.startsWith('~\\')) {
    value = probe.home + value.slice(1);
  }
  if (where.workspaceFolder !== undefined) {
    value = value.split('${workspaceFolder}').join(where.workspaceFolder);
  }
  return value;
}

function pathEntries(probe: Probe): string[] {
  const raw = probe.env.PATH ?? probe.env.Path ?? '';
  const separator = probe.platform === 'win32' ? ';' : ':';
  return raw.split(separator).filter((entry) => entry !== '');
}

/** The first executable `name` on PATH (with PATHEXT's extensions on Windows). */
export function searchPath(name: string, probe: Probe): string | undefined {
  const paths = probe.platform === 'win32' ? path.win32 : path.posix;
  const extensions =
    probe.platform === 'win32' && paths.extname(name) === '' ? (probe.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').filter((e) => e !== '') : [''];
  for (const dir of pathEntries(probe)) {
    for (const extension of extensions) {
      const candidate = paths.join(dir, name + extension.toLowerCase());
      if (probe.isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  return undefined;
}

/** The real file system. */
export function systemProbe(): Probe {
  return {
    isExecutable(file: string): boolean {
      try {
        if (!fs.statSync(file).isFile()) {
          return false;
        }
        if (process.platform !== 'win32') {
          fs.accessSync(file, fs.constants.X_OK);
        }
        return true;
      } catch {
        return false;
      }
    },
    platform: process.platform,
    env: process.env,
    home: os.homedir(),
  };
}

/** One sentence for the user: what was looked for, where, and how to get the binary. */
export function describeFailure(resolution: Exclude<Resolution, { kind: 'found' }>): string {
  if (resolution.kind === 'bad-setting') {
    return `ctxls: the setting ctxls.path is "${resolution.configured}", but ${resolution.resolved} is not an executable file. Fix the setting or clear it to use the bundled binary or the one on PATH.`;
  }
  return (
    'ctxls: the ctxls binary was not found (not bundled in the extension, not on PATH). ' +
    'Install it with `cargo install --path .` in the ctxls repository (or build it with `cargo build --release` and set ctxls.path to target/release/ctxls), then restart the server.'
  );
}
