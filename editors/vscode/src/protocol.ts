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
  'ctxls.runPrompt',
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
  'ctxls.runPrompt',
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
  'ctxls.runPrompt': 'Run prompt',
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
export interface RunPromptArgs {
  name: string;
  uri: string;
  range?: Range;
  position?: Position;
  input?: string;
}

/** `ctxls.refactor` as a code action sends it: everything but the instruction. */
export function needsInstruction(command: string, args: unknown[]): boolean {
  if (command !== 'ctxls.refactor') {
    return false;
  }
  const first = args[0] as { instruction?: unknown } | undefined;
  return typeof first?.instruction !== 'string' || first.instruction.trim() === '';
}

// Prompt files (`.ctxls/prompts/NAME.md`): `ctxls.listPrompts` describes them (no
// model), `ctxls.runPrompt` runs one. A prompt whose template uses `{{input}}` needs an
// `input` argument; the server's code actions say so with a title ending in `…`.
export const LIST_PROMPTS = 'ctxls.listPrompts';
export type AppliesTo = 'selection' | 'symbol' | 'requirement' | 'file';
export type PromptOutput = 'replace' | 'edit' | 'message';
export interface PromptInfo {
  name: string;
  title: string;
  path: string;
  appliesTo: AppliesTo;
  languages: string[];
  output: PromptOutput;
  needsInput: boolean;
}
export interface ListPromptsResult {
  prompts: PromptInfo[];
}

/** `ctxls.runPrompt` without an `input` (or a blank one): it may have to be asked. */
export function lacksInput(command: string, args: unknown[]): args is [RunPromptArgs, ...unknown[]] {
  if (command !== 'ctxls.runPrompt') {
    return false;
  }
  const first = args[0] as { name?: unknown; input?: unknown } | undefined;
  return typeof first?.name === 'string' && (typeof first.input !== 'string' || first.input.trim() === '');
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
/** A project instruction file a chat request for this file would include. */
export interface InstructionFile {
  path: string;
  tokens: number;
}
/** What an `@mention` of the query names, as it would be sent. */
export interface IncludedMention {
  mention: string;
  path: string;
  what: string;
  start_line: number;
  end_line: number;
  text: string;
  summarized: boolean;
  tokens: number;
}
export interface UnresolvedMention {
  mention: string;
  reason: string;
}
/** A document section (Markdown, OpenAPI, GraphQL, proto) retrieved for the query. */
export interface DocumentSection {
  path: string;
  title: string;
  anchor: string;
  start_line: number;
  end_line: number;
  text: string;
  why: string;
  tokens: number;
}
export interface ContextResult {
  snippets: Snippet[];
  tokens: number;
  budget: number;
  /** The query used: the one given, else the requirement comment at the position; `null`: none. */
  query?: string | null;
  instructions?: InstructionFile[];
  mentions?: IncludedMention[];
  unresolved?: UnresolvedMention[];
  documents?: DocumentSection[];
}

const FENCE_LANGUAGES: Record<string, string> = {
  rs: 'rust',
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  tsx: 'tsx',
  js: 'javascript',
  jsx: 'jsx',
  mjs: 'javascript',
  cjs: 'javascript',
  md: 'markdown',
  markdown: 'markdown',
  yaml: 'yaml',
  yml: 'yaml',
  json: 'json',
  graphql: 'graphql',
  gql: 'graphql',
  proto: 'protobuf',
};

/** `text` in a fenced block that no backtick run inside it can close. */
function fenced(text: string, file: string): string[] {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const extension = file.split('.').pop() ?? '';
  return [`${fence}${FENCE_LANGUAGES[extension] ?? ''}`, text.replace(/\n$/, ''), fence];
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * A markdown document: what a chat request about the position would include (the
 * project's instructions, what the query's mentions name, the document sections
 * retrieved), then the code snippets best first, each with why it was picked.
 */
export function renderContext(result: ContextResult, at: { path: string; line: number }): string {
  const out = [`# Context for ${at.path}:${at.line}`];
  if (typeof result.query === 'string' && result.query.trim() !== '') {
    const query = result.query.trim().replace(/\s+/g, ' ');
    out.push('', `Query: ${query.length > 300 ? `${query.slice(0, 300)}…` : query}`);
  }
  const instructions = result.instructions ?? [];
  const mentions = result.mentions ?? [];
  const unresolved = result.unresolved ?? [];
  const documents = result.documents ?? [];
  if (instructions.length > 0) {
    out.push('', '## Instructions', '', 'Project instructions sent with every chat request about this file:', '');
    out.push(...instructions.map((i) => `- \`${i.path}\`: ${plural(i.tokens, 'token')}`));
  }
  if (mentions.length > 0 || unresolved.length > 0) {
    out.push('', '## Mentions');
    for (const mention of mentions) {
      out.push(
        '',
        `### ${mention.mention}: ${mention.what}, ${mention.path}:${mention.start_line}-${mention.end_line}`,
        '',
        `${plural(mention.tokens, 'token')}${mention.summarized ? ' · summarized to its signatures to fit `mentions.max_tokens`' : ''}`,
        '',
        ...fenced(mention.text, mention.path),
      );
    }
    if (unresolved.length > 0) {
      out.push('', 'Named nothing, so not sent:', '');
      out.push(...unresolved.map((u) => `- \`${u.mention}\`: ${u.reason}`));
    }
  }
  if (documents.length > 0) {
    const tokens = documents.reduce((sum, d) => sum + d.tokens, 0);
    out.push('', '## Documents', '', `${plural(documents.length, 'section')}, ${plural(tokens, 'token')}, best first.`);
    for (const [i, section] of documents.entries()) {
      const where = `${section.path}${section.anchor ? `#${section.anchor}` : ''}`;
      out.push(
        '',
        `### ${i + 1}. ${where}${section.title ? `: ${section.title}` : ''}`,
        '',
        `lines ${section.start_line}-${section.end_line} · ${plural(section.tokens, 'token')}${section.why ? ` · ${section.why}` : ''}`,
        '',
        ...fenced(section.text, section.path),
      );
    }
  }
  out.push(
    '',
    '## Code',
    '',
    `${plural(result.snippets.length, 'snippet')}, ${result.tokens} of ${result.budget} tokens, best first: what the model would be sent with the code around the cursor.`,
  );
  for (const [i, snippet] of result.snippets.entries()) {
    out.push(
      '',
      `### ${i + 1}. ${snippet.path}:${snippet.start_line}-${snippet.end_line}`,
      '',
      `score ${snippet.score.toFixed(3)} · ${plural(snippet.tokens, 'token')} · from ${snippet.sources.join(', ') || 'no generator'}${snippet.why ? ` · ${snippet.why}` : ''}`,
      '',
      ...fenced(snippet.text, snippet.path),
    );
  }
  if (result.snippets.length === 0) {
    out.push('', 'Nothing in the workspace was picked for this position.');
  }
  if (result.query === null) {
    out.push('', '_Instructions, mentions and documents are listed for a query: run this on a requirement comment, or select the text to ask about._');
  }
  return out.join('\n') + '\n';
}
