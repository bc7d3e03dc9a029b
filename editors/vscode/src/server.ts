// The server's lifecycle: finds the binary, starts it with the settings as
// `initializationOptions`, pushes setting changes, restarts it after a crash with backoff
// (telling the user once per crash loop), and stops it cleanly.
//
// Invariants: one server process at a time; a process the extension started is always
// ended by it (`exit`, then SIGTERM, then SIGKILL); only settings the user set are sent.

import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  DynamicFeature,
  ErrorAction,
  InlineCompletionRequest,
  LanguageClient,
  LanguageClientOptions,
  MessageType,
  ServerOptions,
  ShowMessageNotification,
  StaticFeature,
} from 'vscode-languageclient/node';

import { describeFailure, executableName, resolveBinary, systemProbe } from './binary';
import { CrashTracker } from './backoff';
import { PromptCatalog } from './prompts';
import { parseStatus, progressKind, STATUS_NOTIFICATION } from './protocol';
import { buildServerOptions, changeStrategy, Options, RESTART_KEYS, SECRET_KEYS, SecretKey, TOML_KEYS } from './settings';
import { StatusBar } from './statusBar';

export const LANGUAGES = ['rust', 'typescript', 'typescriptreact', 'javascript', 'javascriptreact'];
export const DOCUMENT_SELECTOR = LANGUAGES.map((language) => ({ scheme: 'file', language }));

/**
 * vscode-languageclient minus its own inline-completion provider: the extension registers
 * one (`inline.ts`) that marks the model busy and maps trigger kinds; two providers would
 * send two requests per keystroke, and the server answers the older one "cancelled".
 */
class CtxlsLanguageClient extends LanguageClient {
  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    const method = (feature as Partial<DynamicFeature<unknown>>).registrationType?.method;
    if (method === InlineCompletionRequest.method) {
      return;
    }
    super.registerFeature(feature);
  }
}

export interface ExecuteCommandHook {
  (command: string, args: unknown[]): Promise<unknown>;
}

export class ServerController implements vscode.Disposable {
  private client: CtxlsLanguageClient | undefined;
  private process: cp.ChildProcess | undefined;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> | undefined;
  private stderrTail: string[] = [];
  private sentAtInitialize: Options = {};
  private readonly crashes = new CrashTracker();
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private starting: Promise<void> | undefined;
  private messagesShown = 0;
  /** Commands showing their own progress notification right now (see `handleWorkDoneProgress`). */
  commandNotifications = 0;
  /** Set by the commands module: code actions and lenses run through it. */
  executeCommandHook: ExecuteCommandHook | undefined;
  /** The prompt files' titles and whether they need input, from code actions and `ctxls.listPrompts`. */
  readonly prompts = new PromptCatalog();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.LogOutputChannel,
    private readonly trace: vscode.LogOutputChannel,
    private readonly status: StatusBar,
  ) {}

  /** The running client, if the server is up. */
  get running(): LanguageClient | undefined {
    return this.client?.isRunning() ? this.client : undefined;
  }

  /** How many `window/showMessage` the server sent so far (commands use it to stay quiet when it spoke). */
  get serverMessages(): number {
    return this.messagesShown;
  }

  start(): Promise<void> {
    this.starting ??= this.startOnce().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const config = vscode.workspace.getConfiguration('ctxls');
    ensureBundledExecutable(this.context.extensionPath);
    const resolution = resolveBinary(
      { configured: config.get<string>('path'), extensionPath: this.context.extensionPath, workspaceFolder: folder },
      systemProbe(),
    );
    if (resolution.kind !== 'found') {
      const message = describeFailure(resolution);
      this.output.error(message);
      this.status.model.setServer({ kind: 'stopped', reason: resolution.kind === 'bad-setting' ? 'ctxls.path names no executable.' : 'The ctxls binary was not found.' });
      this.status.update();
      void this.explainMissingBinary(message);
      return;
    }
    const binary = resolution.path;
    this.output.info(`starting ${binary} (from ${resolution.source === 'setting' ? 'ctxls.path' : resolution.source === 'bundled' ? 'the extension' : 'PATH'})`);
    this.status.model.setServer({ kind: 'starting' });
    this.status.update();

    const args = ['serve', '--log', config.get<string>('server.log') || 'warn'];
    const cacheDir = config.get<string>('server.cacheDir')?.trim();
    if (cacheDir) {
      args.push('--cache-dir', cacheDir);
    }
    const serverOptions: ServerOptions = async () => this.spawn(binary, args, folder);
    this.prompts.clear();
    this.sentAtInitialize = await this.currentOptions();
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      traceOutputChannel: this.trace,
      revealOutputChannelOn: 4 /* RevealOutputChannelOn.Never: errors are shown as messages */,
      initializationOptions: this.sentAtInitialize,
      initializationFailedHandler: (error) => {
        this.output.error(`initialize failed: ${error instanceof Error ? error.message : String(error)}`);
        return false;
      },
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
        closed: () => this.onClosed(),
      },
      middleware: {
        handleWorkDoneProgress: (token, params, next) => {
          const kind = progressKind(token);
          this.status.model.onProgress(String(token), kind, params);
          this.status.update();
          // While a command shows its cancellable notification (commands.ts), the server's
          // window progress for it would say the same twice. `end` still goes through.
          if (kind !== 'action' || params.kind === 'end' || this.commandNotifications === 0) {
            next(token, params);
          }
        },
        window: {
          // Explanations and summaries arrive as markdown files: shown rendered.
          showDocument: async (params, token, next) => {
            const uri = vscode.Uri.parse(params.uri);
            if (!params.external && uri.scheme === 'file' && uri.path.endsWith('.md')) {
              try {
                await vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
                return { success: true };
              } catch (error) {
                this.output.warn(`markdown preview failed, opening the file: ${String(error)}`);
              }
            }
            return next(params, token);
          },
        },
        // A prompt file's code action says in its title whether the prompt needs input
        // (`…`); executing the command only passes its arguments, so remember it here.
        provideCodeActions: async (document, range, context, token, next) => {
          const actions = await next(document, range, context, token);
          for (const action of actions ?? []) {
            const command = typeof action.command === 'string' ? (action as vscode.Command) : action.command;
            if (command) {
              this.prompts.noteCommand(command);
            }
          }
          return actions;
        },
        executeCommand: (command, args, next) => (this.executeCommandHook ? this.executeCommandHook(command, args) : next(command, args)),
      },
    };
    const client = new CtxlsLanguageClient('ctxls', 'ctxls', serverOptions, clientOptions);
    client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
      const status = parseStatus(params);
      if (status) {
        this.status.model.setModel(status);
        this.status.update();
      } else {
        this.output.warn(`ignored a malformed ${STATUS_NOTIFICATION}: ${JSON.stringify(params)}`);
      }
    });
    // Registered after the client's own handler, so it replaces it: shown the same way,
    // and counted (see `serverMessages`).
    client.onNotification(ShowMessageNotification.type, (params) => {
      this.messagesShown += 1;
      const show =
        params.type === MessageType.Error
          ? vscode.window.showErrorMessage
          : params.type === MessageType.Warning
            ? vscode.window.showWarningMessage
            : vscode.window.showInformationMessage;
      void show(params.message);
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      const reason = this.lastStderrLine() ?? (error instanceof Error ? error.message : String(error));
      this.output.error(`the server failed to start: ${reason}`);
      this.status.model.setServer({ kind: 'stopped', reason: `It failed to start: ${reason}` });
      this.status.update();
      void vscode.window.showErrorMessage(`ctxls failed to start: ${reason}`, 'Show Output', 'Restart').then((choice) => this.onChoice(choice));
      return;
    }
    this.status.model.setServer({ kind: 'running', version: client.initializeResult?.serverInfo?.version, binary });
    this.status.update();
  }

  private spawn(binary: string, args: string[], cwd: string | undefined): cp.ChildProcess {
    this.stderrTail = [];
    const child = cp.spawn(binary, args, { cwd: cwd ?? this.context.extensionPath, env: process.env, stdio: 'pipe', windowsHide: true });
    this.process = child;
    this.exit = new Promise((resolve) => {
      child.on('error', (error) => resolve({ code: null, signal: null, error }));
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split(/\r?\n/)) {
        if (line.trim() !== '') {
          this.stderrTail.push(line);
        }
      }
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - 20));
    });
    return child;
  }

  private lastStderrLine(): string | undefined {
    // Strip ANSI colours and the tracing prefix's timestamp.
    const line = this.stderrTail[this.stderrTail.length - 1];
    // eslint-disable-next-line no-control-regex
    return line?.replace(/\x1b\[[0-9;]*m/g, '').trim();
  }

  /** The connection closed: a crash unless we were stopping. */
  private async onClosed(): Promise<{ action: CloseAction; handled: boolean; message?: string }> {
    if (this.stopping) {
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const exit = await within(this.exit ?? Promise.resolve(undefined), 1000);
    const how = exit?.error
      ? exit.error.message
      : exit?.signal
        ? `killed by ${exit.signal}`
        : exit?.code !== undefined && exit?.code !== null
          ? `exit code ${exit.code}`
          : 'the connection closed';
    const last = this.lastStderrLine();
    const reason = last ? `${how}: ${last}` : how;
    const decision = this.crashes.recordCrash();
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
      // The pipes closed but the process lives on: it is of no use any more.
      this.process.kill('SIGKILL');
    }
    const client = this.client;
    this.client = undefined;
    // The client ends this session once we return; it is disposed afterwards.
    setTimeout(() => void client?.dispose().catch(() => undefined), 0);
    if (decision.action === 'give-up') {
      this.status.model.setServer({ kind: 'stopped', reason: `It crashed ${decision.crashes} times in 3 minutes (${reason}).` });
      this.status.update();
      void vscode.window
        .showErrorMessage(`ctxls crashed ${decision.crashes} times in 3 minutes (${reason}); it stays stopped until you restart it.`, 'Restart', 'Show Output')
        .then((choice) => this.onChoice(choice));
    } else {
      this.status.model.setServer({ kind: 'restarting', inMs: decision.delayMs, reason });
      this.status.update();
      if (decision.crashes === 1) {
        void vscode.window
          .showErrorMessage(`ctxls stopped unexpectedly (${reason}); restarting in ${decision.delayMs / 1000} s.`, 'Show Output')
          .then((choice) => this.onChoice(choice));
      }
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        void this.start();
      }, decision.delayMs);
    }
    return { action: CloseAction.DoNotRestart, handled: true, message: `ctxls stopped (${reason})` };
  }

  private onChoice(choice: string | undefined): void {
    if (choice === 'Show Output') {
      this.output.show(true);
    } else if (choice === 'Restart') {
      void this.restart();
    }
  }

  private async explainMissingBinary(message: string): Promise<void> {
    const choice = await vscode.window.showErrorMessage(message, 'Open README', 'Set ctxls.path');
    if (choice === 'Open README') {
      await vscode.commands.executeCommand('markdown.showPreview', vscode.Uri.joinPath(this.context.extensionUri, 'README.md'));
    } else if (choice === 'Set ctxls.path') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'ctxls.path');
    }
  }

  /** A restart the user asked for (or a setting that needs one): the crash count starts over. */
  async restart(): Promise<void> {
    this.crashes.reset();
    await this.stop();
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
    }
    await this.starting?.catch(() => undefined);
    const client = this.client;
    const child = this.process;
    const exit = this.exit;
    this.client = undefined;
    this.stopping = true;
    try {
      if (client) {
        await client.stop(3000).catch((error) => this.output.warn(`stopping the server: ${String(error)}`));
        await client.dispose().catch(() => undefined);
      }
      if (child && exit && child.exitCode === null && child.signalCode === null) {
        // `exit` was sent; give it a moment, then insist.
        if ((await within(exit, 2000)) === undefined) {
          child.kill('SIGTERM');
          if ((await within(exit, 2000)) === undefined) {
            child.kill('SIGKILL');
          }
        }
      }
    } finally {
      this.stopping = false;
      this.process = undefined;
    }
    this.status.model.setServer({ kind: 'stopped', reason: 'Stopped.' });
    this.status.update();
  }

  /** The configuration layer: the settings the user set, and the keys in secret storage. */
  async currentOptions(): Promise<Options> {
    const config = vscode.workspace.getConfiguration('ctxls');
    const secrets: Partial<Record<SecretKey, string>> = {};
    for (const key of SECRET_KEYS) {
      const value = await this.context.secrets.get(`ctxls.${key}`);
      if (value) {
        secrets[key] = value;
      }
    }
    return buildServerOptions((key) => config.inspect(key), secrets);
  }

  /** A settings change: a new process for command-line settings, else the new layer. */
  async onConfigurationChanged(event?: vscode.ConfigurationChangeEvent): Promise<void> {
    if (event && RESTART_KEYS.some((key) => event.affectsConfiguration(`ctxls.${key}`))) {
      this.output.info('a server setting changed: restarting the server');
      await this.restart();
      return;
    }
    if (event && !TOML_KEYS.some((key) => event.affectsConfiguration(`ctxls.${key}`))) {
      return;
    }
    const client = this.running;
    if (!client) {
      return;
    }
    const options = await this.currentOptions();
    if (changeStrategy(this.sentAtInitialize, options) === 'restart') {
      this.output.info('a setting sent at startup was removed: restarting the server so that .ctxls.toml applies again');
      await this.restart();
      return;
    }
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: options });
  }

  dispose(): void {
    void this.stop();
  }
}

/**
 * A binary bundled in the extension may lose its executable bit on the way (zip tools,
 * copies from Windows): restore it, so that it is found.
 */
function ensureBundledExecutable(extensionPath: string): void {
  if (process.platform === 'win32') {
    return;
  }
  const bundled = path.join(extensionPath, 'bin', executableName(process.platform));
  try {
    const mode = fs.statSync(bundled).mode;
    if ((mode & 0o111) === 0) {
      fs.chmodSync(bundled, mode | 0o755);
    }
  } catch {
    // Not bundled, or not ours to change: resolution reports what it finds.
  }
}

/** The promise's value, or `undefined` after `ms` (the timer does not outlive it). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
