--- ctxls for Neovim: starts the server for Rust and TypeScript/JavaScript buffers, wires
--- inline completion, the `:Ctxls*` commands and the `ctxls/status` notification.
---
---   require("ctxls").setup({ settings = { llm = { provider = "ollama" } } })
---   require("ctxls").status()      -- { running, model, message, progress, ... }
---   require("ctxls").statusline()  -- "ctxls", "ctxls: busy", "ctxls: Indexing 42%", ...
local config = require("ctxls.config")
local util = require("ctxls.util")
local view = require("ctxls.view")

local M = {}

---@type ctxls.Options|nil
M.options = nil

--- What the server told us, by client id.
local state = {
  ---@type table<integer, { model: string, message: string|nil }>
  models = {},
  ---@type table<integer, table<string|integer, { title: string|nil, message: string|nil, percentage: integer|nil }>>
  progress = {},
  ---@type table<integer, { text: string, time: number }[]>
  messages = {},
  --- Why the last buffer we looked at got no server (for :checkhealth).
  ---@type string|nil
  last_skip = nil,
  missing_binary_reported = false,
}

M._state = state

local function redraw_status()
  vim.schedule(function()
    pcall(vim.cmd.redrawstatus, { bang = true })
  end)
end

local function emit_status(client_id)
  vim.api.nvim_exec_autocmds("User", {
    pattern = "CtxlsStatus",
    modeline = false,
    data = { client_id = client_id, status = M.status() },
  })
  redraw_status()
end

--- `ctxls/status`: `{model: "ready"|"busy"|"error", message?: string}` from the server.
local function on_status(_, result, ctx)
  if type(result) ~= "table" or type(result.model) ~= "string" then
    return
  end
  state.models[ctx.client_id] = { model = result.model, message = result.message }
  emit_status(ctx.client_id)
end

--- Explanations arrive as `window/showDocument` of a markdown file under the cache
--- directory; they open in the plugin's view instead of replacing the current buffer.
local function on_show_document(err, result, ctx, handler_config)
  local uri = type(result) == "table" and result.uri or nil
  local path = uri and uri:match("^file:") and vim.uri_to_fname(uri) or nil
  if path and path:match("[/\\]explanations[/\\][^/\\]+%.md$") and vim.fn.filereadable(path) == 1 then
    local lines = vim.fn.readfile(path)
    local target = view.expected
      or {
        name = "explanation",
        title = "ctxls: " .. ((lines[1] or ""):match("^#%s+(.+)$") or "explanation"),
        how = M.options and M.options.view.explain or "float",
      }
    view.shown = view.shown + 1
    vim.schedule(function()
      view.show(target.name, target.title, lines, target.how)
    end)
    return { success = true }
  end
  return vim.lsp.handlers["window/showDocument"](err, result, ctx, handler_config)
end

--- Remembers the server's messages so that a command error repeating one is not shown twice.
local function on_show_message(err, result, ctx, handler_config)
  if type(result) == "table" and type(result.message) == "string" then
    local list = state.messages[ctx.client_id] or {}
    table.insert(list, { text = result.message, time = vim.uv.now() })
    if #list > 20 then
      table.remove(list, 1)
    end
    state.messages[ctx.client_id] = list
  end
  return vim.lsp.handlers["window/showMessage"](err, result, ctx, handler_config)
end

--- How many messages the server showed since `time` (vim.uv.now()).
---@param client_id integer
---@param time integer
---@return integer
function M._messages_since(client_id, time)
  local count = 0
  for _, entry in ipairs(state.messages[client_id] or {}) do
    if entry.time >= time then
      count = count + 1
    end
  end
  return count
end

--- Whether the server showed a message containing `text` in the last few seconds.
---@param client_id integer
---@param text string
---@return boolean
function M._recently_shown(client_id, text)
  local now = vim.uv.now()
  for _, entry in ipairs(state.messages[client_id] or {}) do
    if now - entry.time < 5000 and entry.text:find(text, 1, true) then
      return true
    end
  end
  return false
end

---@param bufnr integer
---@return string|nil root, string|nil why_not
local function find_root(bufnr)
  local opts = assert(M.options)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return nil, "the buffer has no file name"
  end
  if vim.bo[bufnr].buftype ~= "" then
    return nil, "the buffer is not a file buffer (buftype=" .. vim.bo[bufnr].buftype .. ")"
  end
  if name:match("^%a[%w+.-]*://") then
    return nil, "the buffer is not a local file (" .. name .. ")"
  end
  if opts.root_dir then
    local root = opts.root_dir(bufnr)
    if root then
      return vim.fs.normalize(root)
    end
    return nil, "the root_dir function found no root for " .. name
  end
  for _, markers in ipairs(opts.root_markers) do
    local root = vim.fs.root(bufnr, markers)
    if root then
      return root
    end
  end
  return nil,
    ("no workspace root above %s (looked for %s)"):format(
      name,
      table.concat(vim.iter(opts.root_markers):flatten():totable(), ", ")
    )
end

M._find_root = find_root

local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.textDocument = caps.textDocument or {}
  caps.textDocument.inlineCompletion = caps.textDocument.inlineCompletion or { dynamicRegistration = false }
  local opts = assert(M.options)
  if opts.capabilities then
    caps = vim.tbl_deep_extend("force", caps, opts.capabilities)
  end
  return caps
end

---@param client vim.lsp.Client
---@param bufnr integer
local function on_attach(client, bufnr)
  local opts = assert(M.options)
  require("ctxls.inline").attach(client, bufnr, opts.inline)
  require("ctxls.next_edit").attach(bufnr, opts.next_edit)
  if opts.codelens and util.supports(client, "textDocument/codeLens", bufnr) then
    local group = vim.api.nvim_create_augroup("ctxls_codelens_" .. bufnr, { clear = true })
    local function refresh()
      if vim.api.nvim_buf_is_valid(bufnr) and #util.clients(bufnr) > 0 then
        vim.lsp.codelens.refresh({ bufnr = bufnr })
      end
    end
    vim.api.nvim_create_autocmd({ "BufEnter", "InsertLeave", "BufWritePost" }, {
      group = group,
      buffer = bufnr,
      callback = refresh,
      desc = "ctxls: refresh the requirement code lenses",
    })
    refresh()
  end
  if opts.on_attach then
    opts.on_attach(client, bufnr)
  end
end

---@param root string
---@return table
local function client_config(root)
  local opts = assert(M.options)
  local settings = config.server_settings(opts.settings)
  return {
    name = util.NAME,
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    root_dir = root,
    init_options = settings,
    -- Non-empty settings are also sent as workspace/didChangeConfiguration {settings}.
    settings = settings or {},
    capabilities = capabilities(),
    -- The commands of code actions and lenses that need the user (an instruction, a
    -- prompt's input) or whose results the plugin shows.
    commands = require("ctxls.commands").client_commands(),
    handlers = {
      ["ctxls/status"] = on_status,
      ["window/showDocument"] = on_show_document,
      ["window/showMessage"] = on_show_message,
    },
    on_attach = on_attach,
    on_exit = function(code, signal, client_id)
      state.models[client_id] = nil
      state.progress[client_id] = nil
      state.messages[client_id] = nil
      vim.schedule(function()
        if code ~= 0 then
          util.notify(
            ("the server exited with code %d%s; see :LspLog, or set cmd_env = { CTXLS_LOG = \"debug\" }"):format(
              code,
              signal ~= 0 and (" (signal " .. signal .. ")") or ""
            ),
            vim.log.levels.ERROR
          )
        end
        emit_status(client_id)
      end)
    end,
  }
end

--- Starts (or reuses) the server for a buffer. Returns the client id, or nil and why not.
---@param bufnr? integer
---@return integer|nil client_id, string|nil why_not
function M.attach(bufnr)
  if not M.options then
    return nil, "require('ctxls').setup() was not called"
  end
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local root, why = find_root(bufnr)
  if not root then
    state.last_skip = why
    return nil, why
  end
  local exe = M.options.cmd[1]
  if vim.fn.executable(exe) ~= 1 then
    why = ("the server binary %q was not found or is not executable (cmd = %s). Install it (`cargo install --path .` in the ctxls repository) or set `cmd` in require('ctxls').setup(); :checkhealth ctxls"):format(
      exe,
      vim.inspect(M.options.cmd)
    )
    state.last_skip = why
    if not state.missing_binary_reported then
      state.missing_binary_reported = true
      util.notify(why, vim.log.levels.ERROR)
    end
    return nil, why
  end
  local client_id = vim.lsp.start(client_config(root), { bufnr = bufnr })
  if not client_id then
    why = "vim.lsp.start failed for root " .. root .. " (see :LspLog)"
    state.last_skip = why
    return nil, why
  end
  state.last_skip = nil
  return client_id
end

--- Replaces the server settings and sends them to the running servers.
---@param settings table
function M.set_settings(settings)
  assert(M.options, "ctxls: call require('ctxls').setup() first")
  assert(type(settings) == "table", "ctxls: settings must be a table")
  M.options.settings = settings
  local normalized = config.server_settings(settings) or vim.empty_dict()
  for _, client in ipairs(util.clients()) do
    client.settings = normalized
    util.client_notify(client, "workspace/didChangeConfiguration", { settings = normalized })
  end
end

---@class ctxls.Status
---@field running boolean       a ctxls client is running
---@field client_id integer|nil
---@field root string|nil
---@field model string          "ready"|"busy"|"error" from ctxls/status, "unknown" before the first one
---@field message string|nil    the server's message with the model state
---@field progress string|nil   work in progress ("Indexing: 42%"), nil when idle

--- The state of the server for a buffer (default: the current one, else any running).
---@param bufnr? integer
---@return ctxls.Status
function M.status(bufnr)
  local clients = util.clients(bufnr or vim.api.nvim_get_current_buf())
  if #clients == 0 then
    clients = util.clients()
  end
  local client = clients[1]
  if not client then
    return { running = false, model = "unknown" }
  end
  local model = state.models[client.id] or {}
  local progress
  for _, value in pairs(state.progress[client.id] or {}) do
    local text = (value.title or "working"):gsub("^ctxls: ", "")
    if value.message and value.message ~= "" then
      text = text .. ": " .. value.message
    end
    if value.percentage then
      text = text .. (" %d%%"):format(value.percentage)
    end
    progress = text
  end
  return {
    running = true,
    client_id = client.id,
    root = client.root_dir,
    model = model.model or "unknown",
    message = model.message,
    progress = progress,
  }
end

--- A short text for statuslines: "" when no server runs.
---@return string
function M.statusline()
  local s = M.status()
  if not s.running then
    return ""
  end
  if s.model == "error" then
    return "ctxls: model error"
  end
  if s.progress then
    return "ctxls: " .. s.progress
  end
  if s.model == "busy" then
    return "ctxls: busy"
  end
  return "ctxls"
end

---@param args table LspProgress autocmd arguments
local function on_progress(args)
  local data = args.data or {}
  local client = data.client_id and vim.lsp.get_client_by_id(data.client_id)
  if not client or client.name ~= util.NAME then
    return
  end
  local params = data.params or {}
  local value = params.value
  if type(value) ~= "table" or params.token == nil then
    return
  end
  local by_token = state.progress[client.id] or {}
  state.progress[client.id] = by_token
  if value.kind == "end" then
    by_token[params.token] = nil
  else
    local previous = by_token[params.token] or {}
    by_token[params.token] = {
      title = value.title or previous.title,
      message = value.message or previous.message,
      percentage = value.percentage or previous.percentage,
    }
  end
  emit_status(client.id)
end

local function define_highlights()
  vim.api.nvim_set_hl(0, "CtxlsGhostText", { link = "Comment", default = true })
  vim.api.nvim_set_hl(0, "CtxlsNextEditRemoved", { link = "DiffDelete", default = true })
  vim.api.nvim_set_hl(0, "CtxlsNextEditAdded", { link = "DiffAdd", default = true })
  vim.api.nvim_set_hl(0, "CtxlsNextEditReason", { link = "Comment", default = true })
end

--- Starts ctxls for the configured filetypes. Safe to call again (options are replaced).
---@param opts? table see README.md
function M.setup(opts)
  if vim.fn.has("nvim-0.10") ~= 1 then
    util.notify("Neovim 0.10 or newer is required (this is " .. tostring(vim.version()) .. ")", vim.log.levels.ERROR)
    return
  end
  M.options = config.resolve(opts)
  state.missing_binary_reported = false
  define_highlights()
  local group = vim.api.nvim_create_augroup("ctxls", { clear = true })
  vim.api.nvim_create_autocmd("ColorScheme", { group = group, callback = define_highlights })
  vim.api.nvim_create_autocmd("LspProgress", { group = group, callback = on_progress })
  vim.api.nvim_create_autocmd("LspDetach", {
    group = group,
    callback = function(args)
      local client = vim.lsp.get_client_by_id(args.data.client_id)
      if client and client.name == util.NAME then
        require("ctxls.inline").detach(args.buf)
        require("ctxls.next_edit").detach(args.buf)
        pcall(vim.api.nvim_del_augroup_by_name, "ctxls_codelens_" .. args.buf)
      end
    end,
  })
  if M.options.autostart then
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = M.options.filetypes,
      callback = function(args)
        M.attach(args.buf)
      end,
      desc = "ctxls: start the language server",
    })
    -- Buffers opened before setup() (lazy loading).
    for _, buf in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(M.options.filetypes, vim.bo[buf].filetype) then
        M.attach(buf)
      end
    end
  end
end

return M
