// Next-edit suggestions (`ctxls/nextEdit`, docs/lsp-extensions.md): where the next edit
// likely goes after this session's edits, and the completion model's rewrite of it.
//
// One suggestion at a time: asking again (or an automatic request after edits, with
// `ctxls.nextEdit.auto`) replaces it. It is drawn in every editor showing its document:
// the replaced lines marked, the first new line after them (all of it, and the reason, in
// the hover). The context key `ctxls.nextEditVisible` drives the keybindings: Tab jumps to
// the suggestion when the cursor is away from it and accepts it when there; Escape
// dismisses it (neither while an inline completion or the suggest widget is shown). It is
// applied as one WorkspaceEdit, only if the document's version is still the one the
// server answered for (no version: the server read the file from disk, so only if the
// document has no unsaved changes); otherwise nothing is applied and a message says why.

import * as vscode from 'vscode';
import { ResponseError } from 'vscode-languageclient/node';

import { REQUEST_CANCELLED } from './protocol';
import { ServerController } from './server';

export const NEXT_EDIT_METHOD = 'ctxls/nextEdit';
export const CONTEXT_KEY = 'ctxls.nextEditVisible';

interface LspRange {
  start: { line: number; character: number };
  end: { line: number; character: number };
}

interface NextEditResult {
  candidates?: Array<{ uri: string; file: string; range: LspRange; reason: string; score: number }>;
  rewrite?: { status: 'offered'; uri: string; version: number | null; edits: Array<{ range: LspRange; newText: string }> } | { status: 'declined'; why: string };
  superseded?: boolean;
}

/** The shown suggestion. */
export interface Suggestion {
  uri: vscode.Uri;
  /** Relative to the workspace root, for messages. */
  file: string;
  /** The place (whole lines). */
  place: vscode.Range;
  reason: string;
  /** The document version the rewrite is for; null: the server read the file from disk. */
  version: number | null;
  edits?: vscode.TextEdit[];
  /** Why no rewrite is offered. */
  why?: string;
}

export class NextEdit implements vscode.Disposable {
  private current: Suggestion | undefined;
  private pending: vscode.CancellationTokenSource | undefined;
  private timer: NodeJS.Timeout | undefined;
  private applying = false;
  private readonly removed = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('diffEditor.removedLineBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.modifiedForeground'),
  });
  private readonly added = vscode.window.createTextEditorDecorationType({
    after: { color: new vscode.ThemeColor('editorGhostText.foreground'), margin: '0 0 0 2em' },
  });

  constructor(
    private readonly server: ServerController,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  /** The shown suggestion (for tests). */
  get suggestion(): Suggestion | undefined {
    return this.current;
  }

  register(): vscode.Disposable[] {
    return [
      vscode.commands.registerCommand('ctxls.nextEdit.suggest', () => this.request(true)),
      vscode.commands.registerCommand('ctxls.nextEdit.jumpOrAccept', () => this.jumpOrAccept()),
      vscode.commands.registerCommand('ctxls.nextEdit.jump', () => this.jump()),
      vscode.commands.registerCommand('ctxls.nextEdit.accept', () => this.accept()),
      vscode.commands.registerCommand('ctxls.nextEdit.dismiss', () => this.dismiss()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.draw()),
      vscode.workspace.onDidChangeTextDocument((event) => this.onChange(event)),
      this,
    ];
  }

  dispose(): void {
    this.cancel();
    this.removed.dispose();
    this.added.dispose();
  }

  private cancel(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pending?.cancel();
    this.pending?.dispose();
    this.pending = undefined;
  }

  private onChange(event: vscode.TextDocumentChangeEvent): void {
    if (this.applying || event.contentChanges.length === 0 || event.document.uri.scheme !== 'file') {
      return;
    }
    if (!vscode.workspace.getConfiguration('ctxls').get<boolean>('nextEdit.auto', false)) {
      return;
    }
    if (vscode.languages.match(DOCUMENT_LANGUAGES, event.document) === 0) {
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
    }
    const delay = vscode.workspace.getConfiguration('ctxls').get<number>('nextEdit.debounce_ms', 500);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const editor = vscode.window.activeTextEditor;
      if (editor && editor.document.uri.toString() === event.document.uri.toString()) {
        void this.request(false);
      }
    }, delay);
  }

  /** Asks for the next edit from the active editor's cursor. */
  async request(invoked: boolean): Promise<Suggestion | undefined> {
    const editor = vscode.window.activeTextEditor;
    const client = this.server.running;
    if (!editor || !client) {
      if (invoked) {
        void vscode.window.showWarningMessage(editor ? 'ctxls: the server is not running' : 'ctxls: no active editor to suggest a next edit for');
      }
      return undefined;
    }
    this.cancel();
    const source = new vscode.CancellationTokenSource();
    this.pending = source;
    const c2p = client.code2ProtocolConverter;
    const params = { textDocument: { uri: c2p.asUri(editor.document.uri) }, position: c2p.asPosition(editor.selection.active), invoked };
    let result: NextEditResult;
    try {
      result = (await client.sendRequest(NEXT_EDIT_METHOD, params, source.token)) as NextEditResult;
    } catch (error) {
      if (source.token.isCancellationRequested || (error instanceof ResponseError && error.code === REQUEST_CANCELLED)) {
        return undefined;
      }
      const message = error instanceof Error ? error.message : String(error);
      this.output.warn(`next edit failed: ${message}`);
      if (invoked) {
        void vscode.window.showErrorMessage(`ctxls: Next edit: ${message}`);
      }
      return undefined;
    } finally {
      if (this.pending === source) {
        this.pending = undefined;
      }
      source.dispose();
    }
    if (source.token.isCancellationRequested || !result || result.superseded) {
      return undefined;
    }
    return this.show(client.protocol2CodeConverter, result, invoked);
  }

  private show(p2c: { asUri(uri: string): vscode.Uri; asRange(range: LspRange): vscode.Range }, result: NextEditResult, invoked: boolean): Suggestion | undefined {
    this.clear();
    const best = result.candidates?.[0];
    if (!best) {
      if (invoked) {
        void vscode.window.showInformationMessage('ctxls: no next edit: none of this session\'s edits changed something used elsewhere');
      }
      return undefined;
    }
    const rewrite = result.rewrite;
    const offered = rewrite?.status === 'offered' && rewrite.edits.length > 0 ? rewrite : undefined;
    const uri = p2c.asUri(offered ? offered.uri : best.uri);
    const edits = offered?.edits.map((e) => new vscode.TextEdit(p2c.asRange(e.range), e.newText));
    const place = offered && offered.uri !== best.uri ? edits![0].range : p2c.asRange(best.range);
    const suggestion: Suggestion = {
      uri,
      file: best.file,
      place,
      reason: best.reason,
      version: offered ? (offered.version ?? null) : null,
      edits,
      why: rewrite && rewrite.status === 'declined' ? rewrite.why : rewrite && !offered ? 'nothing offered' : undefined,
    };
    this.current = suggestion;
    void vscode.commands.executeCommand('setContext', CONTEXT_KEY, true);
    this.draw();
    const where = `${suggestion.file}:${place.start.line + 1}`;
    if (suggestion.why !== undefined) {
      if (invoked) {
        void vscode.window.showInformationMessage(`ctxls: next edit at ${where} (${suggestion.reason}): no rewrite: ${suggestion.why}`);
      }
    } else if (vscode.window.activeTextEditor?.document.uri.toString() !== uri.toString()) {
      vscode.window.setStatusBarMessage(`ctxls: next edit at ${where}: ${suggestion.reason} (Tab to jump)`, 10_000);
    }
    return suggestion;
  }

  /** Draws the suggestion in the editors showing its document (and clears the others). */
  private draw(): void {
    const s = this.current;
    for (const editor of vscode.window.visibleTextEditors) {
      if (!s || editor.document.uri.toString() !== s.uri.toString()) {
        editor.setDecorations(this.removed, []);
        editor.setDecorations(this.added, []);
        continue;
      }
      const { removed, added } = decorations(s, editor.document);
      editor.setDecorations(this.removed, removed);
      editor.setDecorations(this.added, added);
    }
  }

  private clear(): void {
    this.current = undefined;
    this.draw();
    void vscode.commands.executeCommand('setContext', CONTEXT_KEY, false);
  }

  /** Hides the suggestion and drops a request in flight. */
  dismiss(): void {
    this.cancel();
    this.clear();
  }

  /** Tab: to the suggestion when the cursor is away from it, else accepts it. */
  async jumpOrAccept(): Promise<boolean> {
    const s = this.current;
    const editor = vscode.window.activeTextEditor;
    if (!s) {
      return false;
    }
    const here = editor && editor.document.uri.toString() === s.uri.toString() && extent(s).contains(editor.selection.active);
    if (here && s.edits) {
      return this.accept();
    }
    if (here) {
      // At a place with no rewrite to accept: Tab is Tab again.
      await vscode.commands.executeCommand('tab');
      return false;
    }
    await this.jump();
    return false;
  }

  /** Opens the suggestion's document with the cursor at the place. */
  async jump(): Promise<vscode.TextEditor | undefined> {
    const s = this.current;
    if (!s) {
      void vscode.window.showInformationMessage('ctxls: no next edit to jump to: run "ctxls: Suggest Next Edit"');
      return undefined;
    }
    const document = await vscode.workspace.openTextDocument(s.uri);
    const line = document.lineAt(Math.min(s.place.start.line, document.lineCount - 1));
    const at = new vscode.Position(line.lineNumber, line.text.length - line.text.trimStart().length);
    const editor = await vscode.window.showTextDocument(document, { selection: new vscode.Range(at, at), preserveFocus: false });
    this.draw();
    return editor;
  }

  /** Applies the suggestion when its document is still the version it was made for. */
  async accept(): Promise<boolean> {
    const s = this.current;
    if (!s) {
      void vscode.window.showInformationMessage('ctxls: no next edit to accept: run "ctxls: Suggest Next Edit"');
      return false;
    }
    if (!s.edits) {
      void vscode.window.showInformationMessage(`ctxls: nothing to accept: ${s.why ?? 'no rewrite was offered'}`);
      return false;
    }
    const document = await vscode.workspace.openTextDocument(s.uri);
    const stale =
      s.version !== null
        ? document.version !== s.version
          ? `${s.file} changed since the suggestion (version ${s.version}, now ${document.version})`
          : undefined
        : document.isDirty
          ? `${s.file} has unsaved changes the suggestion was not made for`
          : undefined;
    if (stale) {
      void vscode.window.showWarningMessage(`ctxls: ${stale}: nothing was applied; run "ctxls: Suggest Next Edit" again`);
      return false;
    }
    const edit = new vscode.WorkspaceEdit();
    edit.set(s.uri, s.edits);
    this.applying = true;
    let applied: boolean;
    try {
      applied = await vscode.workspace.applyEdit(edit);
    } finally {
      this.applying = false;
    }
    if (!applied) {
      void vscode.window.showWarningMessage(`ctxls: the next edit could not be applied to ${s.file}`);
      return false;
    }
    if (this.current === s) {
      this.clear();
    }
    return true;
  }
}

/** Languages the automatic trigger follows (the server's). */
const DOCUMENT_LANGUAGES = ['rust', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact'].map((language) => ({ scheme: 'file', language }));

/** The lines the suggestion covers: the place and every edit. */
function extent(s: Suggestion): vscode.Range {
  let start = s.place.start.line;
  let end = Math.max(s.place.end.line - 1, start);
  for (const e of s.edits ?? []) {
    start = Math.min(start, e.range.start.line);
    end = Math.max(end, e.range.end.character === 0 && e.range.end.line > e.range.start.line ? e.range.end.line - 1 : e.range.end.line);
  }
  return new vscode.Range(start, 0, end, Number.MAX_SAFE_INTEGER);
}

/** The decorations of a suggestion in its document. */
export function decorations(s: Suggestion, document: vscode.TextDocument): { removed: vscode.DecorationOptions[]; added: vscode.DecorationOptions[] } {
  const removed: vscode.DecorationOptions[] = [];
  const added: vscode.DecorationOptions[] = [];
  const lastLine = document.lineCount - 1;
  const hover = (newText?: string) => {
    const md = new vscode.MarkdownString(`**ctxls next edit**: ${s.reason}`);
    if (newText !== undefined) {
      md.appendCodeblock(newText.replace(/\n$/, ''), document.languageId);
      md.appendMarkdown('\n\nTab: accept · Escape: dismiss');
    } else if (s.why) {
      md.appendMarkdown(`\n\nNo rewrite: ${s.why}`);
    }
    return md;
  };
  if (!s.edits) {
    const line = Math.min(s.place.start.line, lastLine);
    const end = document.lineAt(line).range.end;
    added.push({ range: new vscode.Range(end, end), hoverMessage: hover(), renderOptions: { after: { contentText: `ctxls: ${s.reason}` } } });
    return { removed, added };
  }
  for (const e of s.edits) {
    const first = e.range.start.line;
    const after = e.range.end.character > 0 ? e.range.end.line + 1 : e.range.end.line;
    const newLines = e.newText.replace(/\n$/, '').split('\n');
    const shown = e.newText === '' ? '(lines removed)' : `→ ${newLines[0].trim()}${newLines.length > 1 ? ` (+${newLines.length - 1} lines)` : ''}`;
    if (after > first) {
      removed.push({ range: new vscode.Range(first, 0, Math.min(after, lastLine + 1) - 1, 0), hoverMessage: hover(e.newText) });
    }
    const anchorLine = Math.min(after > first ? after - 1 : first, lastLine);
    const end = document.lineAt(anchorLine).range.end;
    added.push({ range: new vscode.Range(end, end), hoverMessage: hover(e.newText), renderOptions: { after: { contentText: `${after > first ? '' : '+ '}${shown}  ctxls: ${s.reason}` } } });
  }
  return { removed, added };
}
