// What the status bar item says: the server's state, indexing progress, and the model's
// state. Pure: the extension feeds it events and renders `view()`.
//
// The model's state comes from the server's `ctxls/status` notification (ready until one
// arrives) and from the client's own in-flight model requests (inline completions and
// commands), which count as busy whatever the server last said.

import { ModelState, ProgressKind, StatusParams } from './protocol';

export type ServerState =
  | { kind: 'starting' }
  | { kind: 'running'; version?: string; binary?: string }
  | { kind: 'restarting'; inMs: number; reason: string }
  | { kind: 'stopped'; reason: string };

interface Progress {
  kind: ProgressKind;
  title: string;
  message?: string;
  percentage?: number;
}

export interface StatusView {
  text: string;
  /** Markdown. */
  tooltip: string;
  severity: 'normal' | 'warning' | 'error';
}

export class StatusModel {
  private server: ServerState = { kind: 'starting' };
  private model: StatusParams = { model: 'ready' };
  private inFlight = 0;
  private readonly progress = new Map<string, Progress>();

  setServer(state: ServerState): void {
    this.server = state;
    if (state.kind !== 'running') {
      // A new process starts from scratch.
      this.progress.clear();
      this.inFlight = 0;
      this.model = { model: 'ready' };
    }
  }

  setModel(status: StatusParams): void {
    this.model = status;
  }

  /** A client-side model request began; call the returned function when it ends. */
  beginRequest(): () => void {
    this.inFlight += 1;
    let done = false;
    return () => {
      if (!done) {
        done = true;
        this.inFlight = Math.max(0, this.inFlight - 1);
      }
    };
  }

  /** A `$/progress` value for `token`. */
  onProgress(token: string, kind: ProgressKind, value: { kind: 'begin' | 'report' | 'end'; title?: string; message?: string; percentage?: number }): void {
    if (value.kind === 'end') {
      this.progress.delete(token);
      return;
    }
    const previous = this.progress.get(token);
    this.progress.set(token, {
      kind,
      title: value.title ?? previous?.title ?? 'Working',
      message: value.message ?? previous?.message,
      percentage: value.percentage ?? previous?.percentage,
    });
  }

  /** ready, busy or error, all sources considered. */
  modelState(): ModelState {
    const actions = [...this.progress.values()].some((p) => p.kind === 'action');
    if (this.inFlight > 0 || actions || this.model.model === 'busy') {
      return 'busy';
    }
    return this.model.model;
  }

  view(): StatusView {
    const lines: string[] = [];
    let text: string;
    let severity: StatusView['severity'] = 'normal';
    const indexing = [...this.progress.values()].filter((p) => p.kind === 'index' || p.kind === 'embed' || p.kind === 'other');
    switch (this.server.kind) {
      case 'starting':
        text = '$(loading~spin) ctxls';
        lines.push('**ctxls**: starting the server…');
        break;
      case 'restarting':
        text = '$(debug-restart) ctxls';
        severity = 'warning';
        lines.push(`**ctxls**: the server stopped (${this.server.reason}); restarting in ${Math.ceil(this.server.inMs / 1000)} s.`);
        break;
      case 'stopped':
        text = '$(circle-slash) ctxls';
        severity = 'error';
        lines.push(`**ctxls**: not running. ${this.server.reason}`);
        break;
      case 'running': {
        const model = this.modelState();
        const busyIcon = '$(loading~spin)';
        if (indexing.length > 0) {
          const first = indexing[0];
          text = `$(sync~spin) ctxls${first.percentage !== undefined ? ` ${first.percentage}%` : ''}`;
        } else if (model === 'busy') {
          text = `${busyIcon} ctxls`;
        } else if (model === 'error') {
          text = '$(warning) ctxls';
          severity = 'warning';
        } else {
          text = '$(sparkle) ctxls';
        }
        const version = this.server.version ? ` ${this.server.version}` : '';
        lines.push(`**ctxls${version}**: running${this.server.binary ? ` (\`${this.server.binary}\`)` : ''}`);
        for (const p of indexing) {
          const percent = p.percentage !== undefined ? ` ${p.percentage}%` : '';
          lines.push(`${p.title}${percent}${p.message ? `: ${p.message}` : ''}`);
        }
        const reason = this.model.message ? `: ${this.model.message}` : '';
        if (model === 'busy') {
          lines.push(`Model: busy${this.model.model === 'error' ? ` (last error${reason})` : ''}`);
        } else if (model === 'error') {
          lines.push(`Model: error${reason}`);
        } else {
          lines.push(`Model: ready${reason}`);
        }
        break;
      }
    }
    lines.push('', 'Click for ctxls commands.');
    return { text, tooltip: lines.join('\n\n'), severity };
  }
}
