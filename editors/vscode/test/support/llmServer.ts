// A scripted LLM server on 127.0.0.1 (a random port) speaking OpenAI's streaming wire
// format: it records every request, answers from a queue (chunked, optionally after a
// delay), and counts clients that hang up before the answer is complete. Modelled on the
// Rust tests' `tests/support/llm_server.rs`.

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  contentType: string;
  chunks: string[];
  /** Wait this long before the first chunk. */
  delayFirstMs?: number;
}

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any;
}

/** `/v1/completions` SSE: one `text` per piece, then a stop chunk and `[DONE]`. */
export function completionReply(pieces: string[]): Reply {
  const events = pieces.map((text) => sse({ id: 'x', object: 'text_completion', choices: [{ index: 0, text, finish_reason: null }] }));
  events.push(sse({ id: 'x', choices: [{ index: 0, text: '', finish_reason: 'stop' }] }), 'data: [DONE]\n\n');
  return { status: 200, contentType: 'text/event-stream', chunks: events };
}

/** `/v1/chat/completions` SSE: one delta per piece, then a stop chunk and `[DONE]`. */
export function chatReply(pieces: string[]): Reply {
  const events = pieces.map((content) => sse({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] }));
  events.push(sse({ id: 'x', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }), 'data: [DONE]\n\n');
  return { status: 200, contentType: 'text/event-stream', chunks: events };
}

function sse(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

export class ScriptedLlm {
  readonly requests: Recorded[] = [];
  /** Requests to `/tokenize` (ctxls asks a local server whether the model has a FIM template's tokens). */
  tokenizeCalls = 0;
  hangups = 0;
  private readonly script: Reply[] = [];
  private readonly waiters: Array<() => void> = [];

  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<ScriptedLlm> {
    let instance: ScriptedLlm | undefined;
    const server = http.createServer((req, res) => instance?.serve(req, res));
    instance = new ScriptedLlm(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return instance;
  }

  /** `http://127.0.0.1:PORT` (OpenAI-compatible base URLs add `/v1`). */
  get url(): string {
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  push(reply: Reply): void {
    this.script.push(reply);
  }

  /** Resolves once `n` requests have arrived. */
  async waitForRequests(n: number, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.requests.length < n) {
      if (Date.now() > deadline) {
        throw new Error(`the model got ${this.requests.length} requests, not ${n}, within ${timeoutMs} ms`);
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      if ((req.url ?? '').endsWith('/tokenize')) {
        // llama.cpp's tokenizer, which this server is not: asked apart from the script.
        this.tokenizeCalls += 1;
        void this.answer(res, { status: 404, contentType: 'application/json', chunks: ['{"error":"File Not Found"}'] });
        return;
      }
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json: () => JSON.parse(body) });
      this.waiters.splice(0).forEach((wake) => wake());
      const reply = this.script.shift() ?? { status: 404, contentType: 'application/json', chunks: ['{"error":"no scripted reply"}'] };
      void this.answer(res, reply);
    });
  }

  private async answer(res: http.ServerResponse, reply: Reply): Promise<void> {
    let closed = false;
    res.on('close', () => {
      if (!res.writableFinished) {
        closed = true;
        this.hangups += 1;
      }
    });
    res.writeHead(reply.status, { 'content-type': reply.contentType, connection: 'close' });
    res.flushHeaders();
    if (reply.delayFirstMs) {
      const until = Date.now() + reply.delayFirstMs;
      while (!closed && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    for (const chunk of reply.chunks) {
      if (closed) {
        return;
      }
      res.write(chunk);
    }
    res.end();
  }

  async close(): Promise<void> {
    if (!this.server.listening) {
      return;
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
