--- The `:Ctxls*` commands: each sends one `workspace/executeCommand` (docs/lsp-extensions.md)
--- with positions in the client's encoding, and shows the result. Edits come back from
--- the server as `workspace/applyEdit`, applied by Neovim's own handler. The same code
--- runs the commands of code actions and lenses (`client_commands`), so that what the
--- server needs from the user (an instruction, a prompt file's input) is asked first.
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
  local function show()
    if message:sub(1, #title + 2) ~= title .. ": " then
      message = title .. ": " .. message
    end
    util.notify(message, vim.log.levels.ERROR)
  end
  if err.code == util.CONTENT_MODIFIED then
    message = "the buffer changed while the model worked; nothing was applied, run it again"
    return show()
  end
  -- The server names the action first ("Explain: http 500 ...") and may already have shown
  -- the reason ("ctxls: Explain failed: http 500 ..."). Its window/showMessage and the
  -- error answer travel apart (the answer can come first), so look a moment later.
  vim.defer_fn(function()
    local ctxls = require("ctxls")
    local reason = message:match("^[^:\n]+: (.+)$")
    if ctxls._recently_shown(client.id, message) or (reason and #reason >= 12 and ctxls._recently_shown(client.id, reason)) then
      return -- The server already said it (window/showMessage).
    end
    show()
  end, 200)
end

--- The loaded buffer of a `file:` URI, or nil (no buffer is created).
---@param uri any
---@return integer|nil
local function buffer_of(uri)
  if type(uri) ~= "string" or not uri:match("^file:") then
    return nil
  end
  local path = vim.uri_to_fname(uri)
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.api.nvim_buf_get_name(bufnr) == path then
      return bufnr
    end
  end
  return nil
end

--- Sends `workspace/executeCommand`; calls `on_result` with the result on success.
---@param client vim.lsp.Client
---@param title string shown while waiting and in errors
---@param command string
---@param argument table|nil
---@param on_result fun(result: any)
---@param on_error? fun(err: table) after the error was reported
function M.execute(client, title, command, argument, on_result, on_error)
  local bufnr = argument and buffer_of(argument.uri) or vim.api.nvim_get_current_buf()
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

--- Runs a command and shows its result: markdown (which the server may also send as a
--- document, `window/showDocument`) once, in the view of `target`; the outcome of an
--- edit as a message.
---@param client vim.lsp.Client
---@param title string
---@param command string
---@param argument table|nil
---@param target { name: string, title: string, how: string }
local function execute_and_show(client, title, command, argument, target)
  local before = view.shown
  view.expected = target
  M.execute(client, title, command, argument, function(result)
    if view.expected == target then
      view.expected = nil
    end
    if type(result) ~= "table" then
      return
    end
    if type(result.markdown) ~= "string" then
      report_edit(title, result)
      return
    end
    if view.shown ~= before then
      return -- Already shown through window/showDocument.
    end
    view.shown = view.shown + 1
    view.show(target.name, target.title, result.markdown, target.how)
  end, function()
    if view.expected == target then
      view.expected = nil
    end
  end)
end

--- Where an explanation-like answer goes.
---@param name string
---@param title string
local function explain_view(name, title)
  return { name = name, title = title, how = options().view.explain }
end

--- Asks the user for a line of text; `on_answer` only gets a non-blank one.
---@param prompt string
---@param on_answer fun(text: string)
local function ask(prompt, on_answer)
  vim.ui.input({ prompt = prompt }, function(text)
    if text and vim.trim(text) ~= "" then
      on_answer(text)
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
  execute_and_show(client, "Explain", "ctxls.explain", with_range(client, opts), explain_view("explanation", "ctxls: explanation"))
end

function M.answer()
  local client = client_for()
  if not client then
    return
  end
  execute_and_show(client, "Answer", "ctxls.answer", at_cursor(client), explain_view("answer", "ctxls: answer"))
end

--- `ctxls.refactor` with `argument` ({uri, range}), asking for the instruction when it has none.
---@param client vim.lsp.Client
---@param argument table
local function refactor_with(client, argument)
  local function send(instruction)
    argument.instruction = instruction
    M.execute(client, "Refactor", "ctxls.refactor", argument, function(result)
      report_edit("Refactor", result)
    end)
  end
  if type(argument.instruction) == "string" and vim.trim(argument.instruction) ~= "" then
    send(argument.instruction)
  else
    ask("ctxls refactor (instruction): ", send)
  end
end

---@param opts table
function M.refactor(opts)
  local client = client_for()
  if not client then
    return
  end
  local argument = with_range(client, opts)
  argument.instruction = opts.args
  refactor_with(client, argument)
end

-- Prompt files (`.ctxls/prompts/NAME.md`) -----------------------------------------------

--- The server's language names (a prompt's `languages`) by filetype.
local PROMPT_LANGUAGES = {
  rust = "rust",
  typescript = "typescript",
  typescriptreact = "tsx",
  javascript = "javascript",
  javascriptreact = "javascript",
}

--- Whether a prompt of `ctxls.listPrompts` is for the buffer's language.
---@param prompt table
---@param bufnr integer
---@return boolean
local function for_buffer(prompt, bufnr)
  local languages = prompt.languages
  if type(languages) ~= "table" or #languages == 0 then
    return true
  end
  local language = PROMPT_LANGUAGES[vim.bo[bufnr].filetype]
  -- `typescript` covers TSX too, as on the server.
  return vim.tbl_contains(languages, language) or (language == "tsx" and vim.tbl_contains(languages, "typescript"))
end

---@param bufnr integer
---@return table `ctxls.listPrompts` arguments
local function list_params(bufnr)
  local argument = #util.clients(bufnr) > 0 and { uri = vim.uri_from_bufnr(bufnr) } or vim.empty_dict()
  return { command = "ctxls.listPrompts", arguments = { argument } }
end

--- `ctxls.listPrompts` for the buffer's root; `on_result(prompts)` on success.
---@param client vim.lsp.Client
---@param bufnr integer
---@param on_result fun(prompts: table[])
local function list_prompts(client, bufnr, on_result)
  local id = util.request(client, "workspace/executeCommand", list_params(bufnr), function(err, result)
    if err then
      report_error(client, "Prompts", err)
      return
    end
    on_result(type(result) == "table" and type(result.prompts) == "table" and result.prompts or {})
  end, bufnr)
  if not id then
    util.notify("Prompts: the server is not running", vim.log.levels.ERROR)
  end
end

--- Runs a prompt file (`argument`: {name, uri, range or position, input?}), asking for
--- `input` first when the prompt needs one and none was given.
---@param client vim.lsp.Client
---@param argument table
---@param title string the prompt's title, for messages
---@param needs_input boolean
local function run_prompt(client, argument, title, needs_input)
  local function send(input)
    argument.input = input
    execute_and_show(client, title, "ctxls.runPrompt", argument, explain_view("prompt", "ctxls: " .. title))
  end
  if needs_input and (type(argument.input) ~= "string" or vim.trim(argument.input) == "") then
    ask(("ctxls %s: "):format(title), send)
  else
    send(argument.input)
  end
end

--- `:[range]CtxlsPrompt [name]`: runs a prompt file on the selected lines (else at the
--- cursor); without a name, the user picks one of the buffer's language.
---@param opts table
function M.prompt(opts)
  local client = client_for()
  if not client then
    return
  end
  local bufnr = vim.api.nvim_get_current_buf()
  local argument = (opts.range and opts.range > 0) and with_range(client, opts) or at_cursor(client)
  local name = vim.trim(opts.args or "")
  list_prompts(client, bufnr, function(prompts)
    if name ~= "" then
      argument.name = name
      local found = vim.iter(prompts):find(function(p)
        return p.name == name
      end)
      -- An unknown name goes to the server all the same: its error lists the known ones.
      run_prompt(client, argument, found and found.title or name, found ~= nil and found.needsInput == true)
      return
    end
    local choices = vim.tbl_filter(function(p)
      return for_buffer(p, bufnr)
    end, prompts)
    if #choices == 0 then
      util.notify("no prompt files for this buffer (.ctxls/prompts/NAME.md in the workspace root)", vim.log.levels.WARN)
      return
    end
    vim.ui.select(choices, {
      prompt = "ctxls prompt",
      kind = "ctxls.prompt",
      format_item = function(p)
        return ("%s (%s)"):format(p.title, p.appliesTo)
      end,
    }, function(choice)
      if choice then
        argument.name = choice.name
        run_prompt(client, argument, choice.title, choice.needsInput == true)
      end
    end)
  end)
end

--- Command-line completion of `:CtxlsPrompt`: the names of the buffer's prompt files.
---@param arglead string
---@return string[]
function M.complete_prompt(arglead)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = util.clients(bufnr)[1] or util.clients()[1]
  if not client then
    return {}
  end
  local result = util.request_sync(client, "workspace/executeCommand", list_params(bufnr), 1000, bufnr)
  local names = {}
  for _, p in ipairs(type(result) == "table" and type(result.prompts) == "table" and result.prompts or {}) do
    if type(p.name) == "string" and vim.startswith(p.name, arglead) and for_buffer(p, bufnr) then
      names[#names + 1] = p.name
    end
  end
  table.sort(names)
  return names
end

-- Commands of code actions and code lenses -----------------------------------------------

--- Client-side handlers (the client's `commands`) of the commands in the server's code
--- actions and code lenses (`vim.lsp.buf.code_action()`, `vim.lsp.codelens.run()`): they
--- ask what the server needs from the user (a refactoring's instruction, the input of a
--- prompt whose title ends in "…") and report the result like the `:Ctxls*` commands.
---@return table<string, fun(command: lsp.Command, ctx: table)>
function M.client_commands()
  ---@param fn fun(client: vim.lsp.Client, argument: table, command: lsp.Command)
  local function handler(fn)
    return function(command, ctx)
      local client = vim.lsp.get_client_by_id(ctx.client_id)
      if not client then
        return
      end
      local argument = type(command.arguments) == "table" and command.arguments[1]
      fn(client, vim.deepcopy(type(argument) == "table" and argument or {}), command)
    end
  end
  local function edit(title)
    return handler(function(client, argument, command)
      M.execute(client, title, command.command, argument, function(result)
        report_edit(title, result)
      end)
    end)
  end
  local function markdown(title, name)
    return handler(function(client, argument, command)
      execute_and_show(client, title, command.command, argument, explain_view(name, "ctxls: " .. name))
    end)
  end
  return {
    ["ctxls.generate"] = edit("Generate"),
    ["ctxls.document"] = edit("Add documentation comment"),
    ["ctxls.tests"] = edit("Write tests"),
    ["ctxls.fix"] = edit("Fix this"),
    ["ctxls.explain"] = markdown("Explain", "explanation"),
    ["ctxls.answer"] = markdown("Answer", "answer"),
    ["ctxls.refactor"] = handler(function(client, argument)
      refactor_with(client, argument)
    end),
    ["ctxls.runPrompt"] = handler(function(client, argument, command)
      if type(command.title) == "string" and command.title ~= "" then
        local needs_input = vim.endswith(command.title, "…")
        run_prompt(client, argument, (command.title:gsub("…$", "")), needs_input)
        return
      end
      -- No title to tell: ask the server whether the prompt takes input.
      local bufnr = buffer_of(argument.uri) or vim.api.nvim_get_current_buf()
      list_prompts(client, bufnr, function(prompts)
        local found = vim.iter(prompts):find(function(p)
          return p.name == argument.name
        end)
        run_prompt(client, argument, found and found.title or tostring(argument.name), found ~= nil and found.needsInput == true)
      end)
    end),
  }
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
  execute_and_show(client, "Summarize changes", "ctxls.summarizeDiff", argument, {
    name = "summary",
    title = "ctxls: changes",
    how = options().view.summary,
  })
end

--- Fence languages by file extension, for the text shown in the context view.
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
  md = "markdown",
  markdown = "markdown",
  yaml = "yaml",
  yml = "yaml",
  json = "json",
  graphql = "graphql",
  gql = "graphql",
  proto = "proto",
}

---@param value any
---@return table
local function list(value)
  return type(value) == "table" and value or {}
end

--- Appends `text` to `lines` as a fenced block in the language of `path`.
---@param lines string[]
---@param path string
---@param text any
local function fenced(lines, path, text)
  text = tostring(text or "")
  local fence = text:find("```", 1, true) and "````" or "```"
  lines[#lines + 1] = ""
  lines[#lines + 1] = fence .. (LANGUAGES[path:match("%.(%w+)$") or ""] or "")
  vim.list_extend(lines, vim.split((text:gsub("\n$", "")), "\n", { plain = true }))
  lines[#lines + 1] = fence
end

--- `path:start-end`, without the lines when the server gave none.
---@param item table
---@return string
local function place(item)
  local path = tostring(item.path or "?")
  if item.start_line == nil or item.start_line == vim.NIL then
    return path
  end
  return ("%s:%s-%s"):format(path, tostring(item.start_line), tostring(item.end_line))
end

--- The `ctxls.showContext` result as markdown: what a chat request there would include
--- (instructions, mentions and what they resolved to, mentions that resolve to nothing,
--- document sections and why) and the snippets with their place, score, why and text.
---@param where string
---@param result table
---@return string[]
function M.context_markdown(where, result)
  local snippets = list(result.snippets)
  local lines = { "# Context at " .. where, "" }
  if type(result.query) == "string" and result.query ~= "" then
    vim.list_extend(lines, { "Query: " .. result.query:gsub("\n", " "), "" })
  end
  lines[#lines + 1] = ("%d snippet(s), %s of %s tokens, best first: what a model would be sent with the code around the cursor."):format(
    #snippets,
    tostring(result.tokens or "?"),
    tostring(result.budget or "?")
  )

  local instructions = list(result.instructions)
  if #instructions > 0 then
    vim.list_extend(lines, { "", "## Instructions", "" })
    for _, item in ipairs(instructions) do
      lines[#lines + 1] = ("- %s (%s tokens)"):format(tostring(item.path or "?"), tostring(item.tokens or "?"))
    end
  end

  local mentions = list(result.mentions)
  if #mentions > 0 then
    vim.list_extend(lines, { "", "## Mentions" })
    for _, item in ipairs(mentions) do
      local what = type(item.what) == "string" and item.what ~= "" and (" (" .. item.what .. ")") or ""
      vim.list_extend(lines, {
        "",
        ("### %s → %s%s"):format(tostring(item.mention or "@?"), place(item), what),
        "",
        ("%s tokens%s"):format(tostring(item.tokens or "?"), item.summarized == true and ", summarized to its signatures" or ""),
      })
      fenced(lines, tostring(item.path or ""), item.text)
    end
  end

  local unresolved = list(result.unresolved)
  if #unresolved > 0 then
    vim.list_extend(lines, { "", "## Unresolved mentions", "" })
    for _, item in ipairs(unresolved) do
      lines[#lines + 1] = ("- %s: %s"):format(tostring(item.mention or "@?"), tostring(item.reason or "not found"))
    end
  end

  local documents = list(result.documents)
  if #documents > 0 then
    vim.list_extend(lines, { "", "## Documents" })
    for _, item in ipairs(documents) do
      local anchor = type(item.anchor) == "string" and item.anchor ~= "" and ("#" .. item.anchor) or ""
      local title = type(item.title) == "string" and item.title ~= "" and (" " .. item.title) or ""
      vim.list_extend(lines, {
        "",
        ("### %s%s%s (lines %s-%s)"):format(tostring(item.path or "?"), anchor, title ~= "" and ":" .. title or "", tostring(item.start_line), tostring(item.end_line)),
        "",
        ("%s tokens"):format(tostring(item.tokens or "?")),
      })
      if type(item.why) == "string" and item.why ~= "" then
        lines[#lines + 1] = "why: " .. item.why
      end
      fenced(lines, tostring(item.path or ""), item.text)
    end
  end

  vim.list_extend(lines, { "", "## Snippets" })
  for i, snippet in ipairs(snippets) do
    local sources = table.concat(list(snippet.sources), ", ")
    vim.list_extend(lines, {
      "",
      ("### %d. %s"):format(i, place(snippet)),
      "",
      ("score %.3f · %s · %s tokens"):format(tonumber(snippet.score) or 0, sources, tostring(snippet.tokens or "?")),
    })
    if type(snippet.why) == "string" and snippet.why ~= "" then
      lines[#lines + 1] = "why: " .. snippet.why
    end
    fenced(lines, tostring(snippet.path or ""), snippet.text)
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
