--- Small helpers shared by the modules: the client API across Neovim 0.10 and 0.11+,
--- position conversions in the client's encoding, and messages.
local M = {}

local has_011 = vim.fn.has("nvim-0.11") == 1

M.NAME = "ctxls"

--- JSON-RPC error codes the plugin treats specially.
M.REQUEST_CANCELLED = -32800
M.CONTENT_MODIFIED = -32801

---@param message string
---@param level? integer vim.log.levels.*
function M.notify(message, level)
  vim.notify("ctxls: " .. message, level or vim.log.levels.INFO, { title = "ctxls" })
end

--- Sends a request; returns the request id, or nil when the client is gone.
---@param client vim.lsp.Client
---@param method string
---@param params table|nil
---@param handler fun(err: table|nil, result: any, ctx: table)
---@param bufnr? integer
---@return integer|nil
function M.request(client, method, params, handler, bufnr)
  local ok, id
  if has_011 then
    ok, id = client:request(method, params, handler, bufnr)
  else
    ok, id = client.request(method, params, handler, bufnr)
  end
  if not ok then
    return nil
  end
  return id
end

--- Sends a request and waits for the answer (at most `timeout_ms`); nil on an error or
--- a timeout. Only for cheap requests where a caller cannot wait for a callback
--- (command-line completion).
---@param client vim.lsp.Client
---@param method string
---@param params table|nil
---@param timeout_ms integer
---@param bufnr? integer
---@return any|nil
function M.request_sync(client, method, params, timeout_ms, bufnr)
  local response
  if has_011 then
    response = client:request_sync(method, params, timeout_ms, bufnr)
  else
    response = client.request_sync(method, params, timeout_ms, bufnr)
  end
  if not response or response.err then
    return nil
  end
  return response.result
end

---@param client vim.lsp.Client
---@param id integer
function M.cancel(client, id)
  if M.is_stopped(client) then
    return
  end
  if has_011 then
    client:cancel_request(id)
  else
    client.cancel_request(id)
  end
end

---@param client vim.lsp.Client
---@param method string
---@param params table|nil
function M.client_notify(client, method, params)
  if has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

---@param client vim.lsp.Client
---@param method string
---@param bufnr? integer
---@return boolean
function M.supports(client, method, bufnr)
  if has_011 then
    return client:supports_method(method, bufnr)
  end
  return client.supports_method(method, { bufnr = bufnr })
end

---@param client vim.lsp.Client
---@return boolean
function M.is_stopped(client)
  if has_011 then
    return client:is_stopped()
  end
  return client.is_stopped()
end

--- The ctxls clients, of a buffer or all of them.
---@param bufnr? integer
---@return vim.lsp.Client[]
function M.clients(bufnr)
  return vim.lsp.get_clients({ name = M.NAME, bufnr = bufnr })
end

--- The byte column of an LSP `character` on `line`, in the client's encoding.
---@param line string
---@param character integer
---@param encoding string 'utf-8'|'utf-16'|'utf-32'
---@return integer
function M.byte_col(line, character, encoding)
  if encoding == "utf-8" then
    return math.min(character, #line)
  end
  local ok, col
  if has_011 then
    ok, col = pcall(vim.str_byteindex, line, encoding, character, false)
  else
    ok, col = pcall(vim.str_byteindex, line, character, encoding == "utf-16")
  end
  if not ok then
    return #line
  end
  return math.min(col, #line)
end

--- The LSP `character` of byte column `col` of buffer line `row` (0-based).
---@param bufnr integer
---@param row integer
---@param col integer
---@param encoding string
---@return integer
function M.character(bufnr, row, col, encoding)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  col = math.min(col, #line)
  if encoding == "utf-8" then
    return col
  end
  return vim.lsp.util.character_offset(bufnr, row, col, encoding)
end

--- An LSP range covering whole lines `first`..`last` (1-based, inclusive) of the buffer.
---@param bufnr integer
---@param first integer
---@param last integer
---@param encoding string
---@return table
function M.line_range(bufnr, first, last, encoding)
  if first > last then
    first, last = last, first
  end
  local last_text = vim.api.nvim_buf_get_lines(bufnr, last - 1, last, false)[1] or ""
  return {
    start = { line = first - 1, character = 0 },
    ["end"] = { line = last - 1, character = M.character(bufnr, last - 1, #last_text, encoding) },
  }
end

return M
