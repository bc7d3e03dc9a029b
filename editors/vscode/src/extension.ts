// The extension's entry point: wires the server controller, the status item, the inline
// completion provider, the next-edit suggestions and the commands, and follows settings and secret changes.

import * as vscode from 'vscode';

import { Commands } from './commands';
import { InlineCompletionProvider } from './inline';
import { NextEdit } from './nextEdit';
import { DOCUMENT_SELECTOR, ServerController } from './server';
import { SECRET_KEYS } from './settings';
import { StatusBar } from './statusBar';

let controller: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('ctxls', { log: true });
  const trace = vscode.window.createOutputChannel('ctxls (trace)', { log: true });
  const status = new StatusBar();
  const server = new ServerController(context, output, trace, status);
  controller = server;
  const commands = new Commands(context, server, status, output);
  context.subscriptions.push(
    output,
    trace,
    status,
    ...commands.register(),
    ...new NextEdit(server, output).register(),
    vscode.languages.registerInlineCompletionItemProvider(DOCUMENT_SELECTOR, new InlineCompletionProvider(server, status, output)),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('ctxls')) {
        void server.onConfigurationChanged(event);
      }
    }),
    context.secrets.onDidChange((event) => {
      if (SECRET_KEYS.some((key) => event.key === `ctxls.${key}`)) {
        void server.onConfigurationChanged();
      }
    }),
  );
  await server.start();
}

export async function deactivate(): Promise<void> {
  await controller?.stop();
  controller = undefined;
}
