// The commands: the palette's `ctxls.palette.*` (arguments taken from the active editor),
// the extension's own (restart, output, API key, inline completion), the quick pick of
// the status item, and one runner for every server command, whether it comes from the
// palette, a code action or a code lens.
//
// The runner asks for a refactoring's instruction, or a prompt file's input, when it is
// missing (whether a prompt needs input: its code action's title, else
// `ctxls.listPrompts`), shows a cancellable progress notification while the model works
// (cancelling sends `$/cancelRequest`), and reports failures once: when the server
// already showed a message about it, it says nothing more.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExecuteCommandRequest, LanguageClient, Range as LspRange, ResponseError } from 'vscode-languageclient/node';

import { describePrompt, promptForLanguage } from './prompts';
import {
  COMMAND_TITLES,
  CONTENT_MODIFIED,
  ContextResult,
  lacksInput,
  LIST_PROMPTS,
  ListPromptsResult,
  MODEL_COMMANDS,
  needsInstruction,
  paletteCommand,
  PromptInfo,
  renderContext,
  REQUEST_CANCELLED,
  RunPromptArgs,
  SERVER_COMMANDS,
  ServerCommand,
} from './protocol';
import { LANGUAGES, ServerController } from './server';
import { SECRET_KEYS } from './settings';
import { StatusBar } from './statusBar';

/** How long a failed command waits for the server's own message about it. */
const SERVER_MESSAGE_GRACE_MS = 200;

interface EditResult {
  applied?: boolean;
  files?: string[];
  requirements?: number;
}

export class Commands {
  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly server: ServerController,
    private readonly status: StatusBar,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  register(): vscode.Disposable[] {
    const disposables = SERVER_COMMANDS.map((command) => vscode.commands.registerCommand(paletteCommand(command), () => this.fromPalette(command)));
    disposables.push(
      vscode.commands.registerCommand('ctxls.showCommands', () => this.showCommands()),
      vscode.commands.registerCommand('ctxls.restartServer', () => this.server.restart()),
      vscode.commands.registerCommand('ctxls.showOutput', () => this.output.show(true)),
      vscode.commands.registerCommand('ctxls.setApiKey', () => this.setApiKey()),
      vscode.commands.registerCommand('ctxls.triggerInlineCompletion', () => vscode.commands.executeCommand('editor.action.inlineSuggest.trigger')),
      vscode.commands.registerCommand('ctxls.acceptInlineCompletion', () => vscode.commands.executeCommand('editor.action.inlineSuggest.commit')),
    );
    this.server.executeCommandHook = (command, args) => this.run(command, args);
    return disposables;
  }

  /** A palette command: the arguments from the active editor, then the runner. */
  private async fromPalette(command: ServerCommand): Promise<unknown> {
    const args = await this.paletteArguments(command);
    if (args === undefined) {
      return undefined;
    }
    return this.run(command, args);
  }

  private async paletteArguments(command: ServerCommand): Promise<unknown[] | undefined> {
    const client = this.server.running;
    if (!client) {
      this.notRunning();
      return undefined;
    }
    const c2p = client.code2ProtocolConverter;
    if (command === 'ctxls.reindex') {
      return [];
    }
    const editor = vscode.window.activeTextEditor;
    if (command === 'ctxls.implementRequirements' || command === 'ctxls.summarizeDiff') {
      if (command === 'ctxls.implementRequirements' && !(await this.savedOrAccepted())) {
        return undefined;
      }
      const uri = editor?.document.uri.scheme === 'file' ? editor.document.uri : vscode.workspace.workspaceFolders?.[0]?.uri;
      return [uri ? { uri: c2p.asUri(uri) } : {}];
    }
    if (!editor || editor.document.uri.scheme !== 'file' || !LANGUAGES.includes(editor.document.languageId)) {
      void vscode.window.showWarningMessage(`ctxls: ${COMMAND_TITLES[command]} works in a saved Rust, TypeScript or JavaScript file: open one and place the cursor.`);
      return undefined;
    }
    const uri = c2p.asUri(editor.document.uri);
    const selection = editor.selection;
    const range = c2p.asRange(selection);
    const position = c2p.asPosition(selection.active);
    switch (command) {
      case 'ctxls.generate':
      case 'ctxls.answer':
        return [{ uri, position }];
      case 'ctxls.showContext': {
        const query = selection.isEmpty ? undefined : editor.document.getText(selection).slice(0, 2000);
        return [{ uri, position, ...(query ? { query } : {}) }];
      }
      case 'ctxls.fix': {
        const lines = new vscode.Range(selection.start.line, 0, selection.end.line, Number.MAX_SAFE_INTEGER);
        const diagnostics = vscode.languages
          .getDiagnostics(editor.document.uri)
          .filter((d) => d.source !== 'ctxls' && d.range.intersection(lines) !== undefined)
          .map((d) => d.message);
        return [{ uri, range, diagnostics }];
      }
      case 'ctxls.refactor': {
        const instruction = await askInstruction();
        return instruction === undefined ? undefined : [{ uri, range, instruction }];
      }
      case 'ctxls.runPrompt':
        return this.pickPrompt(client, { uri, range }, editor.document.languageId);
      default:
        return [{ uri, range }];
    }
  }

  /**
   * The palette's prompt: the prompt files of the document's folder for its language, in
   * a quick pick; the input asked when the prompt needs it.
   */
  private async pickPrompt(client: LanguageClient, at: { uri: string; range: LspRange }, languageId: string): Promise<RunPromptArgs[] | undefined> {
    const all = await this.listPrompts(client, at.uri);
    if (all === undefined) {
      return undefined;
    }
    const prompts = all.filter((p) => promptForLanguage(p, languageId));
    if (prompts.length === 0) {
      void vscode.window.showInformationMessage(
        all.length === 0
          ? 'ctxls: this folder has no prompt files. Write one in .ctxls/prompts/NAME.md: a front matter (title, applies_to, output) and a template.'
          : `ctxls: none of the ${all.length} prompt file${all.length === 1 ? '' : 's'} in .ctxls/prompts/ is for ${languageId}.`,
      );
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      prompts.map((prompt) => ({ label: `${prompt.title}${prompt.needsInput ? '…' : ''}`, description: describePrompt(prompt), detail: prompt.path, prompt })),
      { title: 'ctxls: Run Prompt', placeHolder: 'Which prompt file?', matchOnDescription: true, matchOnDetail: true },
    );
    if (!picked) {
      return undefined;
    }
    const { start, end } = at.range;
    if (picked.prompt.appliesTo === 'selection' && start.line === end.line && start.character === end.character) {
      // The server would say so too, but only after the input was asked.
      void vscode.window.showWarningMessage(`ctxls: ${picked.prompt.title} applies to a selection: select the code first.`);
      return undefined;
    }
    const args: RunPromptArgs = { name: picked.prompt.name, ...at };
    if (picked.prompt.needsInput) {
      const input = await askPromptInput(picked.prompt.title);
      if (input === undefined) {
        return undefined;
      }
      args.input = input;
    }
    return [args];
  }

  /** `ctxls.listPrompts` for the folder of `uri`; `undefined` (and a message) when it fails. */
  private async listPrompts(client: LanguageClient, uri: string): Promise<PromptInfo[] | undefined> {
    try {
      const result = (await client.sendRequest(ExecuteCommandRequest.type, { command: LIST_PROMPTS, arguments: [{ uri }] })) as ListPromptsResult | null;
      const prompts = result?.prompts ?? [];
      this.server.prompts.noteListed(prompts);
      return prompts;
    } catch (error) {
      this.reportFailure('Listing the prompt files', error, false);
      return undefined;
    }
  }

  /**
   * A prompt run without input asks for it when the prompt needs it: as its code action
   * said, else as `ctxls.listPrompts` says now. The input, `null` when none is needed,
   * `undefined` when the user cancelled.
   */
  private async promptInput(client: LanguageClient, args: RunPromptArgs): Promise<string | null | undefined> {
    let known = this.server.prompts.get(args.name);
    if (known === undefined) {
      await this.listPrompts(client, args.uri);
      known = this.server.prompts.get(args.name);
    }
    // Unknown to the server too: it answers with an error naming the prompt.
    return known?.needsInput ? askPromptInput(known.title) : null;
  }

  /** The requirements are read from saved files: offer to save the others first. */
  private async savedOrAccepted(): Promise<boolean> {
    const dirty = vscode.workspace.textDocuments.filter((d) => d.isDirty && d.uri.scheme === 'file');
    if (dirty.length === 0) {
      return true;
    }
    const choice = await vscode.window.showWarningMessage(
      `ctxls reads the requirements from the saved files; ${dirty.length} file${dirty.length === 1 ? ' has' : 's have'} unsaved changes.`,
      { modal: true },
      'Save All and Continue',
      'Continue Without Saving',
    );
    if (choice === 'Save All and Continue') {
      return vscode.workspace.saveAll(false);
    }
    return choice === 'Continue Without Saving';
  }

  /** Runs a server command (from the palette, a code action or a lens). */
  async run(command: string, args: unknown[]): Promise<unknown> {
    const client = this.server.running;
    if (!client) {
      this.notRunning();
      return undefined;
    }
    if (needsInstruction(command, args)) {
      const instruction = await askInstruction();
      if (instruction === undefined) {
        return undefined;
      }
      args = [{ ...(args[0] as object), instruction }];
    }
    if (lacksInput(command, args)) {
      const input = await this.promptInput(client, args[0]);
      if (input === undefined) {
        return undefined;
      }
      if (input !== null) {
        args = [{ ...args[0], input }, ...args.slice(1)];
      }
    }
    const title = this.commandTitle(command, args);
    const messagesBefore = this.server.serverMessages;
    const send = (token?: vscode.CancellationToken) => client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args }, token);
    let result: unknown;
    const done = MODEL_COMMANDS.has(command) ? this.status.busy() : () => undefined;
    try {
      if (MODEL_COMMANDS.has(command)) {
        this.server.commandNotifications += 1;
        try {
          result = await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: `ctxls: ${title}…`, cancellable: true },
            (_progress, token) => send(token),
          );
        } finally {
          this.server.commandNotifications -= 1;
        }
      } else {
        result = await send();
      }
    } catch (error) {
      // The server's window/showMessage about a failure and the error answer travel apart
      // (the answer can come first): look a moment later whether the server spoke.
      if (!(error instanceof ResponseError && error.code === REQUEST_CANCELLED)) {
        await new Promise((resolve) => setTimeout(resolve, SERVER_MESSAGE_GRACE_MS));
      }
      this.reportFailure(title, error, this.server.serverMessages > messagesBefore);
      return undefined;
    } finally {
      done();
    }
    await this.present(command, title, args, result, client);
    return result;
  }

  /** What the notification and the messages call the command: a prompt by its title. */
  private commandTitle(command: string, args: unknown[]): string {
    if (command === 'ctxls.runPrompt') {
      const name = (args[0] as { name?: unknown } | undefined)?.name;
      if (typeof name === 'string') {
        return this.server.prompts.get(name)?.title ?? `Run the prompt ${name}`;
      }
    }
    return COMMAND_TITLES[command as ServerCommand] ?? command;
  }

  private reportFailure(title: string, error: unknown, serverSpoke: boolean): void {
    const message = error instanceof Error ? error.message : String(error);
    this.output.warn(`${title} failed: ${message}`);
    if (error instanceof ResponseError) {
      if (error.code === REQUEST_CANCELLED) {
        return;
      }
      if (error.code === CONTENT_MODIFIED) {
        void vscode.window.showWarningMessage(`ctxls: ${title}: the document changed while the model was working, so nothing was applied. Run it again.`);
        return;
      }
    }
    if (serverSpoke) {
      // The server's own message about this failure is on screen already.
      return;
    }
    void vscode.window.showErrorMessage(`ctxls: ${message}`, 'Show Output').then((choice) => {
      if (choice === 'Show Output') {
        this.output.show(true);
      }
    });
  }

  /** What a command's result becomes in the editor, beyond what the server shows itself. */
  private async present(command: string, title: string, args: unknown[], result: unknown, client: LanguageClient): Promise<void> {
    if (command === 'ctxls.showContext' && result && typeof result === 'object' && 'snippets' in result) {
      const at = args[0] as { uri: string; position: { line: number } };
      const file = client.protocol2CodeConverter.asUri(at.uri);
      const folder = vscode.workspace.getWorkspaceFolder(file);
      const relative = folder ? path.relative(folder.uri.fsPath, file.fsPath) : path.basename(file.fsPath);
      const content = renderContext(result as ContextResult, { path: relative, line: at.position.line + 1 });
      const document = await vscode.workspace.openTextDocument({ language: 'markdown', content });
      await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.Beside, preview: true });
      return;
    }
    if (command === 'ctxls.reindex' && result && typeof result === 'object' && 'roots' in result) {
      const roots = (result as { roots: number }).roots;
      vscode.window.setStatusBarMessage(`ctxls: reindexing ${roots} folder${roots === 1 ? '' : 's'}`, 4000);
      return;
    }
    if (command === 'ctxls.summarizeDiff' && result && typeof result === 'object') {
      const markdown = (result as { markdown?: string }).markdown;
      if (markdown) {
        const choice = await vscode.window.showInformationMessage('ctxls: the diff is summarized (shown beside).', 'Copy');
        if (choice === 'Copy') {
          await vscode.env.clipboard.writeText(markdown);
        }
      }
      return;
    }
    const edit = result as EditResult | null | undefined;
    if (edit?.applied === true) {
      const files = edit.files?.length ? ` (${edit.files.join(', ')})` : '';
      vscode.window.setStatusBarMessage(`ctxls: ${title}: applied${files}; undo reverts it`, 6000);
    }
  }

  private notRunning(): void {
    void vscode.window.showErrorMessage('ctxls: the server is not running.', 'Restart', 'Show Output').then((choice) => {
      if (choice === 'Restart') {
        void this.server.restart();
      } else if (choice === 'Show Output') {
        this.output.show(true);
      }
    });
  }

  /** The status item's quick pick: every command, those needing an editor when one is active. */
  private async showCommands(): Promise<void> {
    const editor = vscode.window.activeTextEditor;
    const inCode = !!editor && editor.document.uri.scheme === 'file' && LANGUAGES.includes(editor.document.languageId);
    const needsEditor = new Set<ServerCommand>(['ctxls.generate', 'ctxls.answer', 'ctxls.explain', 'ctxls.document', 'ctxls.tests', 'ctxls.fix', 'ctxls.refactor', 'ctxls.runPrompt', 'ctxls.showContext']);
    type Pick = vscode.QuickPickItem & { command?: string };
    const picks: Pick[] = [{ label: 'At the cursor', kind: vscode.QuickPickItemKind.Separator }];
    const describe: Partial<Record<ServerCommand, string>> = {
      'ctxls.generate': 'implement the comment at the cursor',
      'ctxls.answer': 'answer the `... AI?` comment at the cursor',
      'ctxls.explain': 'the selection, or the definition at the cursor',
      'ctxls.document': 'a documentation comment above the target',
      'ctxls.tests': 'tests for the target, appended to the file',
      'ctxls.fix': "with the editor's diagnostics on those lines",
      'ctxls.refactor': 'asks for the instruction',
      'ctxls.runPrompt': 'a prompt file of .ctxls/prompts/',
      'ctxls.showContext': 'what a model would be sent here, and why',
      'ctxls.implementRequirements': 'every `// AI:` comment added since HEAD, at once',
      'ctxls.summarizeDiff': "the working tree's changes described",
      'ctxls.reindex': 'index the workspace folders again',
    };
    const item = (command: ServerCommand): Pick => ({ label: COMMAND_TITLES[command], description: describe[command], command: paletteCommand(command) });
    if (inCode) {
      picks.push(...[...needsEditor].map(item));
    }
    picks.push({ label: 'Workspace', kind: vscode.QuickPickItemKind.Separator });
    picks.push(item('ctxls.implementRequirements'), item('ctxls.summarizeDiff'), item('ctxls.reindex'));
    picks.push({ label: 'ctxls', kind: vscode.QuickPickItemKind.Separator });
    picks.push(
      { label: 'Restart the server', command: 'ctxls.restartServer' },
      { label: 'Show the server log', command: 'ctxls.showOutput' },
      { label: 'Set API key…', description: 'kept in VS Code secret storage', command: 'ctxls.setApiKey' },
      { label: 'Settings', command: 'workbench.action.openSettings', description: 'ctxls.*' },
    );
    if (!inCode) {
      picks.splice(0, 1);
    }
    const chosen = await vscode.window.showQuickPick(picks, { placeHolder: 'ctxls' });
    if (chosen?.command === 'workbench.action.openSettings') {
      await vscode.commands.executeCommand(chosen.command, '@ext:ctxls.ctxls');
    } else if (chosen?.command) {
      await vscode.commands.executeCommand(chosen.command);
    }
  }

  /** Stores (or clears) an API key in secret storage; the change reaches the server. */
  private async setApiKey(): Promise<void> {
    const targets = {
      'llm.api_key': 'Chat and completion model (llm.api_key)',
      'embedding.api_key': 'Embedding provider (embedding.api_key)',
    } satisfies Record<(typeof SECRET_KEYS)[number], string>;
    const picked = await vscode.window.showQuickPick(
      SECRET_KEYS.map((key) => ({ label: targets[key], key })),
      { placeHolder: 'Which key? It is stored in VS Code secret storage and sent to the server only.' },
    );
    if (!picked) {
      return;
    }
    const value = await vscode.window.showInputBox({
      prompt: `${picked.label}: paste the key (leave empty to remove the stored key; ctxls then reads the api_key_env variable)`,
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined) {
      return;
    }
    const name = `ctxls.${picked.key}`;
    if (value.trim() === '') {
      await this.context.secrets.delete(name);
      void vscode.window.showInformationMessage(`ctxls: the stored ${picked.key} was removed.`);
    } else {
      await this.context.secrets.store(name, value.trim());
      void vscode.window.showInformationMessage(`ctxls: ${picked.key} stored.`);
    }
  }
}

async function askPromptInput(title: string): Promise<string | undefined> {
  const input = await vscode.window.showInputBox({
    title: `ctxls: ${title}`,
    prompt: 'The prompt asks for input ({{input}} in its template).',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'The prompt needs some input.' : undefined),
  });
  return input?.trim() || undefined;
}

async function askInstruction(): Promise<string | undefined> {
  const instruction = await vscode.window.showInputBox({
    title: 'ctxls: Refactor',
    prompt: 'How should the code be rewritten?',
    placeHolder: 'e.g. use iterators instead of the index loop',
    ignoreFocusOut: true,
    validateInput: (value) => (value.trim() === '' ? 'Say what to change.' : undefined),
  });
  return instruction?.trim() || undefined;
}
