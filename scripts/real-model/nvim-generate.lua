--- :CtxlsGenerate in a real Neovim against the real model (run by tests/real_model.rs with
--- `nvim --headless --clean -c "luafile ..."` after the startup, so that filetypes are
--- detected, the plugin on 'runtimepath', the workspace as the current
--- directory). Environment: CTXLS_BIN, LINE (the requirement's line), RESULT (a JSON file
--- this writes: whether the buffer changed, its text before and after, the notifications).
local bin, line, result_path = os.getenv("CTXLS_BIN"), tonumber(os.getenv("LINE")), os.getenv("RESULT")
local notes = {}
vim.notify = function(message, level)
  table.insert(notes, { message = tostring(message), level = level })
end
-- The server's own messages (a failed generate says why there).
local show_message = vim.lsp.handlers["window/showMessage"]
vim.lsp.handlers["window/showMessage"] = function(err, params, ctx, config)
  -- MessageType 1 is an error, 2 a warning; 3 and 4 (information, log) do not end the wait.
  local level = ({ vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG })[params.type]
  table.insert(notes, { message = params.message, level = level, lsp = true })
  return show_message(err, params, ctx, config)
end
local function write(result)
  local file = assert(io.open(result_path, "w"))
  file:write(vim.json.encode(result))
  file:close()
end
local function text()
  return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
end

-- The model and its limits come from the workspace's .ctxls.toml.
require("ctxls").setup({ cmd = { bin } })
vim.cmd.edit("src/lib.rs")
local attached = vim.wait(60000, function()
  local client = vim.lsp.get_clients({ name = "ctxls", bufnr = 0 })[1]
  return client ~= nil and client.initialized == true
end, 100)
if not attached then
  write({ error = "the ctxls client did not attach within 60 s", notes = notes })
  vim.cmd("cquit 1")
end
vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 100)
local before = text()
vim.api.nvim_win_set_cursor(0, { line, 3 })
vim.cmd("CtxlsGenerate")
local finished = vim.wait(240000, function()
  for _, note in ipairs(notes) do
    if note.level == vim.log.levels.ERROR or note.level == vim.log.levels.WARN then return true end
    if note.message:find(": applied") or note.message:find(": discarded") then return true end
  end
  return false
end, 200)
write({ finished = finished, changed = text() ~= before, before = before, after = text(), notes = notes })
vim.cmd("qall!")
