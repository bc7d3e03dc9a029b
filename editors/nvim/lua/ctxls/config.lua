--- The plugin's options: defaults, validation, and the server settings as JSON will see them.
local M = {}

---@class ctxls.Keymaps
---@field accept string|false   accept the shown inline completion (insert mode)
---@field trigger string|false  ask for a completion now (insert mode, "invoked": also in comments)
---@field dismiss string|false  hide the shown completion (insert mode)

---@class ctxls.InlineOptions
---@field enabled boolean
---@field native boolean        use vim.lsp.inline_completion when Neovim has it (0.12+)
---@field auto_trigger boolean  ask after typing pauses in insert mode
---@field debounce_ms integer   client-side pause before a request (the server adds completion.debounce_ms)
---@field hl_group string
---@field keymaps ctxls.Keymaps

---@class ctxls.Options
---@field cmd string[]
---@field cmd_env table<string,string>|nil
---@field filetypes string[]
---@field root_markers (string|string[])[]
---@field root_dir nil|fun(bufnr: integer): string|nil
---@field settings table
---@field autostart boolean
---@field codelens boolean
---@field on_attach nil|fun(client: vim.lsp.Client, bufnr: integer)
---@field capabilities table|nil
---@field inline ctxls.InlineOptions
---@field view { explain: string, summary: string, context: string }
---@field next_edit ctxls.NextEditOptions

---@type ctxls.Options
M.defaults = {
  cmd = { "ctxls" },
  cmd_env = nil,
  filetypes = { "rust", "typescript", "typescriptreact", "javascript", "javascriptreact" },
  -- Tried in order: the nearest `.ctxls.toml`, else the repository, else the package.
  root_markers = { ".ctxls.toml", ".git", { "Cargo.toml", "package.json" } },
  root_dir = nil,
  settings = {},
  autostart = true,
  codelens = true,
  on_attach = nil,
  capabilities = nil,
  inline = {
    enabled = true,
    native = true,
    auto_trigger = true,
    debounce_ms = 75,
    hl_group = "CtxlsGhostText",
    keymaps = {
      accept = "<M-l>",
      trigger = "<M-\\>",
      dismiss = "<C-]>",
    },
  },
  view = {
    explain = "float",
    summary = "split",
    context = "split",
  },
  -- Next-edit suggestions (:CtxlsNextEdit); automatic ones cost a model call per pause.
  next_edit = {
    auto = false,
    debounce_ms = 500,
    keymaps = {
      jump = "<M-n>",
      accept = "<M-y>",
      dismiss = "<M-e>",
    },
  },
}

local VIEWS = { float = true, split = true, vsplit = true, tab = true }

--- Settings keys whose values are lists: an empty Lua table there means an empty list.
local LIST_KEYS = {
  ["index.exclude"] = true,
  ["llm.fim_stop"] = true,
  ["requirements.act_prefixes"] = true,
  ["requirements.act_suffixes"] = true,
  ["requirements.ask_suffixes"] = true,
}

--- Lua has one empty table where JSON has `{}` and `[]`, and the server reads an empty
--- object as "reset this section to its defaults". Empty tables are therefore dropped,
--- except for the list-valued keys, where they are sent as `[]`.
---@param value any
---@param path string
---@return any|nil
local function normalize(value, path)
  if type(value) ~= "table" or vim.islist(value) and #value > 0 then
    return value
  end
  if next(value) == nil then
    return LIST_KEYS[path] and value or nil
  end
  local out = {}
  for key, child in pairs(value) do
    local child_path = path == "" and tostring(key) or (path .. "." .. tostring(key))
    out[key] = normalize(child, child_path)
  end
  if next(out) == nil then
    return nil
  end
  return out
end

--- The settings as the server should receive them, or nil when there are none.
---@param settings table|nil
---@return table|nil
function M.server_settings(settings)
  if settings == nil then
    return nil
  end
  return normalize(vim.deepcopy(settings), "")
end

--- Raises an error naming the option when its value has the wrong type.
---@param name string
---@param value any
---@param kind string
---@param optional? boolean
local function check(name, value, kind, optional)
  if value == nil and optional then
    return
  end
  if type(value) ~= kind then
    error(("ctxls: option `%s` must be a %s (got %s)"):format(name, kind, vim.inspect(value)), 3)
  end
end

---@param opts table|nil
---@return ctxls.Options
function M.resolve(opts)
  opts = opts or {}
  check("setup options", opts, "table")
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- Lists are replaced, not merged index by index.
  for _, key in ipairs({ "cmd", "filetypes", "root_markers" }) do
    if opts[key] ~= nil then
      merged[key] = opts[key]
    end
  end
  if opts.settings ~= nil then
    merged.settings = opts.settings
  end
  if type(merged.cmd) == "string" then
    merged.cmd = { merged.cmd }
  end
  check("cmd", merged.cmd, "table")
  check("cmd_env", merged.cmd_env, "table", true)
  check("filetypes", merged.filetypes, "table")
  check("root_markers", merged.root_markers, "table")
  check("root_dir", merged.root_dir, "function", true)
  check("settings", merged.settings, "table")
  check("autostart", merged.autostart, "boolean")
  check("codelens", merged.codelens, "boolean")
  check("on_attach", merged.on_attach, "function", true)
  check("capabilities", merged.capabilities, "table", true)
  check("inline", merged.inline, "table")
  check("inline.enabled", merged.inline.enabled, "boolean")
  check("inline.native", merged.inline.native, "boolean")
  check("inline.auto_trigger", merged.inline.auto_trigger, "boolean")
  check("inline.debounce_ms", merged.inline.debounce_ms, "number")
  check("inline.keymaps", merged.inline.keymaps, "table")
  check("view", merged.view, "table")
  check("next_edit", merged.next_edit, "table")
  check("next_edit.auto", merged.next_edit.auto, "boolean")
  check("next_edit.debounce_ms", merged.next_edit.debounce_ms, "number")
  check("next_edit.keymaps", merged.next_edit.keymaps, "table")
  for name, lhs in pairs(merged.next_edit.keymaps) do
    if lhs ~= false and type(lhs) ~= "string" then
      error(("ctxls: next_edit.keymaps.%s must be a key (\"<M-n>\") or false (got %s)"):format(name, vim.inspect(lhs)), 2)
    end
  end
  for name, lhs in pairs(merged.inline.keymaps) do
    if lhs ~= false and type(lhs) ~= "string" then
      error(("ctxls: inline.keymaps.%s must be a key (\"<M-l>\") or false (got %s)"):format(name, vim.inspect(lhs)), 2)
    end
  end
  if #merged.cmd == 0 or type(merged.cmd[1]) ~= "string" then
    error("ctxls: `cmd` must be a list starting with the server's executable, e.g. { \"ctxls\" }", 2)
  end
  for name, kind in pairs(merged.view) do
    if not VIEWS[kind] then
      error(("ctxls: view.%s must be one of float, split, vsplit, tab (got %s)"):format(name, vim.inspect(kind)), 2)
    end
  end
  return merged
end

return M
