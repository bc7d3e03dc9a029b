--- A scripted LLM server for the tests, in the test driver's own event loop (vim.uv):
--- real HTTP/1.1 on 127.0.0.1 with a random port, the OpenAI-compatible wire format
--- (`/v1/chat/completions` and `/v1/completions` streamed as SSE, `/v1/models`). It records
--- every request and answers each path from its own queue (then its fallback, else 404).
local M = {}
M.__index = M

local function sse(events)
  local parts = {}
  for _, event in ipairs(events) do
    parts[#parts + 1] = "data: " .. vim.json.encode(event) .. "\n\n"
  end
  parts[#parts + 1] = "data: [DONE]\n\n"
  return { status = 200, content_type = "text/event-stream", body = table.concat(parts) }
end

--- A streamed chat answer, one SSE event per piece.
---@param pieces string[]
function M.chat(pieces)
  local events = {}
  for _, piece in ipairs(pieces) do
    events[#events + 1] = { id = "x", object = "chat.completion.chunk", choices = { { index = 0, delta = { content = piece }, finish_reason = vim.NIL } } }
  end
  events[#events + 1] = { id = "x", choices = { { index = 0, delta = vim.empty_dict(), finish_reason = "stop" } } }
  return sse(events)
end

--- A streamed completion (fill-in-the-middle) answer.
---@param pieces string[]
function M.completion(pieces)
  local events = {}
  for _, piece in ipairs(pieces) do
    events[#events + 1] = { id = "x", object = "text_completion", choices = { { index = 0, text = piece, finish_reason = vim.NIL } } }
  end
  events[#events + 1] = { id = "x", choices = { { index = 0, text = "", finish_reason = "stop" } } }
  return sse(events)
end

---@param status integer
---@param value table
function M.json(status, value)
  return { status = status, content_type = "application/json", body = vim.json.encode(value) }
end

local REASONS = { [200] = "OK", [404] = "Not Found", [500] = "Internal Server Error" }

---@param socket uv.uv_tcp_t
---@param reply table
local function respond(socket, reply)
  local head = ("HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"):format(
    reply.status,
    REASONS[reply.status] or "X",
    reply.content_type,
    #reply.body
  )
  socket:write(head .. reply.body, function()
    socket:shutdown(function()
      if not socket:is_closing() then
        socket:close()
      end
    end)
  end)
end

--- Starts listening on 127.0.0.1 with a random port.
function M.start()
  local self = setmetatable({ requests = {}, queues = {}, fallbacks = {}, sockets = {} }, M)
  local server = assert(vim.uv.new_tcp())
  assert(server:bind("127.0.0.1", 0))
  self.port = server:getsockname().port
  self.server = server
  assert(server:listen(64, function(err)
    if err then
      return
    end
    local socket = assert(vim.uv.new_tcp())
    server:accept(socket)
    local buffer = ""
    socket:read_start(function(read_err, chunk)
      if read_err or not chunk then
        if not socket:is_closing() then
          socket:close()
        end
        return
      end
      buffer = buffer .. chunk
      local head_end = buffer:find("\r\n\r\n", 1, true)
      if not head_end then
        return
      end
      local head = buffer:sub(1, head_end - 1)
      local length = tonumber(head:lower():match("\r\ncontent%-length:%s*(%d+)")) or 0
      if #buffer < head_end + 3 + length then
        return
      end
      socket:read_stop()
      local method, target = head:match("^(%u+) (%S+)")
      local path = (target or ""):gsub("%?.*$", "")
      local headers = {}
      for name, value in head:gmatch("\r\n([^:\r\n]+):%s*([^\r\n]*)") do
        headers[name:lower()] = value
      end
      table.insert(self.requests, { method = method, path = path, headers = headers, body = buffer:sub(head_end + 4, head_end + 3 + length) })
      local queue = self.queues[path]
      local reply = queue and table.remove(queue, 1) or self.fallbacks[path]
      respond(socket, reply or M.json(404, { error = { message = "no scripted reply for " .. tostring(path) } }))
    end)
  end))
  return self
end

function M:url()
  return ("http://127.0.0.1:%d/v1"):format(self.port)
end

--- Queues a reply for a path (`/v1/chat/completions`, `/v1/completions`, ...).
function M:push(path, reply)
  self.queues[path] = self.queues[path] or {}
  table.insert(self.queues[path], reply)
end

--- The reply for a path once its queue is empty.
function M:fallback(path, reply)
  self.fallbacks[path] = reply
end

--- The recorded requests to a path (all when nil), bodies decoded when JSON.
function M:requests_to(path)
  local out = {}
  for _, request in ipairs(self.requests) do
    if path == nil or request.path == path then
      local ok, decoded = pcall(vim.json.decode, request.body)
      out[#out + 1] = vim.tbl_extend("force", request, { json = ok and decoded or nil })
    end
  end
  return out
end

function M:stop()
  if self.server and not self.server:is_closing() then
    self.server:close()
  end
end

return M
