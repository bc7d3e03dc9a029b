// VS Code settings -> the server's configuration layer. Pure (no `vscode` import): the
// extension passes a function that inspects one setting, the tests pass a plain object.
//
// Invariants: a setting is sent only when the user set it (user, workspace or folder
// value; never the default), so `.ctxls.toml` decides everything else, with one
// exception: `completion.items` is always sent (`false` unless set); the object has
// the structure of `.ctxls.toml` (`{"llm": {"chat": {"model": ...}}}`); API keys come
// from VS Code's secret storage, never from settings.

/** The `.ctxls.toml` keys exposed as `ctxls.<key>` settings (see `src/config.rs`). */
export const TOML_KEYS = [
  'index.max_file_size',
  'index.max_line_length',
  'index.exclude',
  'index.generated_files',
  'llm.provider',
  'llm.base_url',
  'llm.model',
  'llm.api_key_env',
  'llm.fim',
  'llm.fim_stop',
  'llm.max_tokens',
  'llm.temperature',
  'llm.timeout_connect_ms',
  'llm.timeout_first_token_ms',
  'llm.timeout_total_ms',
  'llm.max_in_flight',
  'llm.retries',
  'llm.redact_secrets',
  ...taskOverrideKeys('completion'),
  ...taskOverrideKeys('chat'),
  'embedding.provider',
  'embedding.base_url',
  'embedding.model',
  'embedding.api_key_env',
  'completion.debounce_ms',
  'completion.context_tokens',
  'completion.in_comments',
  'completion.items',
  'hover.explain',
  'hover.timeout_ms',
  'instructions.max_tokens',
  'documents.enabled',
  'documents.max_tokens',
  'documents.in_completion',
  'mentions.max_tokens',
  'requirements.act_prefixes',
  'requirements.act_suffixes',
  'requirements.ask_suffixes',
] as const;

/** Settings of the extension itself: never sent to the server. */
export const CLIENT_KEYS = ['path', 'server.log', 'server.cacheDir', 'trace.server', 'inlineCompletion.enable', 'nextEdit.auto', 'nextEdit.debounce_ms'] as const;

/** Secret-storage entries (set with "ctxls: Set API Key"), sent as these keys. */
export const SECRET_KEYS = ['llm.api_key', 'embedding.api_key'] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

function taskOverrideKeys(task: 'completion' | 'chat'): string[] {
  return ['provider', 'base_url', 'model', 'api_key_env', 'max_tokens', 'temperature', 'fim'].map((k) => `llm.${task}.${k}`);
}

/** What `WorkspaceConfiguration.inspect` returns, the parts that matter here. */
export interface Inspection {
  defaultValue?: unknown;
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** Inspects `ctxls.<key>`; `undefined` when the setting is unknown. */
export type Inspect = (key: string) => Inspection | undefined;

/** A JSON object in the shape of `.ctxls.toml`. */
export type Options = { [key: string]: unknown };

/**
 * The value the user set for a setting, or `undefined` when it is left at its default.
 * The most specific scope wins. `null` and empty strings count as "not set": they are
 * how the settings UI clears a value, and the server has no use for an empty URL or
 * model name.
 */
export function userValue(inspection: Inspection | undefined): unknown {
  if (inspection === undefined) {
    return undefined;
  }
  for (const value of [inspection.workspaceFolderValue, inspection.workspaceValue, inspection.globalValue]) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    return value;
  }
  return undefined;
}

/**
 * The server's configuration layer: every `ctxls.*` setting the user set, nested like
 * `.ctxls.toml`, `completion.items: false` when the user did not set it, plus the API
 * keys from secret storage. Sent as `initializationOptions` and as the `settings` of
 * `workspace/didChangeConfiguration`.
 */
export function buildServerOptions(inspect: Inspect, secrets: Partial<Record<SecretKey, string>> = {}): Options {
  const options: Options = {};
  for (const key of TOML_KEYS) {
    const value = userValue(inspect(key));
    if (value !== undefined) {
      setPath(options, key, value);
    }
  }
  // VS Code shows the model's completion inline: the suggestion-list item would cost a
  // second model call per pause, so it is off unless the user turns it on.
  if (userValue(inspect('completion.items')) === undefined) {
    setPath(options, 'completion.items', false);
  }
  for (const key of SECRET_KEYS) {
    const secret = secrets[key];
    if (secret !== undefined && secret !== '') {
      setPath(options, key, secret);
    }
  }
  return options;
}

function setPath(root: Options, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let node = root;
  for (const part of parts.slice(0, -1)) {
    const child = node[part];
    if (typeof child !== 'object' || child === null || Array.isArray(child)) {
      node[part] = {};
    }
    node = node[part] as Options;
  }
  node[parts[parts.length - 1]] = value;
}

/**
 * The dotted paths of an options object's leaves (arrays are leaves), as the server
 * applies them (`Config::apply_json`).
 */
export function leafPaths(options: Options, prefix = ''): string[] {
  const paths: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
      paths.push(...leafPaths(value as Options, path));
    } else {
      paths.push(path);
    }
  }
  return paths;
}

/**
 * How a settings change reaches the server. The server layers `.ctxls.toml`, then the
 * `initializationOptions` of this session, then the latest `didChangeConfiguration`
 * settings. A key sent at initialization and since unset would stay in force until the
 * server restarts, so that case restarts it; anything else is a notification.
 */
export function changeStrategy(sentAtInitialize: Options, next: Options): 'notify' | 'restart' {
  const remaining = new Set(leafPaths(next));
  return leafPaths(sentAtInitialize).every((path) => remaining.has(path)) ? 'notify' : 'restart';
}

/** Settings whose change needs a new server process (they are its command line). */
export const RESTART_KEYS = ['path', 'server.log', 'server.cacheDir'] as const;
