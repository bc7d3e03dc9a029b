--- `:checkhealth ctxls`: Neovim, the binary, the server's start, and the model provider
--- (through `ctxls doctor`).
local util = require("ctxls.util")

local M = {}

local health = vim.health

---@param cmd string[]
---@param opts table|nil
---@param timeout_ms integer
---@return vim.SystemCompleted|nil, string|nil
local function run(cmd, opts, timeout_ms)
  local ok, obj = pcall(vim.system, cmd, vim.tbl_extend("force", { text = true, timeout = timeout_ms }, opts or {}))
  if not ok then
    return nil, tostring(obj)
  end
  return obj:wait()
end

---@param text string
---@param limit integer
---@return string
local function tail(text, limit)
  local lines = vim.split(vim.trim(text or ""), "\n", { plain = true })
  if #lines > limit then
    lines = vim.list_slice(lines, #lines - limit + 1, #lines)
  end
  return table.concat(lines, "\n")
end

---@param message table
---@return string
local function frame(message)
  local body = vim.json.encode(message)
  return ("Content-Length: %d\r\n\r\n%s"):format(#body, body)
end

--- Starts the server outside the editor and asks `initialize` (no workspace, so nothing is
--- indexed), then shuts it down. Returns the result or an error message.
---@param cmd string[]
---@param env table|nil
---@return table|nil result, string|nil err
local function handshake(cmd, env)
  local stdout, stderr = {}, {}
  local ok, proc = pcall(vim.system, cmd, {
    stdin = true,
    env = env,
    stdout = function(_, data)
      if data then
        stdout[#stdout + 1] = data
      end
    end,
    stderr = function(_, data)
      if data then
        stderr[#stderr + 1] = data
      end
    end,
  })
  if not ok then
    return nil, tostring(proc)
  end
  proc:write(frame({
    jsonrpc = "2.0",
    id = 1,
    method = "initialize",
    params = {
      processId = vim.NIL,
      rootUri = vim.NIL,
      capabilities = { general = { positionEncodings = { "utf-8", "utf-16" } } },
      clientInfo = { name = "ctxls-checkhealth" },
    },
  }))
  local response
  vim.wait(10000, function()
    local text = table.concat(stdout)
    for body in text:gmatch("Content%-Length: %d+\r\n\r\n(%b{})") do
      local decoded_ok, decoded = pcall(vim.json.decode, body)
      if decoded_ok and decoded.id == 1 then
        response = decoded
        return true
      end
    end
    return false
  end, 50)
  pcall(function()
    proc:write(frame({ jsonrpc = "2.0", id = 2, method = "shutdown" }))
    proc:write(frame({ jsonrpc = "2.0", method = "exit" }))
    proc:write(nil)
  end)
  local done = proc:wait(5000)
  if done.signal ~= 0 and done.code ~= 0 and not response then
    return nil, ("the server was killed (signal %d)"):format(done.signal)
  end
  if not response then
    return nil, "no answer to initialize within 10 s" .. (#stderr > 0 and (":\n" .. tail(table.concat(stderr), 10)) or "")
  end
  if response.error then
    return nil, "initialize failed: " .. vim.inspect(response.error)
  end
  return response.result
end

local function check_neovim()
  health.start("ctxls: Neovim")
  local version = tostring(vim.version())
  if vim.fn.has("nvim-0.10") ~= 1 then
    health.error("Neovim " .. version .. " is too old", { "ctxls needs Neovim 0.10 or newer (vim.lsp.start, vim.fs.root, vim.system)" })
    return false
  end
  health.ok("Neovim " .. version)
  local native = type(vim.lsp.inline_completion) == "table" and type(vim.lsp.inline_completion.enable) == "function"
  if native then
    health.info("inline completion: Neovim's own vim.lsp.inline_completion (set inline.native = false for the plugin's ghost text)")
  else
    health.info("inline completion: the plugin's ghost text (vim.lsp.inline_completion arrives in Neovim 0.12)")
  end
  return true
end

---@param opts ctxls.Options
---@return boolean
local function check_binary(opts)
  health.start("ctxls: server binary")
  local exe = opts.cmd[1]
  local path = vim.fn.exepath(exe)
  if path == "" then
    health.error(("%q not found (cmd = %s)"):format(exe, vim.inspect(opts.cmd)), {
      "Build and install it from the ctxls repository: `cargo install --path .`",
      "or point the plugin at a built binary: require('ctxls').setup({ cmd = { '/path/to/ctxls' } })",
    })
    return false
  end
  local result, err = run({ path, "--version" }, { env = opts.cmd_env }, 5000)
  if not result or result.code ~= 0 then
    result, err = run({ path, "--help" }, { env = opts.cmd_env }, 5000)
  end
  if not result or result.code ~= 0 then
    health.error(("%s does not run: %s"):format(path, err or tail((result and result.stderr) or "", 5)), {
      "Rebuild it (`cargo build --release`) and check that it runs in a shell",
    })
    return false
  end
  local first = vim.split(vim.trim(result.stdout or ""), "\n", { plain = true })[1] or ""
  health.ok(("%s (%s)"):format(path, first))
  return true
end

---@param opts ctxls.Options
---@return string|nil root of a running client
local function check_server(opts)
  health.start("ctxls: language server")
  local ctxls = require("ctxls")
  local clients = util.clients()
  local root
  for _, client in ipairs(clients) do
    local status = ctxls.status()
    local buffers = vim.tbl_keys(client.attached_buffers or {})
    health.ok(
      ("running (client %d, root %s, position encoding %s, %d buffer(s), inline completion %s, model %s)"):format(
        client.id,
        tostring(client.root_dir),
        tostring(client.offset_encoding),
        #buffers,
        client.server_capabilities.inlineCompletionProvider and "yes" or "no",
        status.client_id == client.id and status.model or "unknown"
      )
    )
    root = root or client.root_dir
  end
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.tbl_contains(opts.filetypes, vim.bo[bufnr].filetype) and #util.clients(bufnr) == 0 then
    local _, why = ctxls._find_root(bufnr)
    health.warn("not attached to the current buffer: " .. (why or ctxls._state.last_skip or "unknown reason"), {
      "The workspace root is the nearest directory with one of: "
        .. table.concat(vim.iter(opts.root_markers):flatten():totable(), ", "),
    })
  end
  if #clients == 0 then
    local result, err = handshake(opts.cmd, opts.cmd_env)
    if not result then
      health.error("the server does not start: " .. tostring(err), {
        "Run `" .. table.concat(opts.cmd, " ") .. "` in a shell with CTXLS_LOG=debug to see why",
      })
      return nil
    end
    local caps = result.capabilities or {}
    health.ok(
      ("no client running now; the server starts and answers initialize (%s %s, position encoding %s, inline completion %s)"):format(
        result.serverInfo and result.serverInfo.name or "ctxls",
        result.serverInfo and result.serverInfo.version or "",
        tostring(caps.positionEncoding),
        caps.inlineCompletionProvider and "yes" or "no"
      )
    )
  end
  return root
end

---@param opts ctxls.Options
---@param root string
local function check_provider(opts, root)
  health.start("ctxls: model provider (ctxls doctor --root " .. root .. ")")
  local settings = opts.settings or {}
  if settings.llm ~= nil then
    health.warn(
      "`settings.llm` from setup() is applied by the server on top of .ctxls.toml, but `ctxls doctor` reads only "
        .. root
        .. "/.ctxls.toml: the check below may not describe what the editor uses",
      { "Keep the model settings in .ctxls.toml (shared by the editor, the CLI and doctor)" }
    )
  end
  local result, err = run({ opts.cmd[1], "doctor", "--root", root }, { env = opts.cmd_env, cwd = root }, 60000)
  if not result then
    health.error("could not run ctxls doctor: " .. tostring(err))
    return
  end
  local output = vim.trim((result.stdout or "") .. (result.stderr ~= "" and ("\n" .. result.stderr) or ""))
  if result.code == 0 then
    health.ok("ctxls doctor: all checks passed")
    health.info(output)
    return
  end
  local remedies = {}
  for line in output:gmatch("[^\n]+") do
    local remedy = line:match("^%s*remedy:%s*(.+)$") or line:match("FAILED:%s*(.+)$")
    if remedy then
      remedies[#remedies + 1] = remedy
    end
  end
  if #remedies == 0 then
    remedies = { "Run `ctxls doctor --root " .. root .. "` in a shell; see the Models section of the ctxls README" }
  end
  health.error(("ctxls doctor failed (exit code %d):\n%s"):format(result.code, output), remedies)
end

function M.check()
  if not check_neovim() then
    return
  end
  local ctxls = require("ctxls")
  local opts = ctxls.options
  health.start("ctxls: setup")
  if not opts then
    health.warn("require('ctxls').setup() was not called: the server never starts; checking with the defaults")
    opts = require("ctxls.config").resolve({})
  else
    health.ok("setup() called; filetypes: " .. table.concat(opts.filetypes, ", "))
  end
  if not check_binary(opts) then
    return
  end
  local root = check_server(opts) or vim.fn.getcwd()
  check_provider(opts, root)
end

return M
