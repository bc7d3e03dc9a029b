// A scripted model for the real-VS-Code suite: an OpenAI-compatible server on 127.0.0.1
// (a free port, written to the file named by argv[2]) that streams fixed answers.
// `/v1/completions` (fill in the middle) answers `fim`, `/v1/chat/completions` the next
// of `chat` (the last one again when they run out). The driver sets them, reads what
// was asked and makes the model dead (connections closed at once) through `/control`.
'use strict';
const http = require('node:http');
const fs = require('node:fs');

const state = { fim: 'a * b', chat: [], dead: false, requests: [] };

function sse(res, events) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of events) res.write(`data: ${JSON.stringify(e)}\n\n`);
  res.end('data: [DONE]\n\n');
}

function pieces(text) {
  const out = [];
  for (let i = 0; i < text.length; i += 12) out.push(text.slice(i, i + 12));
  return out.length ? out : [''];
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.url === '/control') {
      if (req.method === 'POST') Object.assign(state, JSON.parse(body || '{}'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ requests: state.requests, dead: state.dead }));
      return;
    }
    if (state.dead) {
      req.socket.destroy();
      return;
    }
    state.requests.push({ path: req.url, at: Date.now() });
    if (req.url.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'scripted', object: 'model' }] }));
    } else if (req.url.endsWith('/chat/completions')) {
      const answer = state.chat.length > 1 ? state.chat.shift() : (state.chat[0] ?? 'No answer scripted.');
      const events = pieces(answer).map((content) => ({ id: 'x', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content }, finish_reason: null }] }));
      events.push({ id: 'x', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
      sse(res, events);
    } else if (req.url.endsWith('/completions')) {
      const events = pieces(state.fim).map((text) => ({ id: 'x', object: 'text_completion', choices: [{ index: 0, text, finish_reason: null }] }));
      events.push({ id: 'x', choices: [{ index: 0, text: '', finish_reason: 'stop' }] });
      sse(res, events);
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
    }
  });
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[2], String(server.address().port)));
process.on('SIGTERM', () => process.exit(0));
