// The real `ctxls` binary over stdio, driven with vscode-jsonrpc the way
// vscode-languageclient drives it: the same framing, cancellation through `$/cancelRequest`,
// and answers to the server's requests (progress creation, capability registration,
// `workspace/applyEdit`, `window/showDocument`). Everything the server sends is recorded.

import * as cp from 'node:child_process';
import * as path from 'node:path';
import { createMessageConnection, MessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

export interface Incoming {
  method: string;
  params: any;
  /** Requests only: what the client answered. */
  answered?: unknown;
}

/** The binary under test: `$CTXLS_BIN`, else `target/debug/ctxls` of the repository. */
export function binaryUnderTest(): string {
  const fromEnv = process.env.CTXLS_BIN;
  // This file runs from out/test/support/; the package is three levels up.
  const packageDir = path.resolve(__dirname, '..', '..', '..');
  return fromEnv ? path.resolve(fromEnv) : path.resolve(packageDir, '..', '..', 'target', 'debug', 'ctxls');
}

export class LspSession {
  readonly incoming: Incoming[] = [];
  readonly stderr: string[] = [];
  private readonly listeners: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: cp.ChildProcess,
    readonly connection: MessageConnection,
  ) {
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    connection.onNotification((method, params) => this.record({ method, params }));
    // vscode-jsonrpc routes `$/progress` to per-token handlers; none are registered here.
    connection.onUnhandledProgress((params) => this.record({ method: '$/progress', params }));
    connection.onRequest((method, params) => {
      let answer: unknown = null;
      if (method === 'workspace/applyEdit') {
        answer = { applied: true };
      } else if (method === 'window/showDocument') {
        answer = { success: true };
      } else if (method === 'workspace/configuration') {
        answer = ((params as { items?: unknown[] })?.items ?? []).map(() => null);
      }
      this.record({ method, params, answered: answer });
      return answer;
    });
    connection.listen();
  }

  static start(binary: string, cacheDir: string, env: NodeJS.ProcessEnv): LspSession {
    const child = cp.spawn(binary, ['serve', '--cache-dir', cacheDir], { stdio: 'pipe', env });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const session = new LspSession(child, connection);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => session.stderr.push(chunk));
    child.on('error', (error) => session.stderr.push(`spawn failed: ${error.message}`));
    return session;
  }

  private record(message: Incoming): void {
    this.incoming.push(message);
    this.listeners.splice(0).forEach((wake) => wake());
  }

  /** Where the messages received from now on begin (for `waitFor`'s `since`). */
  mark(): number {
    return this.incoming.length;
  }

  /** The messages received since `mark`. */
  since(mark: number): Incoming[] {
    return this.incoming.slice(mark);
  }

  /**
   * The first message matching `predicate` (already seen, or the next to come); with
   * `since`, among those received since that `mark()`.
   */
  async waitFor(what: string, predicate: (m: Incoming) => boolean, timeoutMs = 20_000, since = 0): Promise<Incoming> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.incoming.slice(since).find(predicate);
      if (found) {
        return found;
      }
      if (Date.now() > deadline) {
        const seen = this.incoming.map((m) => m.method).join(', ');
        throw new Error(`${what}: nothing within ${timeoutMs} ms (seen: ${seen}; stderr: ${this.stderr.join('').slice(-2000)})`);
      }
      await new Promise<void>((resolve) => {
        this.listeners.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** `shutdown`, `exit`, and the process's exit code (killed after 5 s). */
  async shutdown(): Promise<number | null> {
    await this.connection.sendRequest('shutdown');
    await this.connection.sendNotification('exit');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 5000)))]);
    clearTimeout(timer);
    if (code === 'timeout') {
      this.kill();
      throw new Error('the server did not exit after `exit`');
    }
    this.connection.dispose();
    return code;
  }

  kill(): void {
    this.connection.dispose();
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
  }
}

/** The client capabilities vscode-languageclient 11 announces, the parts ctxls reads. */
export const CLIENT_CAPABILITIES = {
  general: { positionEncodings: ['utf-16'] },
  window: { workDoneProgress: true, showDocument: { support: true }, showMessage: { messageActionItem: { additionalPropertiesSupport: true } } },
  workspace: {
    applyEdit: true,
    workspaceEdit: { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'], failureHandling: 'textOnlyTransactional' },
    didChangeConfiguration: { dynamicRegistration: true },
    didChangeWatchedFiles: { dynamicRegistration: true, relativePatternSupport: true },
    workspaceFolders: true,
    configuration: true,
    executeCommand: { dynamicRegistration: true },
  },
  textDocument: {
    completion: {
      dynamicRegistration: true,
      contextSupport: true,
      completionItem: { snippetSupport: true, insertReplaceSupport: true, labelDetailsSupport: true, resolveSupport: { properties: ['documentation', 'detail', 'additionalTextEdits'] } },
      completionList: { itemDefaults: ['commitCharacters', 'editRange', 'insertTextFormat', 'insertTextMode', 'data'] },
    },
    synchronization: { dynamicRegistration: true, willSave: true, willSaveWaitUntil: true, didSave: true },
    hover: { dynamicRegistration: true, contentFormat: ['markdown', 'plaintext'] },
    documentSymbol: { dynamicRegistration: true, hierarchicalDocumentSymbolSupport: true },
    codeAction: {
      dynamicRegistration: true,
      isPreferredSupport: true,
      codeActionLiteralSupport: { codeActionKind: { valueSet: ['', 'quickfix', 'refactor', 'refactor.extract', 'refactor.inline', 'refactor.rewrite', 'source', 'source.organizeImports'] } },
    },
    codeLens: { dynamicRegistration: true },
    publishDiagnostics: { relatedInformation: true, versionSupport: false },
  },
};
