--- Inline completion: Neovim's own `vim.lsp.inline_completion` where it exists (0.12+),
--- else ghost text drawn here with extmarks from `textDocument/inlineCompletion`.
---
--- Invariants of the extmark implementation: at most one request in flight per buffer (a
--- newer one cancels it); a result is shown only if the buffer, its changedtick, the cursor
--- and insert mode are what they were when it was asked for; a shown completion is cleared
--- on any cursor move, text change, leaving insert mode or the buffer.
local util = require("ctxls.util")

local M = {}

local ns = vim.api.nvim_create_namespace("ctxls.inline")
M.namespace = ns

local AUTOMATIC, INVOKED = 2, 1

---@class ctxls.Suggestion
---@field client_id integer
---@field row integer 0-based
---@field col integer byte column of the cursor
---@field end_col integer byte column where the replaced text ends (>= col)
---@field lines string[] the text to insert at (row, col), replacing up to end_col
---@field extmark integer

---@class ctxls.BufferState
---@field opts ctxls.InlineOptions
---@field native boolean
---@field timer uv.uv_timer_t|nil
---@field pending { client: vim.lsp.Client, id: integer|nil, row: integer, col: integer }|nil
---@field suggestion ctxls.Suggestion|nil
---@field last_error string|nil

---@type table<integer, ctxls.BufferState>
local buffers = {}

M._buffers = buffers

local function native_available()
  local native = vim.lsp.inline_completion
  return type(native) == "table" and type(native.enable) == "function" and type(native.get) == "function"
end

---@param s ctxls.BufferState
local function stop_timer(s)
  if s.timer then
    s.timer:stop()
    if not s.timer:is_closing() then
      s.timer:close()
    end
    s.timer = nil
  end
end

---@param bufnr integer
function M.cancel(bufnr)
  local s = buffers[bufnr]
  if not s then
    return
  end
  stop_timer(s)
  local pending = s.pending
  s.pending = nil
  if pending and pending.id then
    util.cancel(pending.client, pending.id)
  end
end

--- Hides the shown completion, if any.
---@param bufnr integer
function M.clear(bufnr)
  local s = buffers[bufnr]
  if s and s.suggestion then
    pcall(vim.api.nvim_buf_del_extmark, bufnr, ns, s.suggestion.extmark)
    s.suggestion = nil
  end
end

---@param bufnr integer
function M.dismiss(bufnr)
  M.cancel(bufnr)
  M.clear(bufnr)
end

--- Whether a completion is shown in the buffer.
---@param bufnr? integer
---@return boolean
function M.visible(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local s = buffers[bufnr]
  return s ~= nil and s.suggestion ~= nil
end

--- The shown completion's text, or nil (for tests and statuslines).
---@param bufnr? integer
---@return string|nil
function M.text(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local s = buffers[bufnr]
  return s and s.suggestion and table.concat(s.suggestion.lines, "\n") or nil
end

---@param text string
---@param bufnr integer
local function display(text, bufnr)
  local tab = string.rep(" ", vim.bo[bufnr].tabstop)
  return (text:gsub("\t", tab))
end

--- Draws the ghost text: the first line over the rest of the line (inline when text
--- follows the cursor, so that it is pushed right rather than hidden), the others below.
---@param bufnr integer
---@param s ctxls.BufferState
---@param suggestion ctxls.Suggestion
local function draw(bufnr, s, suggestion)
  local hl = s.opts.hl_group
  local line = vim.api.nvim_buf_get_lines(bufnr, suggestion.row, suggestion.row + 1, false)[1] or ""
  local virt_lines = {}
  for i = 2, #suggestion.lines do
    virt_lines[#virt_lines + 1] = { { display(suggestion.lines[i], bufnr), hl } }
  end
  local at_end = suggestion.col >= #line
  suggestion.extmark = vim.api.nvim_buf_set_extmark(bufnr, ns, suggestion.row, suggestion.col, {
    virt_text = { { display(suggestion.lines[1], bufnr), hl } },
    virt_text_pos = at_end and "overlay" or "inline",
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = "combine",
    priority = 200,
  })
end

---@param client vim.lsp.Client
---@param bufnr integer
---@param row integer
---@param col integer
---@param item table an InlineCompletionItem
---@return ctxls.Suggestion|nil
local function to_suggestion(client, bufnr, row, col, item)
  local text = item.insertText
  if type(text) == "table" then
    -- A snippet: shown and inserted as its plain text (placeholders keep their defaults).
    text = (text.value or ""):gsub("%$%{%d+:([^}]*)%}", "%1"):gsub("%$%d+", "")
  end
  if type(text) ~= "string" or text == "" then
    return nil
  end
  local end_col = col
  if type(item.range) == "table" then
    local encoding = client.offset_encoding or "utf-16"
    local range_start, range_end = item.range.start, item.range["end"]
    if range_start.line ~= row or range_end.line ~= row then
      return nil -- A multi-line replacement cannot be shown as ghost text at the cursor.
    end
    local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
    local start_col = util.byte_col(line, range_start.character, encoding)
    end_col = math.max(col, util.byte_col(line, range_end.character, encoding))
    if start_col > col then
      return nil
    end
    -- The text typed since the range start must be the beginning of the completion.
    local typed = line:sub(start_col + 1, col)
    if text:sub(1, #typed) ~= typed then
      return nil
    end
    text = text:sub(#typed + 1)
    if text == "" then
      return nil
    end
  end
  return {
    client_id = client.id,
    row = row,
    col = col,
    end_col = end_col,
    lines = vim.split(text, "\n", { plain = true }),
    extmark = -1,
  }
end

---@param mode string
local function in_insert_mode(mode)
  return mode == "i" or mode == "ic" or mode == "ix"
end

--- Asks the server for a completion at the cursor of the current window.
---@param bufnr? integer
---@param trigger_kind? integer 1 invoked (default), 2 automatic
function M.request(bufnr, trigger_kind)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  trigger_kind = trigger_kind or INVOKED
  local s = buffers[bufnr]
  if not s or s.native then
    return
  end
  M.dismiss(bufnr)
  local win = vim.api.nvim_get_current_win()
  if vim.api.nvim_win_get_buf(win) ~= bufnr then
    return
  end
  local client
  for _, c in ipairs(util.clients(bufnr)) do
    if util.supports(c, "textDocument/inlineCompletion", bufnr) then
      client = c
      break
    end
  end
  if not client then
    if trigger_kind == INVOKED then
      util.notify("no ctxls server with inline completion is attached to this buffer", vim.log.levels.WARN)
    end
    return
  end
  local params = vim.lsp.util.make_position_params(win, client.offset_encoding)
  params.context = { triggerKind = trigger_kind }
  local cursor = vim.api.nvim_win_get_cursor(win)
  local row, col = cursor[1] - 1, cursor[2]
  local pending = { client = client, row = row, col = col }
  s.pending = pending
  -- Sending flushes pending didChange notifications first, so this is the text asked about.
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  pending.id = util.request(client, "textDocument/inlineCompletion", params, function(err, result)
    if s.pending ~= pending then
      return -- Superseded or cancelled.
    end
    s.pending = nil
    if err then
      if err.code == util.REQUEST_CANCELLED or err.code == util.CONTENT_MODIFIED then
        return
      end
      s.last_error = err.message
      if trigger_kind == INVOKED then
        util.notify("inline completion failed: " .. tostring(err.message), vim.log.levels.WARN)
      end
      return
    end
    s.last_error = nil
    -- A stale answer (the buffer or the cursor changed, insert mode was left) is dropped.
    if
      not vim.api.nvim_buf_is_valid(bufnr)
      or vim.api.nvim_get_current_buf() ~= bufnr
      or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick
      or not in_insert_mode(vim.api.nvim_get_mode().mode)
    then
      return
    end
    local now = vim.api.nvim_win_get_cursor(0)
    if now[1] - 1 ~= row or now[2] ~= col then
      return
    end
    local items = type(result) == "table" and (result.items or result) or {}
    for _, item in ipairs(items) do
      local suggestion = to_suggestion(client, bufnr, row, col, item)
      if suggestion then
        M.clear(bufnr)
        s.suggestion = suggestion
        draw(bufnr, s, suggestion)
        return
      end
    end
    if trigger_kind == INVOKED then
      vim.api.nvim_echo({ { "ctxls: no completion here", "Comment" } }, false, {})
    end
  end, bufnr)
  if not pending.id then
    s.pending = nil
  end
end

--- Schedules an automatic request after the debounce.
---@param bufnr integer
local function schedule(bufnr)
  local s = buffers[bufnr]
  if not s then
    return
  end
  M.dismiss(bufnr)
  local cursor = vim.api.nvim_win_get_cursor(0)
  local timer = assert(vim.uv.new_timer())
  s.timer = timer
  s.pending = { client = nil, id = nil, row = cursor[1] - 1, col = cursor[2] }
  timer:start(
    s.opts.debounce_ms,
    0,
    vim.schedule_wrap(function()
      if s.timer ~= timer then
        return
      end
      stop_timer(s)
      s.pending = nil
      if vim.api.nvim_get_current_buf() == bufnr and in_insert_mode(vim.api.nvim_get_mode().mode) then
        M.request(bufnr, AUTOMATIC)
      end
    end)
  )
end

--- Inserts the shown completion and puts the cursor after it. Returns false if none is shown.
---@param bufnr? integer
---@return boolean
function M.accept(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local s = buffers[bufnr]
  if not s then
    return false
  end
  if s.native then
    return vim.lsp.inline_completion.get({ bufnr = bufnr }) ~= false
  end
  local suggestion = s.suggestion
  if not suggestion then
    return false
  end
  M.dismiss(bufnr)
  local lines = suggestion.lines
  vim.api.nvim_buf_set_text(bufnr, suggestion.row, suggestion.col, suggestion.row, suggestion.end_col, lines)
  local last_row = suggestion.row + #lines - 1
  local last_col = #lines == 1 and suggestion.col + #lines[1] or #lines[#lines]
  local win = vim.fn.bufwinid(bufnr)
  if win ~= -1 then
    vim.api.nvim_win_set_cursor(win, { last_row + 1, last_col })
  end
  -- Our own edit must not dismiss or re-request; the autocmds see this tick.
  s.accepted_tick = vim.api.nvim_buf_get_changedtick(bufnr)
  return true
end

---@param lhs string
---@return string
local function keys(lhs)
  return vim.api.nvim_replace_termcodes(lhs, true, false, true)
end

---@param bufnr integer
---@param opts ctxls.InlineOptions
---@param native boolean
local function map(bufnr, opts, native)
  local keymaps = opts.keymaps or {}
  if keymaps.accept then
    local lhs = keymaps.accept
    vim.keymap.set("i", lhs, function()
      if native then
        if vim.lsp.inline_completion.get({ bufnr = bufnr }) then
          return ""
        end
        return keys(lhs)
      end
      if M.visible(bufnr) then
        -- Text cannot change inside an expression mapping: accept right after it.
        return keys("<Cmd>lua require('ctxls.inline').accept(" .. bufnr .. ")<CR>")
      end
      return keys(lhs)
    end, { buffer = bufnr, expr = true, replace_keycodes = false, desc = "ctxls: accept the inline completion" })
  end
  if keymaps.trigger then
    vim.keymap.set("i", keymaps.trigger, function()
      if native then
        vim.lsp.inline_completion.get({ bufnr = bufnr })
        return
      end
      M.request(bufnr, INVOKED)
    end, { buffer = bufnr, desc = "ctxls: ask for an inline completion here" })
  end
  if keymaps.dismiss and not native then
    local lhs = keymaps.dismiss
    vim.keymap.set("i", lhs, function()
      if M.visible(bufnr) or (buffers[bufnr] and buffers[bufnr].pending) then
        return keys("<Cmd>lua require('ctxls.inline').dismiss(" .. bufnr .. ")<CR>")
      end
      return keys(lhs)
    end, { buffer = bufnr, expr = true, replace_keycodes = false, desc = "ctxls: dismiss the inline completion" })
  end
end

--- Sets up inline completion for a buffer the client attached to.
---@param client vim.lsp.Client
---@param bufnr integer
---@param opts ctxls.InlineOptions
function M.attach(client, bufnr, opts)
  if not opts.enabled or buffers[bufnr] then
    return
  end
  local native = opts.native and native_available()
  if native then
    local ok, err = pcall(vim.lsp.inline_completion.enable, true, { bufnr = bufnr, client_id = client.id })
    if not ok then
      util.notify("vim.lsp.inline_completion.enable failed (" .. tostring(err) .. "); using ghost text", vim.log.levels.WARN)
      native = false
    end
  end
  ---@type ctxls.BufferState
  local s = { opts = opts, native = native }
  buffers[bufnr] = s
  map(bufnr, opts, native)
  if native then
    return
  end
  local group = vim.api.nvim_create_augroup("ctxls_inline_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      if s.accepted_tick == vim.api.nvim_buf_get_changedtick(bufnr) then
        return
      end
      M.clear(bufnr)
      if opts.auto_trigger then
        schedule(bufnr)
      else
        M.cancel(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", {
    group = group,
    buffer = bufnr,
    callback = function()
      local cursor = vim.api.nvim_win_get_cursor(0)
      local row, col = cursor[1] - 1, cursor[2]
      local shown = s.suggestion
      if shown and (shown.row ~= row or shown.col ~= col) then
        M.clear(bufnr)
      end
      local pending = s.pending
      if pending and (pending.row ~= row or pending.col ~= col) then
        M.cancel(bufnr)
      end
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave", "BufUnload" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.dismiss(bufnr)
    end,
  })
end

--- Removes the buffer's inline completion state (the client detached).
---@param bufnr integer
function M.detach(bufnr)
  local s = buffers[bufnr]
  if not s then
    return
  end
  M.dismiss(bufnr)
  buffers[bufnr] = nil
  pcall(vim.api.nvim_del_augroup_by_name, "ctxls_inline_" .. bufnr)
  if s.native then
    pcall(vim.lsp.inline_completion.enable, false, { bufnr = bufnr })
  end
  local keymaps = s.opts.keymaps or {}
  for _, lhs in pairs(keymaps) do
    if lhs then
      pcall(vim.keymap.del, "i", lhs, { buffer = bufnr })
    end
  end
end

return M
