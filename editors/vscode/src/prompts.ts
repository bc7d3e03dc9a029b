// Prompt files as the extension presents them: what it knows of each prompt (title,
// whether it needs input) from the server's code actions and `ctxls.listPrompts`, and
// the quick pick's wording. Pure (no `vscode` import).
//
// Invariant: the latest word wins. A code action's title is computed from the prompt
// file as it is now, and so is a `ctxls.listPrompts` answer; a prompt never heard of is
// unknown, not "needs no input", so the caller asks the server.

import type { AppliesTo, PromptInfo, PromptOutput } from './protocol';

/** A prompt code action's title ends in `…` when the prompt needs input. */
export function titleAsksInput(title: string): boolean {
  return title.trimEnd().endsWith('…');
}

/** The prompt's title as a code action shows it, without the marks the server adds. */
export function plainPromptTitle(title: string): string {
  return title.replace(/^ctxls: /, '').replace(/…\s*$/, '');
}

/** The server's language name (`Lang::name`) of a VS Code language id. */
export function serverLanguage(languageId: string): string {
  switch (languageId) {
    case 'typescriptreact':
      return 'tsx';
    case 'javascriptreact':
      return 'javascript';
    default:
      return languageId;
  }
}

/**
 * Whether the server offers `prompt` for a document of `languageId` (no list: every
 * language; `typescript` covers TSX too, as on the server).
 */
export function promptForLanguage(prompt: PromptInfo, languageId: string): boolean {
  const language = serverLanguage(languageId);
  return (
    prompt.languages.length === 0 ||
    prompt.languages.includes(language) ||
    (language === 'tsx' && prompt.languages.includes('typescript'))
  );
}

const APPLIES_TO: Record<AppliesTo, string> = {
  selection: 'on the selection',
  symbol: 'on the definition at the cursor',
  requirement: 'on the requirement comment at the cursor',
  file: 'on the file',
};
const OUTPUT: Record<PromptOutput, string> = {
  replace: 'replaces it',
  edit: 'edits files',
  message: 'shows the answer',
};

/** One line for the quick pick: where the prompt applies and what becomes of the answer. */
export function describePrompt(prompt: PromptInfo): string {
  const applies = APPLIES_TO[prompt.appliesTo] ?? prompt.appliesTo;
  const output = OUTPUT[prompt.output] ?? prompt.output;
  return `${applies}, ${output}${prompt.needsInput ? ', asks for input' : ''}`;
}

export interface KnownPrompt {
  title: string;
  needsInput: boolean;
}

/** What the extension last heard of each prompt, by name. */
export class PromptCatalog {
  private readonly known = new Map<string, KnownPrompt>();

  /** A command the server attached to a code action (or a lens); other commands are ignored. */
  noteCommand(command: { title: string; command: string; arguments?: unknown[] }): void {
    const name = (command.arguments?.[0] as { name?: unknown } | undefined)?.name;
    if (command.command === 'ctxls.runPrompt' && typeof name === 'string') {
      this.known.set(name, { title: plainPromptTitle(command.title), needsInput: titleAsksInput(command.title) });
    }
  }

  /** A `ctxls.listPrompts` answer. */
  noteListed(prompts: PromptInfo[]): void {
    for (const prompt of prompts) {
      this.known.set(prompt.name, { title: prompt.title, needsInput: prompt.needsInput });
    }
  }

  get(name: string): KnownPrompt | undefined {
    return this.known.get(name);
  }

  clear(): void {
    this.known.clear();
  }
}
