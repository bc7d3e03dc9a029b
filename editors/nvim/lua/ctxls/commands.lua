--- The `:Ctxls*` commands: each sends one `workspace/executeCommand` (docs/lsp-extensions.md)
--- with positions in the client's encoding, and shows the result. Edits come back from
--- the server as `workspace/applyEdit`, applied by Neovim's own handler.
local util = require("ctxls.util")
local view = require("ctxls.view")

local M = {}

local function options()
  local ctxls = require("ctxls")
  return ctxls.options or require("ctxls.config").defaults
end

--- The ctxls client of the current buffer, or nil after telling the user why.
---@param any_buffer? boolean accept a client of another buffer (workspace-wide commands)
---@return vim.lsp.Client|nil
local function client_for(any_buffer)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = util.clients(bufnr)[1]
  if not client and any_buffer then
    client = util.clients()[1]
  end
  if client then
    return client
  end
  local ctxls = require("ctxls")
  local why
  if not ctxls.options then
    why = "require('ctxls').setup() was not called"
  elseif not vim.tbl_contains(ctxls.options.filetypes, vim.bo[bufnr].filetype) then
    why = ("filetype %q is not one of %s"):format(vim.bo[bufnr].filetype, table.concat(ctxls.options.filetypes, ", "))
  else
    why = ctxls._state.last_skip or "the server did not start (see :LspLog)"
  end
  util.notify("not attached to this buffer: " .. why .. "; :checkhealth ctxls", vim.log.levels.ERROR)
  return nil
end

---@param client vim.lsp.Client
---@param title string
---@param err table
local function report_error(client, title, err)
  if err.code == util.REQUEST_CANCELLED then
    return
  end
  local message = tostring(err.message or vim.inspect(err))
  if err.code == util.CONTENT_MODIFIED then
    message = "the buffer changed while the model worked; nothing was applied, run it again"
  elseif require("ctxls")._recently_shown(client.id, message) then
    return -- The server already said it (window/showMessage).
  end
  util.notify(title .. ": " .. message, vim.log.levels.ERROR)
end

--- Sends `workspace/executeCommand`; calls `on_result` with the result on success.
---@param client vim.lsp.Client
---@param title string shown while waiting and in errors
---@param command string
---@param argument table|nil
---@param on_result fun(result: any)
---@param on_error? fun(err: table) after the error was reported
function M.execute(client, title, command, argument, on_result, on_error)
  local bufnr = vim.api.nvim_get_current_buf()
  local params = { command = command, arguments = argument and { argument } or {} }
  vim.api.nvim_echo({ { "ctxls: " .. title .. "…", "Comment" } }, false, {})
  local started = vim.uv.now()
  local id = util.request(client, "workspace/executeCommand", params, function(err, result)
    -- Clear the "…" line unless the server said something meanwhile.
    if require("ctxls")._messages_since(client.id, started) == 0 then
      vim.api.nvim_echo({ { "" } }, false, {})
    end
    if err then
      report_error(client, title, err)
      if on_error then
        on_error(err)
      end
      return
    end
    on_result(result)
  end, bufnr)
  if not id then
    util.notify(title .. ": the server is not running", vim.log.levels.ERROR)
    if on_error then
      on_error({ code = -32603, message = "the server is not running" })
    end
  end
end

---@param client vim.lsp.Client
---@return { uri: string, position: table }
local function at_cursor(client)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  return { uri = params.textDocument.uri, position = params.position }
end

--- `{uri, range}`: the command's line range, else an empty range at the cursor (the server
--- then takes the innermost definition around it).
---@param client vim.lsp.Client
---@param opts table user command arguments
local function with_range(client, opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local here = at_cursor(client)
  local range
  if opts.range and opts.range > 0 then
    range = util.line_range(bufnr, opts.line1, opts.line2, client.offset_encoding)
  else
    range = { start = here.position, ["end"] = here.position }
  end
  return { uri = here.uri, range = range }
end

--- Reports the result of a command that edits (`{applied, files?, dropped?, syntaxErrors?}`).
---@param title string
---@param result table|nil
local function report_edit(title, result)
  if type(result) ~= "table" then
    return
  end
  if result.applied then
    local files = type(result.files) == "table" and #result.files > 0 and (" to " .. table.concat(result.files, ", ")) or ""
    local dropped = ""
    if type(result.dropped) == "table" and #result.dropped > 0 then
      dropped = (" (%d block(s) dropped: %s)"):format(#result.dropped, vim.inspect(result.dropped))
    end
    util.notify(title .. ": applied" .. files .. dropped)
  elseif result.syntaxErrors then
    util.notify(title .. ": discarded (the change added syntax errors)", vim.log.levels.WARN)
  end
  -- Otherwise the server said why (window/showMessage: no change proposed, no requirement).
end

--- Runs a command whose markdown result the server may also send as a document
--- (`window/showDocument`): shown once, in the view for `name`.
---@param client vim.lsp.Client
---@param title string
---@param command string
---@param argument table|nil
---@param target { name: string, title: string, how: string }
local function execute_markdown(client, title, command, argument, target)
  local before = view.shown
  view.expected = target
  M.execute(client, title, command, argument, function(result)
    if view.expected == target then
      view.expected = nil
    end
    if view.shown ~= before or type(result) ~= "table" or type(result.markdown) ~= "string" then
      return -- Already shown through window/showDocument, or nothing to show.
    end
    view.shown = view.shown + 1
    view.show(target.name, target.title, result.markdown, target.how)
  end, function()
    if view.expected == target then
      view.expected = nil
    end
  end)
end

function M.generate()
  local client = client_for()
  if not client then
    return
  end
  M.execute(client, "Generate", "ctxls.generate", at_cursor(client), function(result)
    report_edit("Generate", result)
  end)
end

function M.implement()
  local client = client_for(true)
  if not client then
    return
  end
  local argument = nil
  if #util.clients(vim.api.nvim_get_current_buf()) > 0 then
    argument = { uri = vim.uri_from_bufnr(0) }
  end
  M.execute(client, "Implement requirements", "ctxls.implementRequirements", argument, function(result)
    report_edit("Implement requirements", result)
  end)
end

---@param opts table
function M.explain(opts)
  local client = client_for()
  if not client then
    return
  end
  execute_markdown(client, "Explain", "ctxls.explain", with_range(client, opts), {
    name = "explanation",
    title = "ctxls: explanation",
    how = options().view.explain,
  })
end

function M.answer()
  local client = client_for()
  if not client then
    return
  end
  execute_markdown(client, "Answer", "ctxls.answer", at_cursor(client), {
    name = "answer",
    title = "ctxls: answer",
    how = options().view.explain,
  })
end

---@param opts table
function M.refactor(opts)
  local client = client_for()
  if not client then
    return
  end
  local argument = with_range(client, opts)
  local function send(instruction)
    if not instruction or vim.trim(instruction) == "" then
      return
    end
    argument.instruction = instruction
    M.execute(client, "Refactor", "ctxls.refactor", argument, function(result)
      report_edit("Refactor", result)
    end)
  end
  if opts.args and vim.trim(opts.args) ~= "" then
    send(opts.args)
  else
    vim.ui.input({ prompt = "ctxls refactor (instruction): " }, send)
  end
end

function M.summarize()
  local client = client_for(true)
  if not client then
    return
  end
  local argument = nil
  if #util.clients(vim.api.nvim_get_current_buf()) > 0 then
    argument = { uri = vim.uri_from_bufnr(0) }
  end
  execute_markdown(client, "Summarize changes", "ctxls.summarizeDiff", argument, {
    name = "summary",
    title = "ctxls: changes",
    how = options().view.summary,
  })
end

local LANGUAGES = {
  rs = "rust",
  ts = "typescript",
  mts = "typescript",
  cts = "typescript",
  tsx = "tsx",
  js = "javascript",
  jsx = "javascript",
  mjs = "javascript",
  cjs = "javascript",
}

--- The `ctxls.showContext` result as markdown: each snippet's place, score, why and text.
---@param where string
---@param result table
---@return string[]
function M.context_markdown(where, result)
  local snippets = type(result.snippets) == "table" and result.snippets or {}
  local lines = {
    "# Context at " .. where,
    "",
    ("%d snippet(s), %s of %s tokens, best first: what a model would be sent with the code around the cursor."):format(
      #snippets,
      tostring(result.tokens or "?"),
      tostring(result.budget or "?")
    ),
  }
  for i, snippet in ipairs(snippets) do
    local path = tostring(snippet.path or "?")
    local language = LANGUAGES[path:match("%.(%w+)$") or ""] or ""
    local sources = type(snippet.sources) == "table" and table.concat(snippet.sources, ", ") or ""
    vim.list_extend(lines, {
      "",
      ("## %d. %s:%s-%s"):format(i, path, tostring(snippet.start_line), tostring(snippet.end_line)),
      "",
      ("score %.3f · %s · %s tokens"):format(tonumber(snippet.score) or 0, sources, tostring(snippet.tokens or "?")),
    })
    if type(snippet.why) == "string" and snippet.why ~= "" then
      lines[#lines + 1] = "why: " .. snippet.why
    end
    local text = tostring(snippet.text or "")
    local fence = text:find("```", 1, true) and "````" or "```"
    lines[#lines + 1] = ""
    lines[#lines + 1] = fence .. language
    vim.list_extend(lines, vim.split((text:gsub("\n$", "")), "\n", { plain = true }))
    lines[#lines + 1] = fence
  end
  if #snippets == 0 then
    vim.list_extend(lines, { "", "_Nothing from the workspace would be sent here._" })
  end
  return lines
end

---@param opts table
function M.context(opts)
  local client = client_for()
  if not client then
    return
  end
  local argument = at_cursor(client)
  if opts.args and vim.trim(opts.args) ~= "" then
    argument.query = opts.args
  end
  local cursor = vim.api.nvim_win_get_cursor(0)
  local where = ("%s:%d:%d"):format(vim.fn.expand("%:~:."), cursor[1], cursor[2] + 1)
  M.execute(client, "Context", "ctxls.showContext", argument, function(result)
    if type(result) ~= "table" then
      return
    end
    view.show("context", "ctxls: context", M.context_markdown(where, result), options().view.context)
  end)
end

function M.reindex()
  local client = client_for(true)
  if not client then
    return
  end
  M.execute(client, "Reindex", "ctxls.reindex", nil, function(result)
    local roots = type(result) == "table" and result.roots or "?"
    util.notify(("reindexing %s root(s)"):format(tostring(roots)))
  end)
end

return M
