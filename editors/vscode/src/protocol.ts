// The ctxls protocol surface as the extension uses it (docs/lsp-extensions.md): command
// ids and their arguments, the `ctxls/status` notification, inline-completion params,
// error codes, progress tokens. Pure (no `vscode` import), so the protocol test drives
// the real server with exactly these values.

import type { InlineCompletionParams, Position, Range } from 'vscode-languageserver-protocol';

/** Commands the server runs through `workspace/executeCommand`. */
export const SERVER_COMMANDS = [
  'ctxls.explain',
  'ctxls.document',
  'ctxls.tests',
  'ctxls.fix',
  'ctxls.refactor',
  'ctxls.generate',
  'ctxls.answer',
  'ctxls.implementRequirements',
  'ctxls.summarizeDiff',
  'ctxls.showContext',
  'ctxls.reindex',
] as const;
export type ServerCommand = (typeof SERVER_COMMANDS)[number];

/**
 * The palette command for a server command. vscode-languageclient registers every
 * command the server advertises under its own id (`ctxls.explain` runs
 * `workspace/executeCommand` for code actions and lenses), so the palette's commands,
 * which gather their arguments from the editor, live under `ctxls.palette.*`.
 */
export function paletteCommand(command: ServerCommand): string {
  return command.replace(/^ctxls\./, 'ctxls.palette.');
}

/** Commands that ask a model (a cancellable progress notification is shown). */
export const MODEL_COMMANDS: ReadonlySet<string> = new Set([
  'ctxls.explain',
  'ctxls.document',
  'ctxls.tests',
  'ctxls.fix',
  'ctxls.refactor',
  'ctxls.generate',
  'ctxls.answer',
  'ctxls.implementRequirements',
  'ctxls.summarizeDiff',
]);

/** The titles shown while a command runs and in the quick pick. */
export const COMMAND_TITLES: Record<ServerCommand, string> = {
  'ctxls.explain': 'Explain',
  'ctxls.document': 'Add documentation comment',
  'ctxls.tests': 'Write tests',
  'ctxls.fix': 'Fix this',
  'ctxls.refactor': 'Refactor with an instruction',
  'ctxls.generate': 'Generate from comment',
  'ctxls.answer': 'Answer the question comment',
  'ctxls.implementRequirements': "Implement the diff's requirements",
  'ctxls.summarizeDiff': 'Summarize the diff',
  'ctxls.showContext': 'Show context',
  'ctxls.reindex': 'Reindex the workspace',
};

// Arguments: one JSON object per command (docs/lsp-extensions.md).
export interface RangeArgs {
  uri: string;
  range: Range;
}
export interface FixArgs extends RangeArgs {
  diagnostics?: string[];
}
export interface RefactorArgs extends RangeArgs {
  instruction: string;
}
export interface PositionArgs {
  uri: string;
  position: Position;
}
export interface ShowContextArgs extends PositionArgs {
  query?: string;
  budget?: number;
}
export interface RootArgs {
  uri?: string;
}

/** `ctxls.refactor` as a code action sends it: everything but the instruction. */
export function needsInstruction(command: string, args: unknown[]): boolean {
  if (command !== 'ctxls.refactor') {
    return false;
  }
  const first = args[0] as { instruction?: unknown } | undefined;
  return typeof first?.instruction !== 'string' || first.instruction.trim() === '';
}

// `ctxls/status`: the model's state, sent by the server whenever it changes.
export const STATUS_NOTIFICATION = 'ctxls/status';
export type ModelState = 'ready' | 'busy' | 'error';
export interface StatusParams {
  model: ModelState;
  message?: string;
}

/** Validates a `ctxls/status` payload; `undefined` for anything malformed. */
export function parseStatus(params: unknown): StatusParams | undefined {
  if (typeof params !== 'object' || params === null) {
    return undefined;
  }
  const { model, message } = params as { model?: unknown; message?: unknown };
  if (model !== 'ready' && model !== 'busy' && model !== 'error') {
    return undefined;
  }
  return typeof message === 'string' && message !== '' ? { model, message } : { model };
}

// Inline completion. VS Code numbers its trigger kinds from 0 (Invoke = 0, Automatic = 1);
// LSP 3.18 from 1 (Invoked = 1, Automatic = 2).
export const VSCODE_TRIGGER_INVOKE = 0;
export const VSCODE_TRIGGER_AUTOMATIC = 1;

export function lspTriggerKind(vscodeTriggerKind: number): 1 | 2 {
  return vscodeTriggerKind === VSCODE_TRIGGER_INVOKE ? 1 : 2;
}

export function inlineCompletionParams(
  uri: string,
  position: Position,
  vscodeTriggerKind: number,
  selected?: { range: Range; text: string },
): InlineCompletionParams {
  return {
    textDocument: { uri },
    position,
    context: {
      triggerKind: lspTriggerKind(vscodeTriggerKind),
      ...(selected ? { selectedCompletionInfo: selected } : {}),
    },
  };
}

// Error codes the server answers with.
export const REQUEST_CANCELLED = -32800;
export const CONTENT_MODIFIED = -32801;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

// Progress tokens: `ctxls/index/<hash>`, `ctxls/embed/<hash>`, `ctxls/action/<n>`.
export type ProgressKind = 'index' | 'embed' | 'action' | 'other';

export function progressKind(token: string | number): ProgressKind {
  const match = /^ctxls\/(index|embed|action)\//.exec(String(token));
  return match ? (match[1] as ProgressKind) : 'other';
}

// `ctxls.showContext`'s answer, rendered for people.
export interface Snippet {
  path: string;
  start_line: number;
  end_line: number;
  text: string;
  score: number;
  sources: string[];
  why: string;
  tokens: number;
}
export interface ContextResult {
  snippets: Snippet[];
  tokens: number;
  budget: number;
}

const FENCE_LANGUAGES: Record<string, string> = { rs: 'rust', ts: 'typescript', mts: 'typescript', cts: 'typescript', tsx: 'tsx', js: 'javascript', jsx: 'jsx', mjs: 'javascript', cjs: 'javascript' };

/** A markdown document: the snippets best first, each with why it was picked. */
export function renderContext(result: ContextResult, at: { path: string; line: number }): string {
  const out = [
    `# Context for ${at.path}:${at.line}`,
    '',
    `${result.snippets.length} snippet${result.snippets.length === 1 ? '' : 's'}, ${result.tokens} of ${result.budget} tokens, best first: what the model would be sent with the code around the cursor.`,
  ];
  for (const [i, snippet] of result.snippets.entries()) {
    const extension = snippet.path.split('.').pop() ?? '';
    const fence = snippet.text.includes('```') ? '````' : '```';
    out.push(
      '',
      `## ${i + 1}. ${snippet.path}:${snippet.start_line}-${snippet.end_line}`,
      '',
      `score ${snippet.score.toFixed(3)} · ${snippet.tokens} tokens · from ${snippet.sources.join(', ') || 'no generator'}${snippet.why ? ` · ${snippet.why}` : ''}`,
      '',
      `${fence}${FENCE_LANGUAGES[extension] ?? ''}`,
      snippet.text.replace(/\n$/, ''),
      fence,
    );
  }
  if (result.snippets.length === 0) {
    out.push('', 'Nothing in the workspace was picked for this position.');
  }
  return out.join('\n') + '\n';
}
