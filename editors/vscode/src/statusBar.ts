// The status bar item: renders `StatusModel` (indexing progress, model state, server
// state); a click opens the command quick pick.

import * as vscode from 'vscode';

import { StatusModel } from './status';

export class StatusBar implements vscode.Disposable {
  readonly model = new StatusModel();
  private readonly item = vscode.window.createStatusBarItem('ctxls.status', vscode.StatusBarAlignment.Right, 100);

  constructor() {
    this.item.name = 'ctxls';
    this.item.command = 'ctxls.showCommands';
    this.update();
    this.item.show();
  }

  update(): void {
    const view = this.model.view();
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    this.item.tooltip = tooltip;
    this.item.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  /** Marks a client-side model request as in flight until the returned function runs. */
  busy(): () => void {
    const end = this.model.beginRequest();
    this.update();
    return () => {
      end();
      this.update();
    };
  }

  dispose(): void {
    this.item.dispose();
  }
}
