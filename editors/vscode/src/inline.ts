// Inline completions (ghost text) from `textDocument/inlineCompletion` (LSP 3.18).
//
// Each request carries VS Code's cancellation token, so a keystroke that makes VS Code
// drop a request sends `$/cancelRequest` and the server drops the model call. The
// server answers superseded requests with RequestCancelled; those, ContentModified and
// cancellations end quietly. While a request is in flight the model shows as busy.
// Accepting is VS Code's own (Tab, or "ctxls: Accept Inline Completion").

import * as vscode from 'vscode';
import { InlineCompletionItem as LspItem, InlineCompletionList, InlineCompletionRequest, ResponseError } from 'vscode-languageclient/node';

import { CONTENT_MODIFIED, inlineCompletionParams, REQUEST_CANCELLED, VSCODE_TRIGGER_AUTOMATIC } from './protocol';
import { ServerController } from './server';
import { StatusBar } from './statusBar';

export class InlineCompletionProvider implements vscode.InlineCompletionItemProvider {
  constructor(
    private readonly server: ServerController,
    private readonly status: StatusBar,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[] | undefined> {
    const automatic = context.triggerKind === VSCODE_TRIGGER_AUTOMATIC;
    if (automatic && !vscode.workspace.getConfiguration('ctxls').get<boolean>('inlineCompletion.enable', true)) {
      return undefined;
    }
    const client = this.server.running;
    if (!client || token.isCancellationRequested) {
      return undefined;
    }
    const c2p = client.code2ProtocolConverter;
    const selected = context.selectedCompletionInfo
      ? { range: c2p.asRange(context.selectedCompletionInfo.range), text: context.selectedCompletionInfo.text }
      : undefined;
    const params = inlineCompletionParams(c2p.asUri(document.uri), c2p.asPosition(position), context.triggerKind, selected);
    const done = this.status.busy();
    try {
      const result = await client.sendRequest(InlineCompletionRequest.type, params, token);
      if (token.isCancellationRequested || !result) {
        return undefined;
      }
      const items: LspItem[] = Array.isArray(result) ? result : (result as InlineCompletionList).items;
      const p2c = client.protocol2CodeConverter;
      return items.map((item) => {
        const text = typeof item.insertText === 'string' ? item.insertText : new vscode.SnippetString(item.insertText.value);
        const range = item.range ? p2c.asRange(item.range) : undefined;
        const converted = new vscode.InlineCompletionItem(text, range);
        if (item.filterText !== undefined) {
          converted.filterText = item.filterText;
        }
        if (item.command) {
          converted.command = { title: item.command.title, command: item.command.command, arguments: item.command.arguments };
        }
        return converted;
      });
    } catch (error) {
      if (token.isCancellationRequested) {
        return undefined;
      }
      if (error instanceof ResponseError && (error.code === REQUEST_CANCELLED || error.code === CONTENT_MODIFIED)) {
        return undefined;
      }
      // Model failures are announced by the server (once a minute) and the status item;
      // a popup per keystroke would be worse than none.
      this.output.warn(`inline completion failed: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    } finally {
      done();
    }
  }
}
