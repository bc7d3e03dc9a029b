// A stand-in for the `vscode` module, enough for the bundled extension and
// vscode-languageclient to activate, sync documents, run commands and providers in plain
// Node: VS Code itself cannot run here. Values the code reads are real (Uri, Position,
// Range, events, configuration, documents, code actions, completion items); what the
// extension shows (messages, status item, progress, input boxes, quick picks, edits,
// opened documents) and the providers registered are recorded for the tests, and quick
// picks and input boxes answer from queues. Anything else is a harmless catch-all.

import * as path from 'node:path';

type Listener<T> = (value: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (listener: Listener<T>, thisArgs?: unknown) => {
    const bound = thisArgs === undefined ? listener : listener.bind(thisArgs);
    this.listeners.push(bound);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== bound)) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      listener(value);
    }
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Disposable {
  constructor(private readonly callback: () => void = () => undefined) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  dispose(): void {
    this.callback();
  }
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}
  static parse(value: string): Uri {
    const url = new URL(value);
    return new Uri(url.protocol.replace(/:$/, ''), url.host, decodeURIComponent(url.pathname), url.search.replace(/^\?/, ''), url.hash.replace(/^#/, ''));
  }
  static file(file: string): Uri {
    return new Uri('file', '', file, '', '');
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, base.authority, path.posix.join(base.path, ...parts), '', '');
  }
  static from(c: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
    return new Uri(c.scheme, c.authority ?? '', c.path ?? '', c.query ?? '', c.fragment ?? '');
  }
  get fsPath(): string {
    return this.path;
  }
  with(change: Partial<{ scheme: string; path: string; query: string; fragment: string }>): Uri {
    return new Uri(change.scheme ?? this.scheme, this.authority, change.path ?? this.path, change.query ?? this.query, change.fragment ?? this.fragment);
  }
  toString(): string {
    const encoded = this.path.split('/').map(encodeURIComponent).join('/');
    return `${this.scheme}://${this.authority}${encoded}${this.query ? `?${this.query}` : ''}${this.fragment ? `#${this.fragment}` : ''}`;
  }
  toJSON(): unknown {
    return { scheme: this.scheme, path: this.path };
  }
}

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
  isBefore(other: Position): boolean {
    return this.line < other.line || (this.line === other.line && this.character < other.character);
  }
  isEqual(other: Position): boolean {
    return this.line === other.line && this.character === other.character;
  }
  translate(lineDelta = 0, characterDelta = 0): Position {
    return new Position(this.line + lineDelta, this.character + characterDelta);
  }
}

export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(a: Position | number, b: Position | number, c?: number, d?: number) {
    const [start, end] = typeof a === 'number' ? [new Position(a, b as number), new Position(c!, d!)] : [a, b as Position];
    [this.start, this.end] = end.isBefore(start) ? [end, start] : [start, end];
  }
  get isEmpty(): boolean {
    return this.start.isEqual(this.end);
  }
  get isSingleLine(): boolean {
    return this.start.line === this.end.line;
  }
  intersection(other: Range): Range | undefined {
    const start = this.start.isBefore(other.start) ? other.start : this.start;
    const end = this.end.isBefore(other.end) ? this.end : other.end;
    return end.isBefore(start) ? undefined : new Range(start, end);
  }
  contains(p: Position | Range): boolean {
    const r = p instanceof Range ? p : new Range(p, p);
    return !r.start.isBefore(this.start) && !this.end.isBefore(r.end);
  }
}

export class Selection extends Range {
  constructor(
    readonly anchor: Position,
    readonly active: Position,
  ) {
    super(anchor, active);
  }
}

export class CancellationTokenSource {
  private readonly emitter = new EventEmitter<void>();
  token = { isCancellationRequested: false, onCancellationRequested: this.emitter.event };
  cancel(): void {
    if (!this.token.isCancellationRequested) {
      this.token.isCancellationRequested = true;
      this.emitter.fire();
    }
  }
  dispose(): void {
    this.emitter.dispose();
  }
}

export class CancellationError extends Error {}

export class MarkdownString {
  constructor(
    public value = '',
    public supportThemeIcons = false,
  ) {}
  appendMarkdown(value: string): this {
    this.value += value;
    return this;
  }
  appendText(value: string): this {
    this.value += value;
    return this;
  }
  appendCodeblock(code: string, language = ''): this {
    this.value += `\n\`\`\`${language}\n${code}\n\`\`\`\n`;
    return this;
  }
}

export class SnippetString {
  constructor(public value = '') {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class InlineCompletionItem {
  filterText?: string;
  command?: unknown;
  constructor(
    readonly insertText: string | SnippetString,
    readonly range?: Range,
  ) {}
}

export class CodeAction {
  kind?: unknown;
  command?: { title: string; command: string; arguments?: unknown[] };
  isPreferred?: boolean;
  diagnostics?: unknown[];
  edit?: unknown;
  constructor(
    readonly title: string,
    kind?: unknown,
  ) {
    this.kind = kind;
  }
}

export class CompletionItem {
  kind?: number;
  detail?: string;
  sortText?: string;
  filterText?: string;
  insertText?: string | SnippetString;
  range?: Range | { inserting: Range; replacing: Range };
  constructor(
    readonly label: string | { label: string },
    kind?: number,
  ) {
    this.kind = kind;
  }
}

export class CompletionList {
  constructor(
    readonly items: CompletionItem[] = [],
    readonly isIncomplete = false,
  ) {}
}

export class TextEdit {
  constructor(
    readonly range: Range,
    readonly newText: string,
  ) {}
  static replace(range: Range, newText: string): TextEdit {
    return new TextEdit(range, newText);
  }
  static insert(position: Position, newText: string): TextEdit {
    return new TextEdit(new Range(position, position), newText);
  }
}

/** Records what a converted `workspace/applyEdit` asks for. */
export class WorkspaceEdit {
  readonly operations: Array<{ kind: string; uri?: Uri; edits?: TextEdit[]; options?: unknown }> = [];
  set(uri: Uri, edits: Array<TextEdit | [TextEdit, unknown]>): void {
    this.operations.push({ kind: 'edit', uri, edits: edits.map((e) => (Array.isArray(e) ? e[0] : e)) });
  }
  replace(uri: Uri, range: Range, newText: string): void {
    this.operations.push({ kind: 'edit', uri, edits: [new TextEdit(range, newText)] });
  }
  insert(uri: Uri, position: Position, newText: string): void {
    this.replace(uri, new Range(position, position), newText);
  }
  delete(uri: Uri, range: Range): void {
    this.replace(uri, range, '');
  }
  createFile(uri: Uri, options?: unknown): void {
    this.operations.push({ kind: 'create', uri, options });
  }
  deleteFile(uri: Uri, options?: unknown): void {
    this.operations.push({ kind: 'delete', uri, options });
  }
  renameFile(from: Uri, _to: Uri, options?: unknown): void {
    this.operations.push({ kind: 'rename', uri: from, options });
  }
  entries(): [Uri, TextEdit[]][] {
    return this.operations.filter((o) => o.kind === 'edit').map((o) => [o.uri!, o.edits!]);
  }
  get size(): number {
    return this.operations.length;
  }
}

/** A text document with real line and offset arithmetic. */
export class TextDocument {
  isDirty = false;
  isClosed = false;
  isUntitled = false;
  eol = 1;
  constructor(
    readonly uri: Uri,
    readonly languageId: string,
    public version: number,
    private text: string,
  ) {}
  get fileName(): string {
    return this.uri.fsPath;
  }
  get lineCount(): number {
    return this.text.split('\n').length;
  }
  getText(range?: Range): string {
    return range ? this.text.slice(this.offsetAt(range.start), this.offsetAt(range.end)) : this.text;
  }
  lineAt(line: number | Position): { text: string; range: Range; lineNumber: number } {
    const n = typeof line === 'number' ? line : line.line;
    const text = this.text.split('\n')[n] ?? '';
    return { text, range: new Range(n, 0, n, text.length), lineNumber: n };
  }
  offsetAt(position: Position): number {
    const lines = this.text.split('\n');
    return lines.slice(0, position.line).reduce((sum, l) => sum + l.length + 1, 0) + Math.min(position.character, (lines[position.line] ?? '').length);
  }
  positionAt(offset: number): Position {
    const before = this.text.slice(0, offset).split('\n');
    return new Position(before.length - 1, before[before.length - 1].length);
  }
  validateRange(range: Range): Range {
    return range;
  }
  validatePosition(position: Position): Position {
    return position;
  }
  save(): Promise<boolean> {
    this.isDirty = false;
    return Promise.resolve(true);
  }
  /** Replaces `range` by `text` as an edit in the editor would: the version goes up. */
  replace(range: Range, text: string): { range: Range; rangeOffset: number; rangeLength: number; text: string } {
    const start = this.offsetAt(range.start);
    const end = this.offsetAt(range.end);
    this.text = this.text.slice(0, start) + text + this.text.slice(end);
    this.version += 1;
    this.isDirty = true;
    return { range, rangeOffset: start, rangeLength: end - start, text };
  }
}

/** An editor: a document, a selection, and the decorations set on it (by type key). */
export class TextEditor {
  readonly decorations = new Map<string, any[]>();
  constructor(
    readonly document: TextDocument,
    public selection: Selection,
  ) {}
  get selections(): Selection[] {
    return [this.selection];
  }
  setDecorations(type: { key: string }, options: any[]): void {
    this.decorations.set(type.key, options);
  }
  revealRange(): void {}
}

export interface Shown {
  level: 'info' | 'warning' | 'error';
  message: string;
  items: string[];
}

const GENERIC_NAMES = (
  'CallHierarchyIncomingCall CallHierarchyItem CallHierarchyOutgoingCall CodeActionKind CodeActionTriggerKind CodeLens Color ' +
  'ColorInformation ColorPresentation CompletionItemKind CompletionItemTag CompletionTriggerKind Diagnostic ' +
  'DiagnosticRelatedInformation DiagnosticTag DocumentHighlight DocumentHighlightKind DocumentLink DocumentSymbol FileType FoldingRange ' +
  'FoldingRangeKind Hover InlayHint InlayHintLabelPart InlineCompletionList InlineValueEvaluatableExpression InlineValueText ' +
  'InlineValueVariableLookup LinkedEditingRanges Location NotebookCellKind ParameterInformation RelativePattern SelectionRange ' +
  'SemanticTokens SemanticTokensEdit SemanticTokensEdits SignatureHelp SignatureHelpTriggerKind SignatureInformation SnippetTextEdit ' +
  'SymbolInformation SymbolKind SymbolTag TabInputCustom TabInputNotebook TabInputText TabInputTextDiff TextDocumentSaveReason TypeHierarchyItem'
).split(' ');

/** The mock and what it recorded. */
export function createVscode(options: { settings: Record<string, unknown>; folder: string }) {
  const settings = options.settings;
  const shown: Shown[] = [];
  const executed: Array<{ command: string; args: unknown[] }> = [];
  const applied: WorkspaceEdit[] = [];
  const opened: Array<{ language?: string; content?: string }> = [];
  const progressTitles: string[] = [];
  const commands = new Map<string, (...args: unknown[]) => unknown>();
  const inlineProviders: Array<{ provideInlineCompletionItems: (...args: any[]) => any }> = [];
  const codeActionProviders: Array<{ provideCodeActions: (...args: any[]) => any }> = [];
  const completionProviders: Array<{ provider: { provideCompletionItems: (...args: any[]) => any }; triggerCharacters: string[] }> = [];
  const statusItems: Array<{ text: string; tooltip: unknown; backgroundColor: unknown }> = [];
  const log: string[] = [];
  /** Answers for the next message with these buttons (by message substring). */
  const answers: Array<{ match: string; choose: string | undefined }> = [];
  const inputs: Array<string | undefined> = [];
  /** The input boxes shown, with their options. */
  const inputBoxes: Array<{ title?: string; prompt?: string }> = [];
  /** Choosers for the next quick picks (none: dismissed), and the items each pick showed. */
  const picks: Array<(items: any[]) => any> = [];
  const quickPicks: Array<{ items: any[]; options: unknown }> = [];
  const events = {
    didChangeConfiguration: new EventEmitter<{ affectsConfiguration(section: string): boolean }>(),
    didOpenTextDocument: new EventEmitter<TextDocument>(),
    didChangeTextDocument: new EventEmitter<unknown>(),
  };
  const folderUri = Uri.file(options.folder);
  const documents: TextDocument[] = [];
  const anyEvent = () => ({ dispose() {} });
  /** Set `applyEdits` to apply `workspace.applyEdit`'s text edits to the open documents. */
  const behaviour = { applyEdits: false };
  const visibleEditors: TextEditor[] = [];
  const decorationTypes: Array<{ key: string; options: unknown }> = [];

  /** An edit typed in `document`: applied, then announced (vscode-languageclient sends didChange). */
  function change(document: TextDocument, range: Range, text: string): void {
    const contentChange = document.replace(range, text);
    events.didChangeTextDocument.fire({ document, contentChanges: [contentChange], reason: undefined });
  }

  /** The open document of `uri`, else one read from disk and announced as opened. */
  function openDocument(uri: Uri): TextDocument {
    const found = documents.find((d) => d.uri.toString() === uri.toString());
    if (found) {
      return found;
    }
    const language = { '.rs': 'rust', '.ts': 'typescript' }[path.extname(uri.fsPath)] ?? 'plaintext';
    const opened = new TextDocument(uri, language, 1, require('node:fs').readFileSync(uri.fsPath, 'utf8'));
    documents.push(opened);
    events.didOpenTextDocument.fire(opened);
    return opened;
  }

  /** Shows `document` in an editor (made active), with the cursor at `at`. */
  function show(document: TextDocument, at = new Position(0, 0)): TextEditor {
    let editor = visibleEditors.find((e) => e.document === document);
    if (!editor) {
      editor = new TextEditor(document, new Selection(at, at));
      visibleEditors.push(editor);
    }
    editor.selection = new Selection(at, at);
    vscode.window.activeTextEditor = editor;
    return editor;
  }

  /** A catch-all: callable, constructible, and every property is another catch-all. */
  const catchAll: any = new Proxy(function () {}, {
    get: (_target, property) => (property === Symbol.toPrimitive ? () => 0 : property === 'then' ? undefined : catchAll),
    apply: () => catchAll,
    construct: () => catchAll,
  });

  function channel(name: string) {
    const write = (level: string) => (message: string, ...rest: unknown[]) => log.push(`[${name} ${level}] ${message}${rest.length ? ' ' + rest.map(String).join(' ') : ''}`);
    return {
      name,
      logLevel: 2,
      onDidChangeLogLevel: anyEvent,
      trace: write('trace'),
      debug: write('debug'),
      info: write('info'),
      warn: write('warn'),
      error: write('error'),
      append: write('append'),
      appendLine: write('line'),
      replace: write('replace'),
      clear() {},
      show() {},
      hide() {},
      dispose() {},
    };
  }

  function message(level: Shown['level']) {
    return (text: string, ...rest: unknown[]) => {
      const items = rest.filter((r): r is string | { title: string } => typeof r === 'string' || (typeof r === 'object' && r !== null && 'title' in r));
      shown.push({ level, message: text, items: items.map((i) => (typeof i === 'string' ? i : i.title)) });
      const answer = answers.findIndex((a) => text.includes(a.match));
      if (answer >= 0) {
        const [{ choose }] = answers.splice(answer, 1);
        return Promise.resolve(items.find((i) => (typeof i === 'string' ? i : i.title) === choose));
      }
      return Promise.resolve(undefined);
    };
  }

  const configuration = (section?: string) => {
    const full = (key: string) => (section ? `${section}.${key}` : key);
    return {
      get: (key: string, fallback?: unknown) => (settings[full(key)] !== undefined ? settings[full(key)] : fallback),
      has: (key: string) => settings[full(key)] !== undefined,
      inspect: (key: string) => ({ key: full(key), globalValue: settings[full(key)] }),
      update: () => Promise.resolve(),
    };
  };

  const vscode: any = {
    version: '1.91.0',
    EventEmitter,
    Disposable,
    Uri,
    Position,
    Range,
    Selection,
    CancellationTokenSource,
    CancellationError,
    MarkdownString,
    SnippetString,
    ThemeColor,
    InlineCompletionItem,
    CodeAction,
    CompletionItem,
    CompletionList,
    TextEdit,
    WorkspaceEdit,
    StatusBarAlignment: { Left: 1, Right: 2 },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    QuickPickItemKind: { Separator: -1, Default: 0 },
    ViewColumn: { Active: -1, Beside: -2, One: 1 },
    LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
    DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
    InlineCompletionTriggerKind: { Invoke: 0, Automatic: 1 },
    env: {
      appName: 'Visual Studio Code',
      language: 'en',
      machineId: 'test',
      sessionId: 'test',
      uriScheme: 'vscode',
      clipboard: { writeText: () => Promise.resolve(), readText: () => Promise.resolve('') },
      openExternal: () => Promise.resolve(true),
    },
    window: {
      createOutputChannel: (name: string) => channel(name),
      createStatusBarItem: () => {
        const item = { text: '', tooltip: undefined as unknown, backgroundColor: undefined as unknown, name: '', command: '', show() {}, hide() {}, dispose() {} };
        statusItems.push(item);
        return item;
      },
      showInformationMessage: message('info'),
      showWarningMessage: message('warning'),
      showErrorMessage: message('error'),
      showInputBox: (inputOptions: { title?: string; prompt?: string } = {}) => {
        inputBoxes.push(inputOptions);
        return Promise.resolve(inputs.shift());
      },
      showQuickPick: async (items: any[] | Promise<any[]>, pickOptions?: unknown) => {
        const shownItems = await items;
        quickPicks.push({ items: shownItems, options: pickOptions });
        return picks.shift()?.(shownItems);
      },
      setStatusBarMessage: (text: string) => {
        log.push(`[status bar] ${text}`);
        return { dispose() {} };
      },
      withProgress: (progressOptions: { title?: string }, task: (progress: unknown, token: unknown) => unknown) => {
        progressTitles.push(progressOptions.title ?? '');
        return Promise.resolve(task({ report() {} }, new CancellationTokenSource().token));
      },
      showTextDocument: (document: unknown, showOptions?: { selection?: Range }) =>
        Promise.resolve(document instanceof TextDocument ? show(document, showOptions?.selection?.start) : { document }),
      createTextEditorDecorationType: (decorationOptions: unknown) => {
        const type = { key: `decoration-${decorationTypes.length}`, options: decorationOptions, dispose() {} };
        decorationTypes.push(type);
        return type;
      },
      activeTextEditor: undefined as unknown,
      visibleTextEditors: visibleEditors,
      tabGroups: { all: [], onDidChangeTabs: anyEvent, onDidChangeTabGroups: anyEvent },
      onDidChangeVisibleTextEditors: anyEvent,
      onDidChangeActiveTextEditor: anyEvent,
      onDidChangeTextEditorSelection: anyEvent,
    },
    workspace: {
      workspaceFolders: [{ uri: folderUri, name: path.basename(options.folder), index: 0 }],
      getWorkspaceFolder: () => ({ uri: folderUri, name: path.basename(options.folder), index: 0 }),
      textDocuments: documents,
      notebookDocuments: [],
      getConfiguration: configuration,
      onDidChangeConfiguration: events.didChangeConfiguration.event,
      onDidOpenTextDocument: events.didOpenTextDocument.event,
      onDidChangeTextDocument: events.didChangeTextDocument.event,
      onDidCloseTextDocument: anyEvent,
      onDidSaveTextDocument: anyEvent,
      onWillSaveTextDocument: anyEvent,
      onDidChangeWorkspaceFolders: anyEvent,
      onDidCreateFiles: anyEvent,
      onDidRenameFiles: anyEvent,
      onDidDeleteFiles: anyEvent,
      onWillCreateFiles: anyEvent,
      onWillRenameFiles: anyEvent,
      onWillDeleteFiles: anyEvent,
      createFileSystemWatcher: () => ({ onDidCreate: anyEvent, onDidChange: anyEvent, onDidDelete: anyEvent, dispose() {} }),
      applyEdit: (edit: WorkspaceEdit) => {
        applied.push(edit);
        if (behaviour.applyEdits) {
          for (const [uri, edits] of edit.entries()) {
            const document = openDocument(uri);
            // From the end, so that earlier ranges stay valid.
            for (const e of [...edits].sort((a, b) => (a.range.start.isBefore(b.range.start) ? 1 : -1))) {
              change(document, e.range, e.newText);
            }
          }
        }
        return Promise.resolve(true);
      },
      openTextDocument: (what: Uri | { language?: string; content?: string }) => {
        if (what instanceof Uri) {
          return Promise.resolve(openDocument(what));
        }
        opened.push(what);
        return Promise.resolve(new TextDocument(Uri.parse('untitled:///Untitled-1'), what.language ?? 'plaintext', 1, what.content ?? ''));
      },
      saveAll: () => Promise.resolve(true),
    },
    languages: {
      match: (selector: Array<{ scheme?: string; language?: string }>, document: TextDocument) =>
        (Array.isArray(selector) ? selector : [selector]).some((s) => (!s.scheme || s.scheme === document.uri.scheme) && (!s.language || s.language === document.languageId)) ? 10 : 0,
      registerInlineCompletionItemProvider: (_selector: unknown, provider: (typeof inlineProviders)[number]) => {
        inlineProviders.push(provider);
        return new Disposable(() => inlineProviders.splice(inlineProviders.indexOf(provider), 1));
      },
      registerCodeActionsProvider: (_selector: unknown, provider: (typeof codeActionProviders)[number]) => {
        codeActionProviders.push(provider);
        return new Disposable(() => codeActionProviders.splice(codeActionProviders.indexOf(provider), 1));
      },
      registerCompletionItemProvider: (_selector: unknown, provider: (typeof completionProviders)[number]['provider'], ...triggerCharacters: string[]) => {
        const entry = { provider, triggerCharacters };
        completionProviders.push(entry);
        return new Disposable(() => completionProviders.splice(completionProviders.indexOf(entry), 1));
      },
      createDiagnosticCollection: () => ({ set() {}, delete() {}, clear() {}, dispose() {}, get: () => [], forEach() {}, has: () => false }),
      getDiagnostics: () => [],
    },
    commands: {
      registerCommand: (id: string, callback: (...args: unknown[]) => unknown) => {
        commands.set(id, callback);
        return new Disposable(() => commands.delete(id));
      },
      executeCommand: async (id: string, ...args: unknown[]) => {
        executed.push({ command: id, args });
        const callback = commands.get(id);
        return callback ? callback(...args) : undefined;
      },
      getCommands: () => Promise.resolve([...commands.keys()]),
    },
    extensions: { getExtension: () => undefined, all: [] },
  };
  // Classes and enums vscode-languageclient references but these tests do not exercise:
  // generic classes (constructible, extendable) whose static members are catch-alls.
  // Bundles copy the module's own properties, so each must exist as one.
  for (const name of GENERIC_NAMES) {
    if (!(name in vscode)) {
      const generic = class {
        constructor(...args: unknown[]) {
          Object.assign(this, { args });
        }
      };
      Object.defineProperty(generic, 'name', { value: name });
      vscode[name] = new Proxy(generic, { get: (t: any, p) => (p in t ? t[p] : typeof p === 'symbol' ? undefined : catchAll) });
    }
  }
  // Anything not modelled above: a catch-all, so loading never fails on it.
  const withFallback = (target: any): any =>
    new Proxy(target, {
      get: (t, property) => {
        if (property in t) {
          const value = t[property];
          return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof EventEmitter) && value.constructor === Object ? withFallback(value) : value;
        }
        if (typeof property === 'symbol' || property === 'then' || property === '__esModule') {
          return undefined;
        }
        return catchAll;
      },
    });
  return {
    module: withFallback(vscode),
    raw: vscode,
    shown,
    executed,
    applied,
    opened,
    progressTitles,
    commands,
    inlineProviders,
    codeActionProviders,
    completionProviders,
    statusItems,
    log,
    answers,
    inputs,
    inputBoxes,
    picks,
    quickPicks,
    events,
    documents,
    behaviour,
    visibleEditors,
    decorationTypes,
    change,
    show,
  };
}
