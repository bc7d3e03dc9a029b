--- Next-edit suggestions (`ctxls/nextEdit`, docs/lsp-extensions.md): where the next edit
--- likely goes after this session's edits, and the completion model's rewrite of it.
---
--- One suggestion at a time, for the whole editor: asking again (or an automatic request)
--- replaces it. It is drawn in the buffer of its place (loaded, without a window, when it
--- is another file): the replaced lines highlighted, the new lines as virtual lines below
--- them, the reason at the end of the first line. It is applied only if that buffer's LSP
--- version is still the one the server answered for (when the server read the file from
--- disk, no version: only if the buffer has no unsaved changes); otherwise nothing is
--- applied and the user is told why.
local util = require("ctxls.util")

local M = {}

local ns = vim.api.nvim_create_namespace("ctxls.next_edit")
M.namespace = ns

---@class ctxls.NextEditKeymaps
---@field jump string|false    go to the suggestion (opens its file)
---@field accept string|false  apply the suggestion
---@field dismiss string|false hide the suggestion

---@class ctxls.NextEditOptions
---@field auto boolean        ask after edits (InsertLeave, TextChanged), debounced
---@field debounce_ms integer client-side pause before an automatic request
---@field keymaps ctxls.NextEditKeymaps

---@class ctxls.NextEditSuggestion
---@field client_id integer
---@field uri string
---@field bufnr integer the buffer of the place
---@field row integer 0-based first line of the place
---@field reason string
---@field version integer|nil the document version the rewrite is for (nil: read from disk)
---@field edits table[]|nil the rewrite's edits ({range, newText}); nil when none is offered
---@field why string|nil why no rewrite is offered
---@field encoding string

---@type ctxls.NextEditSuggestion|nil
local current = nil
--- The request in flight: { client, id }.
local pending = nil
local timer = nil

local function options()
  local ctxls = require("ctxls")
  local opts = ctxls.options or require("ctxls.config").defaults
  return opts.next_edit
end

--- The shown suggestion (for tests and statuslines), or nil.
---@return ctxls.NextEditSuggestion|nil
function M.current()
  return current
end

local function clear_marks()
  if current and vim.api.nvim_buf_is_valid(current.bufnr) then
    vim.api.nvim_buf_clear_namespace(current.bufnr, ns, 0, -1)
  end
end

local function cancel_pending()
  if timer then
    timer:stop()
    if not timer:is_closing() then
      timer:close()
    end
    timer = nil
  end
  if pending and pending.id then
    util.cancel(pending.client, pending.id)
  end
  pending = nil
end

--- Hides the shown suggestion and drops a request in flight.
function M.dismiss()
  cancel_pending()
  clear_marks()
  current = nil
end

---@param text string
---@param bufnr integer
local function display(text, bufnr)
  local tab = string.rep(" ", vim.bo[bufnr].tabstop)
  return (text:gsub("\t", tab))
end

---@param new_text string
---@return string[]
local function lines_of(new_text)
  local lines = vim.split(new_text, "\n", { plain = true })
  if lines[#lines] == "" then
    table.remove(lines)
  end
  return lines
end

--- Draws the suggestion in its buffer.
---@param s ctxls.NextEditSuggestion
local function draw(s)
  local bufnr = s.bufnr
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  local line_count = vim.api.nvim_buf_line_count(bufnr)
  local keys = options().keymaps
  local hint = {}
  if keys.accept then
    hint[#hint + 1] = keys.accept .. " accept"
  end
  if keys.dismiss then
    hint[#hint + 1] = keys.dismiss .. " dismiss"
  end
  local note = "ctxls: " .. s.reason
  if not s.edits then
    note = note .. " (no rewrite: " .. (s.why or "not asked") .. ")"
  elseif #hint > 0 then
    note = note .. " [" .. table.concat(hint, ", ") .. "]"
  end
  vim.api.nvim_buf_set_extmark(bufnr, ns, math.min(s.row, line_count - 1), 0, {
    virt_text = { { note, "CtxlsNextEditReason" } },
    virt_text_pos = "eol",
    priority = 200,
  })
  for _, edit in ipairs(s.edits or {}) do
    local first, after = edit.range.start.line, edit.range["end"].line
    if edit.range["end"].character > 0 then
      after = after + 1
    end
    local virt_lines = {}
    for _, line in ipairs(lines_of(edit.newText)) do
      virt_lines[#virt_lines + 1] = { { display(line, bufnr), "CtxlsNextEditAdded" } }
    end
    if after > first then
      for row = first, math.min(after, line_count) - 1 do
        vim.api.nvim_buf_set_extmark(bufnr, ns, row, 0, { line_hl_group = "CtxlsNextEditRemoved", priority = 200 })
      end
      if #virt_lines > 0 then
        vim.api.nvim_buf_set_extmark(bufnr, ns, math.min(after, line_count) - 1, 0, { virt_lines = virt_lines, priority = 200 })
      end
    elseif #virt_lines > 0 then
      -- An insertion: the new lines above the line they go before.
      local row = math.min(first, line_count - 1)
      local above = first < line_count
      vim.api.nvim_buf_set_extmark(bufnr, ns, row, 0, { virt_lines = virt_lines, virt_lines_above = above, priority = 200 })
    end
  end
end

--- The buffer of `uri`, loaded (created without a window when needed).
---@param uri string
---@return integer
local function load(uri)
  local bufnr = vim.uri_to_bufnr(uri)
  if not vim.api.nvim_buf_is_loaded(bufnr) then
    vim.fn.bufload(bufnr)
    vim.bo[bufnr].buflisted = true
  end
  return bufnr
end

---@param client vim.lsp.Client
---@param result table
---@param invoked boolean
local function show(client, result, invoked)
  if result.superseded then
    return -- A newer request (another client's, or an automatic one) answers instead.
  end
  M.dismiss()
  local candidates = type(result.candidates) == "table" and result.candidates or {}
  local best = candidates[1]
  if not best then
    if invoked then
      util.notify("no next edit: none of this session's edits changed something used elsewhere")
    end
    return
  end
  local rewrite = type(result.rewrite) == "table" and result.rewrite or nil
  local offered = rewrite and rewrite.status == "offered" and type(rewrite.edits) == "table" and #rewrite.edits > 0
  local uri = offered and rewrite.uri or best.uri
  local bufnr = load(uri)
  local row = best.range.start.line
  if offered and uri ~= best.uri then
    row = rewrite.edits[1].range.start.line
  end
  local why
  if rewrite and not offered then
    why = rewrite.why or "nothing offered"
  end
  current = {
    client_id = client.id,
    uri = uri,
    bufnr = bufnr,
    row = row,
    reason = best.reason or "",
    version = offered and (rewrite.version ~= vim.NIL and rewrite.version or nil) or nil,
    edits = offered and rewrite.edits or nil,
    why = why,
    encoding = client.offset_encoding or "utf-16",
  }
  draw(current)
  local where = ("%s:%d"):format(best.file or vim.fn.fnamemodify(vim.uri_to_fname(uri), ":."), row + 1)
  if why then
    util.notify(("next edit at %s (%s): no rewrite: %s"):format(where, current.reason, why), invoked and vim.log.levels.WARN or vim.log.levels.INFO)
  elseif vim.api.nvim_get_current_buf() ~= bufnr then
    local key = options().keymaps.jump
    vim.api.nvim_echo({ { ("ctxls: next edit at %s: %s%s"):format(where, current.reason, key and (" (" .. key .. " to jump)") or ""), "Comment" } }, false, {})
  end
end

--- Asks for the next edit from the cursor of the current buffer.
---@param invoked boolean the user asked (no debounce on the server)
---@param bufnr? integer
function M.request(invoked, bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local client = util.clients(bufnr)[1]
  if not client then
    if invoked then
      util.notify("not attached to this buffer; :checkhealth ctxls", vim.log.levels.ERROR)
    end
    return
  end
  cancel_pending()
  local win = vim.fn.bufwinid(bufnr)
  local cursor = vim.api.nvim_win_get_cursor(win ~= -1 and win or 0)
  local encoding = client.offset_encoding or "utf-16"
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    position = { line = cursor[1] - 1, character = util.character(bufnr, cursor[1] - 1, cursor[2], encoding) },
    invoked = invoked,
  }
  if invoked then
    vim.api.nvim_echo({ { "ctxls: Next edit…", "Comment" } }, false, {})
  end
  local request = { client = client }
  pending = request
  request.id = util.request(client, "ctxls/nextEdit", params, function(err, result)
    if pending ~= request then
      return -- Superseded on this side.
    end
    pending = nil
    if err then
      if invoked and err.code ~= util.REQUEST_CANCELLED then
        util.notify("Next edit: " .. tostring(err.message), vim.log.levels.ERROR)
      end
      return
    end
    show(client, result or {}, invoked)
  end, bufnr)
end

--- Goes to the suggestion (its file opened in the current window).
function M.jump()
  local s = current
  if not s or not vim.api.nvim_buf_is_valid(s.bufnr) then
    util.notify("no next edit to jump to: ask with :CtxlsNextEdit", vim.log.levels.WARN)
    return
  end
  if vim.api.nvim_get_current_buf() ~= s.bufnr then
    vim.cmd("normal! m'")
    vim.api.nvim_win_set_buf(0, s.bufnr)
  end
  local mark = vim.api.nvim_buf_get_extmarks(s.bufnr, ns, 0, -1, { limit = 1 })[1]
  local row = mark and mark[2] or s.row
  row = math.min(row, vim.api.nvim_buf_line_count(s.bufnr) - 1)
  local line = vim.api.nvim_buf_get_lines(s.bufnr, row, row + 1, false)[1] or ""
  vim.api.nvim_win_set_cursor(0, { row + 1, #(line:match("^%s*") or "") })
end

--- Applies the suggestion when its buffer is still the version it was made for.
---@return boolean applied
function M.accept()
  local s = current
  if not s then
    util.notify("no next edit to accept: ask with :CtxlsNextEdit", vim.log.levels.WARN)
    return false
  end
  if not s.edits then
    util.notify("nothing to accept: " .. (s.why or "no rewrite was offered"), vim.log.levels.WARN)
    return false
  end
  if not vim.api.nvim_buf_is_valid(s.bufnr) then
    M.dismiss()
    util.notify("the suggestion's buffer is gone; nothing was applied", vim.log.levels.WARN)
    return false
  end
  local name = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(s.bufnr), ":.")
  if s.version ~= nil then
    local now = vim.lsp.util.buf_versions[s.bufnr]
    if now ~= s.version then
      util.notify(
        ("%s changed since the suggestion (version %s, now %s): nothing was applied; ask again with :CtxlsNextEdit"):format(name, s.version, tostring(now)),
        vim.log.levels.WARN
      )
      return false
    end
  elseif vim.bo[s.bufnr].modified then
    util.notify(("%s has unsaved changes the suggestion was not made for: nothing was applied; ask again with :CtxlsNextEdit"):format(name), vim.log.levels.WARN)
    return false
  end
  local edits = vim.tbl_map(function(edit)
    return { range = edit.range, newText = edit.newText }
  end, s.edits)
  clear_marks()
  current = nil
  vim.lsp.util.apply_text_edits(edits, s.bufnr, s.encoding)
  if vim.fn.bufwinid(s.bufnr) == -1 then
    util.notify(("next edit applied to %s (not saved; :buffer %d to see it)"):format(name, s.bufnr))
  end
  return true
end

---@param bufnr integer
---@param opts ctxls.NextEditOptions
function M.attach(bufnr, opts)
  local keymaps = opts.keymaps or {}
  local actions = {
    jump = { M.jump, "ctxls: jump to the next-edit suggestion" },
    accept = { M.accept, "ctxls: accept the next-edit suggestion" },
    dismiss = { M.dismiss, "ctxls: dismiss the next-edit suggestion" },
  }
  for name, action in pairs(actions) do
    local lhs = keymaps[name]
    if lhs then
      vim.keymap.set("n", lhs, function()
        action[1]()
      end, { buffer = bufnr, desc = action[2] })
    end
  end
  local group = vim.api.nvim_create_augroup("ctxls_next_edit_" .. bufnr, { clear = true })
  -- `auto` and `debounce_ms` are read when a change comes, so that setup() can flip them.
  vim.api.nvim_create_autocmd({ "InsertLeave", "TextChanged" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      local live = options()
      if not live.auto then
        return
      end
      if timer then
        timer:stop()
      else
        timer = assert(vim.uv.new_timer())
      end
      timer:start(
        live.debounce_ms,
        0,
        vim.schedule_wrap(function()
          if vim.api.nvim_buf_is_valid(bufnr) and vim.api.nvim_get_current_buf() == bufnr and vim.fn.mode() == "n" then
            M.request(false, bufnr)
          end
        end)
      )
    end,
    desc = "ctxls: ask for the next edit after changes (next_edit.auto)",
  })
  vim.api.nvim_create_autocmd("BufUnload", {
    group = group,
    buffer = bufnr,
    callback = function()
      if current and current.bufnr == bufnr then
        current = nil
      end
    end,
  })
end

---@param bufnr integer
function M.detach(bufnr)
  if current and current.bufnr == bufnr then
    M.dismiss()
  end
  pcall(vim.api.nvim_del_augroup_by_name, "ctxls_next_edit_" .. bufnr)
  for _, lhs in pairs(options().keymaps or {}) do
    if lhs then
      pcall(vim.keymap.del, "n", lhs, { buffer = bufnr })
    end
  end
end

return M
