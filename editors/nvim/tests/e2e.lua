--- End-to-end test of the Neovim plugin: this script (run with `nvim --headless -l`) drives
--- a second, embedded Neovim over RPC, as a user would (keys typed with nvim_input), with
--- the real ctxls binary against a scripted LLM server on 127.0.0.1.
---
--- Environment: CTXLS_BIN (the server binary, required), NVIM_BIN (the Neovim to test,
--- default: this one). Exits non-zero with a message naming the failed check.
local started = vim.uv.hrtime()
local script_dir = vim.fs.dirname(vim.fs.normalize(debug.getinfo(1, "S").source:sub(2)))
local plugin_dir = vim.fs.dirname(script_dir)
package.path = script_dir .. "/?.lua;" .. package.path
local LlmServer = require("llm_server")

local CTXLS_BIN = os.getenv("CTXLS_BIN") or ""
local NVIM_BIN = os.getenv("NVIM_BIN") or vim.v.progpath
local OVERALL_TIMEOUT_MS = tonumber(os.getenv("CTXLS_NVIM_TEST_TIMEOUT_MS") or "") or 100000

local children = {}
local llm
local current_test = "setup"
local passed = {}

local function log(message)
  io.stdout:write(message .. "\n")
  io.stdout:flush()
end

local function elapsed(since)
  return ("%.2f s"):format((vim.uv.hrtime() - since) / 1e9)
end

--- The ctxls processes the children started, so that none outlives a failed run.
local server_pids = {}

local function kill_servers()
  for _, pid in ipairs(server_pids) do
    if vim.uv.kill(pid, 0) == 0 then
      vim.uv.kill(pid, "sigterm")
    end
  end
end

local function cleanup()
  for _, chan in ipairs(children) do
    pcall(vim.fn.jobstop, chan)
  end
  if llm then
    llm:stop()
  end
  -- Give the servers a moment to see their stdin close, then make sure.
  vim.wait(1000, function()
    for _, pid in ipairs(server_pids) do
      if vim.uv.kill(pid, 0) == 0 then
        return false
      end
    end
    return true
  end, 50)
  kill_servers()
end

local function fail(message)
  log(("FAIL [%s]: %s"):format(current_test, message))
  if llm then
    for i, request in ipairs(llm.requests) do
      log(("  LLM request %d: %s %s %s"):format(i, request.method, request.path, request.body:sub(1, 400):gsub("\n", "\\n")))
    end
  end
  for _, chan in ipairs(children) do
    local ok, notes = pcall(vim.rpcrequest, chan, "nvim_exec_lua", "return _G.test_notifications or {}", {})
    if ok then
      for _, note in ipairs(notes) do
        log(("  child notification [%s]: %s"):format(note.level, note.message))
      end
    end
  end
  cleanup()
  os.exit(1)
end

-- The whole run must end in time even if something waits forever.
local watchdog = assert(vim.uv.new_timer())
watchdog:start(OVERALL_TIMEOUT_MS, 0, function()
  io.stdout:write(("FAIL [%s]: the test did not finish within %d ms\n"):format(current_test, OVERALL_TIMEOUT_MS))
  io.stdout:flush()
  for _, pid in ipairs(server_pids) do
    vim.uv.kill(pid, "sigterm")
  end
  os.exit(2)
end)

local function check(condition, message, ...)
  if not condition then
    fail(message:format(...))
  end
end

local function expect_equal(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    fail(("%s:\n  expected %s\n  got      %s"):format(what, vim.inspect(expected), vim.inspect(actual)))
  end
end

--- Polls `probe` until it returns a truthy value; fails with `what` and the last probe
--- result after `timeout_ms`.
local function wait_for(what, timeout_ms, probe)
  local deadline = vim.uv.now() + timeout_ms
  local last
  while true do
    local value, detail = probe()
    if value and value ~= vim.NIL then
      return value
    end
    last = detail
    if vim.uv.now() > deadline then
      fail(("timed out after %d ms waiting for %s%s"):format(timeout_ms, what, last ~= nil and ("; last seen: " .. vim.inspect(last)) or ""))
    end
    vim.wait(25)
    vim.uv.update_time()
  end
end

local function run(cmd, cwd)
  local result = vim.system(cmd, { cwd = cwd, text = true, timeout = 20000 }):wait()
  check(result.code == 0, "%s failed (%d): %s", table.concat(cmd, " "), result.code, result.stderr or "")
  return result.stdout
end

--- Starts an embedded Neovim with the plugin on its runtimepath; returns helpers bound to it.
local function spawn(cwd, env)
  local chan = vim.fn.jobstart({
    NVIM_BIN,
    "--embed",
    "--headless",
    "--clean",
    "-n",
    "-i",
    "NONE",
    "--cmd",
    "set rtp^=" .. vim.fn.fnameescape(plugin_dir),
  }, { rpc = true, cwd = cwd, env = env })
  check(chan > 0, "could not start %s", NVIM_BIN)
  table.insert(children, chan)
  local child = {}
  function child.lua(code, ...)
    local ok, result = pcall(vim.rpcrequest, chan, "nvim_exec_lua", code, { ... })
    if not ok then
      fail("in the child Neovim: " .. tostring(result))
    end
    return result
  end
  --- Quits the child: a notification, since a request's answer may race its exit.
  function child.quit()
    vim.rpcnotify(chan, "nvim_command", "qall!")
  end
  function child.input(keys)
    vim.rpcrequest(chan, "nvim_input", keys)
  end
  --- Runs an Ex command after this RPC call returns, so the driver keeps serving HTTP.
  function child.command_async(command)
    child.lua("local command = ...; vim.schedule(function() vim.cmd(command) end)", command)
  end
  function child.lines()
    return child.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)")
  end
  --- Fails at once when the plugin showed a warning or an error.
  function child.no_errors()
    local notes = child.lua("return _G.test_notifications")
    for _, note in ipairs(notes) do
      if note.level == "ERROR" or note.level == "WARN" then
        fail(("the plugin reported %s: %s"):format(note.level, note.message))
      end
    end
  end
  function child.mode()
    return child.lua("return vim.api.nvim_get_mode().mode")
  end
  -- Record notifications for the assertions and the failure report.
  child.lua([[
    _G.test_notifications = {}
    local names = { [0] = "TRACE", "DEBUG", "INFO", "WARN", "ERROR" }
    vim.notify = function(message, level)
      table.insert(_G.test_notifications, { message = tostring(message), level = names[level or 2] or tostring(level) })
    end
  ]])
  return child
end

local function test(name, fn)
  current_test = name
  local t = vim.uv.hrtime()
  fn()
  local line = ("PASS %s (%s)"):format(name, elapsed(t))
  passed[#passed + 1] = line
  log(line)
end

-- ---------------------------------------------------------------------------------------

check(CTXLS_BIN ~= "" and vim.fn.executable(CTXLS_BIN) == 1, "CTXLS_BIN=%q is not an executable ctxls binary", CTXLS_BIN)
check(vim.fn.executable("git") == 1, "git is needed for the fixture workspace")

llm = LlmServer.start()
local tmp = vim.fn.tempname()
local ws = tmp .. "/workspace"
vim.fn.mkdir(ws, "p")
run({ "cp", "-R", script_dir .. "/fixture/.", ws })
ws = vim.uv.fs_realpath(ws)
-- The project's file names a model the editor settings override (the check that
-- initializationOptions reach the server); `ctxls doctor` reads this file.
vim.fn.writefile({
  "[llm]",
  'provider = "openai"',
  ('base_url = "%s"'):format(llm:url()),
  'model = "toml-model"',
}, ws .. "/.ctxls.toml")
local git = { "git", "-c", "user.name=ctxls test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main" }
run(vim.list_extend(vim.deepcopy(git), { "init", "-q" }), ws)
run(vim.list_extend(vim.deepcopy(git), { "add", "-A" }), ws)
run(vim.list_extend(vim.deepcopy(git), { "commit", "-q", "-m", "fixture" }), ws)

llm:fallback("/v1/models", LlmServer.json(200, { object = "list", data = { { id = "qwen2.5-coder" }, { id = "toml-model" } } }))

local env = {
  CTXLS_CACHE_DIR = tmp .. "/cache",
  XDG_STATE_HOME = tmp .. "/state",
  XDG_DATA_HOME = tmp .. "/data",
  XDG_CACHE_HOME = tmp .. "/xdg-cache",
  CTXLS_LOG = "warn",
}
local nvim = spawn(ws, env)

local MODEL = "qwen2.5-coder"

test("the server starts for a Rust buffer with the settings as initializationOptions", function()
  nvim.lua(
    [[
    local bin, url, model = ...
    _G.test_progress_ends = 0
    -- Every model state the plugin reported, in order (User CtxlsStatus).
    _G.test_models = {}
    vim.api.nvim_create_autocmd("User", { pattern = "CtxlsStatus", callback = function(args)
      local status = args.data.status
      local last = _G.test_models[#_G.test_models]
      if not last or last.model ~= status.model or last.message ~= status.message then
        table.insert(_G.test_models, { model = status.model, message = status.message })
      end
    end })
    vim.api.nvim_create_autocmd("LspProgress", { callback = function(args)
      local value = args.data and args.data.params and args.data.params.value
      if type(value) == "table" and value.kind == "end" then _G.test_progress_ends = _G.test_progress_ends + 1 end
    end })
    require("ctxls").setup({
      cmd = { bin },
      settings = {
        llm = { provider = "openai", base_url = url, model = model, retries = 0 },
        completion = { debounce_ms = 50 },
        hover = { explain = false },
      },
    })
    vim.cmd.edit("src/lib.rs")
  ]],
    CTXLS_BIN,
    llm:url(),
    MODEL
  )
  local info = wait_for("the ctxls client to attach and initialize", 20000, function()
    local state = nvim.lua([[
      local c = vim.lsp.get_clients({ name = "ctxls", bufnr = 0 })[1]
      if not c then return { attached = false, why = require("ctxls")._state.last_skip, notes = _G.test_notifications } end
      return { attached = true, initialized = c.initialized == true, root = c.root_dir, encoding = c.offset_encoding,
               init_options = c.config.init_options, ends = _G.test_progress_ends }
    ]])
    return state.initialized and state.ends > 0 and state, state
  end)
  server_pids = nvim.lua([[
    local pids = {}
    for _, pid in ipairs(vim.api.nvim_get_proc_children(vim.fn.getpid())) do
      local proc = vim.api.nvim_get_proc(pid)
      if proc and proc.name == "ctxls" then pids[#pids + 1] = pid end
    end
    return pids
  ]])
  check(#server_pids == 1, "one ctxls process under the child Neovim: %s", vim.inspect(server_pids))
  expect_equal(info.root, ws, "the workspace root")
  expect_equal(info.encoding, "utf-8", "the negotiated position encoding")
  expect_equal(vim.tbl_get(info, "init_options", "llm", "model"), MODEL, "initializationOptions.llm.model")
  local status = nvim.lua("return { require('ctxls').status(), require('ctxls').statusline() }")
  check(status[1].running == true and status[1].root == ws, "status() of a running server: %s", vim.inspect(status[1]))
  check(status[2]:match("^ctxls"), "statusline(): %q", status[2])
end)

test("an unknown @mention in a requirement comment is a warning (unknown-mention)", function()
  -- Published again once the root's index and documents are loaded.
  local found = wait_for("the unknown-mention diagnostic", 15000, function()
    local diagnostics = nvim.lua([[
      return vim.tbl_map(function(d)
        return { lnum = d.lnum, col = d.col, end_col = d.end_col, severity = d.severity, code = d.code, source = d.source, message = d.message }
      end, vim.diagnostic.get(0))
    ]])
    local mentions = vim.tbl_filter(function(d)
      return d.code == "unknown-mention"
    end, diagnostics)
    return #mentions > 0 and mentions, diagnostics
  end)
  local line = nvim.lines()[16]
  local col = line:find("@Nope", 1, true) - 1
  expect_equal(found, {
    {
      lnum = 15,
      col = col,
      end_col = col + #"@Nope",
      severity = vim.diagnostic.severity.WARN,
      code = "unknown-mention",
      source = "ctxls",
      message = "@Nope: no file, document section or symbol named `Nope` in the workspace",
    },
  }, "the unknown mentions (@Point and @docs/geometry.md#points resolve)")
end)

test("automatic inline completion: ghost text after typing, accepted with <M-l>", function()
  llm:push("/v1/completions", LlmServer.completion({ " * ", "h" }))
  nvim.lua("vim.api.nvim_win_set_cursor(0, { 6, 0 })")
  nvim.input("A")
  wait_for("insert mode", 5000, function()
    local mode = nvim.mode()
    return mode == "i", mode
  end)
  nvim.input("w")
  local ghost = wait_for("the ghost text", 15000, function()
    nvim.no_errors()
    local shown = nvim.lua([[
      local ns = require("ctxls.inline").namespace
      local marks = vim.api.nvim_buf_get_extmarks(0, ns, 0, -1, { details = true })
      local mark = marks[1]
      if not mark then return { line = vim.api.nvim_get_current_line(), mode = vim.api.nvim_get_mode().mode } end
      return { row = mark[2], col = mark[3], text = mark[4].virt_text[1][1], hl = mark[4].virt_text[1][2],
               pos = mark[4].virt_text_pos, lines = mark[4].virt_lines, count = #marks }
    ]])
    return shown.text and shown, shown
  end)
  expect_equal(ghost, { row = 5, col = 5, text = " * h", hl = "CtxlsGhostText", pos = "overlay", count = 1 }, "the ghost text extmark")
  local requests = llm:requests_to("/v1/completions")
  expect_equal(#requests, 1, "completion requests to the model")
  local body = requests[1].json
  expect_equal(body.model, MODEL, "the completion model (from initializationOptions, over .ctxls.toml)")
  check(
    body.prompt:find("pub fn area(w: u32, h: u32) -> u32 {\n    w<|fim_suffix|>", 1, true),
    "the FIM prompt (Qwen template) ends the prefix at the cursor: %s",
    body.prompt
  )
  expect_equal(nvim.lines()[6], "    w", "the line before accepting")
  nvim.input("<M-l>")
  local after = wait_for("the accepted text", 5000, function()
    local state = nvim.lua([[
      return { line = vim.api.nvim_buf_get_lines(0, 5, 6, false)[1], cursor = vim.api.nvim_win_get_cursor(0),
               mode = vim.api.nvim_get_mode().mode,
               marks = #vim.api.nvim_buf_get_extmarks(0, require("ctxls.inline").namespace, 0, -1, {}) }
    ]])
    return state.line ~= "    w" and state, state
  end)
  expect_equal(after, { line = "    w * h", cursor = { 6, 9 }, mode = "i", marks = 0 }, "after <M-l>")
end)

test("manual trigger (<M-\\>) and dismissal by <C-]>, cursor move and <Esc>", function()
  llm:fallback("/v1/completions", LlmServer.completion({ "2 * (w + h)" }))
  nvim.input("<Esc>")
  nvim.lua("vim.api.nvim_win_set_cursor(0, { 11, 0 })")
  nvim.input("A")
  local function ghost()
    return nvim.lua([[
      local marks = vim.api.nvim_buf_get_extmarks(0, require("ctxls.inline").namespace, 0, -1, { details = true })
      return { count = #marks, text = marks[1] and marks[1][4].virt_text[1][1] or nil, mode = vim.api.nvim_get_mode().mode,
               line = vim.api.nvim_get_current_line() }
    ]])
  end
  local function trigger()
    local before = #llm:requests_to("/v1/completions")
    nvim.input("<M-\\>")
    local shown = wait_for("the ghost text after the trigger mapping", 15000, function()
      nvim.no_errors()
      local g = ghost()
      return g.count == 1 and g, g
    end)
    expect_equal(shown, { count = 1, text = "2 * (w + h)", mode = "i", line = "    " }, "the invoked completion")
    return before
  end
  -- No text changed, so only the mapping can have asked.
  local before = trigger()
  local sent = llm:requests_to("/v1/completions")
  check(#sent == before + 1, "the trigger asked the model once (%d requests before, %d after)", before, #sent)
  check(sent[#sent].json.prompt:find("-> u32 {\n    <|fim_suffix|>", 1, true), "prompt at the perimeter body: %s", sent[#sent].json.prompt)

  nvim.input("<C-]>")
  local g = wait_for("<C-]> to dismiss", 5000, function()
    local now = ghost()
    return now.count == 0 and now, now
  end)
  expect_equal(g, { count = 0, mode = "i", line = "    " }, "after <C-]>")

  trigger()
  nvim.input("<Left>")
  g = wait_for("a cursor move to dismiss", 5000, function()
    local now = ghost()
    return now.count == 0 and now, now
  end)
  expect_equal(g, { count = 0, mode = "i", line = "    " }, "after <Left>")
  nvim.input("<End>")

  trigger()
  nvim.input("<Esc>")
  g = wait_for("<Esc> to dismiss", 5000, function()
    local now = ghost()
    return now.count == 0 and now, now
  end)
  expect_equal(g, { count = 0, mode = "n", line = "    " }, "after <Esc>")
end)

local EXPECTED_AFTER_GENERATE = {
  "mod geometry;",
  "pub use geometry::Point;",
  "",
  "/// The area of a w by h rectangle.",
  "pub fn area(w: u32, h: u32) -> u32 {",
  "    w * h",
  "}",
  "",
  "/// The perimeter of a w by h rectangle.",
  "pub fn perimeter(w: u32, h: u32) -> u32 {",
  "    ",
  "}",
  "",
  "/// The point at (0, 0).",
  "pub fn origin() -> Point {",
  "    Point { x: 0, y: 0 }",
  "}",
  "",
  "// AI: derive Debug for @Point (see @docs/geometry.md#points) and @Nope, printing a rectangle's width and height",
}

test(":CtxlsGenerate implements the requirement comment through workspace/applyEdit", function()
  llm:push(
    "/v1/chat/completions",
    LlmServer.chat({
      "src/lib.rs\n<<<<<<< SEARCH\n// AI: add a function `origin` that returns the point at (0, 0)\n",
      "=======\n/// The point at (0, 0).\npub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n}\n>>>>>>> REPLACE\n",
    })
  )
  nvim.lua("vim.api.nvim_win_set_cursor(0, { 14, 10 })")
  -- Recorded from here on, starting with the current state (a progress report alone repeats it).
  nvim.lua("_G.test_models = { { model = require('ctxls').status().model } }")
  nvim.command_async("CtxlsGenerate")
  wait_for("the generated code in the buffer", 20000, function()
    nvim.no_errors()
    local lines = nvim.lines()
    return vim.deep_equal(lines, EXPECTED_AFTER_GENERATE), lines
  end)
  -- ctxls/status from the server: busy while the chat model worked, then ready.
  local models = wait_for("ctxls/status ready after the request", 5000, function()
    local seen = nvim.lua("return _G.test_models")
    return #seen > 1 and seen[#seen].model == "ready" and seen, seen
  end)
  expect_equal(models, { { model = "ready" }, { model = "busy" }, { model = "ready" } }, "the model states reported during :CtxlsGenerate (User CtxlsStatus)")
  expect_equal(nvim.lua("return { require('ctxls').status().model, require('ctxls').statusline() }"), { "ready", "ctxls" }, "status() and statusline() after it")
  local chats = llm:requests_to("/v1/chat/completions")
  expect_equal(#chats, 1, "chat requests")
  expect_equal(chats[1].json.model, MODEL, "the chat model")
  local asked = chats[1].json.messages[#chats[1].json.messages].content
  check(asked:find("add a function `origin` that returns the point at (0, 0)", 1, true), "the requirement is in the prompt: %s", asked)
  local note = wait_for("the 'applied' message", 5000, function()
    local notes = nvim.lua("return _G.test_notifications")
    for _, n in ipairs(notes) do
      if n.message:find("Generate: applied", 1, true) then
        return n
      end
    end
    return nil, notes
  end)
  expect_equal(note, { message = "ctxls: Generate: applied to src/lib.rs", level = "INFO" }, "the message")
end)

test(":CtxlsExplain on a line range shows the markdown in a float", function()
  llm:push("/v1/chat/completions", LlmServer.chat({ "It multiplies the ", "width by the height." }))
  nvim.command_async("5,7CtxlsExplain")
  local float = wait_for("the explanation float", 20000, function()
    nvim.no_errors()
    local state = nvim.lua([[
      for _, win in ipairs(vim.api.nvim_list_wins()) do
        local config = vim.api.nvim_win_get_config(win)
        if config.relative ~= "" then
          local buf = vim.api.nvim_win_get_buf(win)
          return { lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false), ft = vim.bo[buf].filetype, current = win == vim.api.nvim_get_current_win() }
        end
      end
      return nil
    ]])
    return state, nil
  end)
  check(vim.tbl_contains(float.lines, "It multiplies the width by the height."), "the float shows the answer: %s", vim.inspect(float.lines))
  expect_equal({ float.ft, float.current }, { "markdown", true }, "the float's filetype and focus")
  local asked = llm:requests_to("/v1/chat/completions")[2].json.messages
  check(asked[#asked].content:find("pub fn area(w: u32, h: u32) -> u32 {", 1, true), "the selected lines are in the prompt: %s", asked[#asked].content)
  nvim.input("q")
  wait_for("q to close the float", 5000, function()
    local floats = nvim.lua("return #vim.tbl_filter(function(w) return vim.api.nvim_win_get_config(w).relative ~= '' end, vim.api.nvim_list_wins())")
    return floats == 0, floats
  end)
  local back = nvim.lua("return { vim.api.nvim_buf_get_name(0), #vim.api.nvim_list_wins() }")
  expect_equal(back, { ws .. "/src/lib.rs", 1 }, "the window and buffer after closing the explanation")
end)

test(":CtxlsRefactor {instruction} rewrites the selected lines", function()
  llm:push("/v1/chat/completions", LlmServer.chat({ "```rust\npub fn perimeter(w: u32, h: u32) -> u32 {\n    2 * (w + h)\n}\n```" }))
  nvim.command_async("10,12CtxlsRefactor add the sides")
  local expected = vim.deepcopy(EXPECTED_AFTER_GENERATE)
  expected[11] = "    2 * (w + h)"
  wait_for("the refactored function", 20000, function()
    nvim.no_errors()
    local lines = nvim.lines()
    return vim.deep_equal(lines, expected), lines
  end)
  local asked = llm:requests_to("/v1/chat/completions")[3].json.messages
  check(asked[#asked].content:find("add the sides", 1, true), "the instruction is in the prompt: %s", asked[#asked].content)
end)

test(":CtxlsSummarize describes the saved changes in a scratch buffer; :CtxlsReindex", function()
  nvim.lua("vim.cmd.write()")
  llm:push("/v1/chat/completions", LlmServer.chat({ "Implement area and perimeter, add origin" }))
  nvim.command_async("CtxlsSummarize")
  local summary = wait_for("the ctxls://summary buffer", 20000, function()
    nvim.no_errors()
    local state = nvim.lua([[
      local buf = vim.fn.bufnr("ctxls://summary")
      if buf == -1 then return nil end
      return { lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false), shown = vim.fn.bufwinid(buf) ~= -1 }
    ]])
    return state, nil
  end)
  check(summary.shown and vim.tbl_contains(summary.lines, "Implement area and perimeter, add origin"), "the summary: %s", vim.inspect(summary))
  local asked = llm:requests_to("/v1/chat/completions")[4].json.messages
  check(asked[#asked].content:find("+pub fn origin() -> Point {", 1, true), "the diff is in the prompt: %s", asked[#asked].content)
  nvim.lua("vim.cmd.close()")
  nvim.command_async("CtxlsReindex")
  wait_for("the reindex message", 10000, function()
    nvim.no_errors()
    local notes = nvim.lua("return _G.test_notifications")
    return notes[#notes].message == "ctxls: reindexing 1 root(s)", notes[#notes]
  end)
end)

test(":CtxlsContext shows the snippets in a scratch markdown buffer", function()
  nvim.lua("vim.api.nvim_win_set_cursor(0, { 15, 20 })")
  nvim.command_async("CtxlsContext")
  local shown = wait_for("the ctxls://context buffer", 15000, function()
    nvim.no_errors()
    local state = nvim.lua([[
      local buf = vim.fn.bufnr("ctxls://context")
      if buf == -1 then return nil end
      return { lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false), ft = vim.bo[buf].filetype, shown = vim.fn.bufwinid(buf) ~= -1 }
    ]])
    return state, nil
  end)
  expect_equal({ shown.ft, shown.shown }, { "markdown", true }, "the context buffer's filetype and window")
  check(shown.lines[1] == "# Context at src/lib.rs:15:21", "the heading: %q", shown.lines[1])
  local header, why, fence
  for _, line in ipairs(shown.lines) do
    header = header or line:match("^### %d+%. src/geometry%.rs:%d+%-%d+$")
    why = why or line:match("^why: .+")
    fence = fence or line == "```rust"
  end
  check(header and why and fence, "a snippet of src/geometry.rs with its lines, why and fenced text:\n%s", table.concat(shown.lines, "\n"))
  nvim.lua("vim.cmd.close()")
end)

test(":CtxlsContext at a requirement comment lists the instructions, mentions and documents", function()
  nvim.lua("vim.api.nvim_win_set_cursor(0, { 19, 4 })")
  nvim.command_async("CtxlsContext")
  local lines = wait_for("the context at the requirement", 15000, function()
    nvim.no_errors()
    local state = nvim.lua([[
      local buf = vim.fn.bufnr("ctxls://context")
      return buf ~= -1 and vim.fn.bufwinid(buf) ~= -1 and vim.api.nvim_buf_get_lines(buf, 0, -1, false) or nil
    ]])
    return type(state) == "table" and state[1] == "# Context at src/lib.rs:19:5" and state, state
  end)
  local text = table.concat(lines, "\n")
  local function has(pattern, what)
    check(text:find(pattern), "the context shows %s (%s):\n%s", what, pattern, text)
  end
  has("\nQuery: derive Debug for @Point %(see @docs/geometry%.md#points%) and @Nope, printing a rectangle's width and height\n", "the query")
  has("\n## Instructions\n\n%- %.ctxls/instructions%.md %(%d+ tokens%)\n", "the instructions file")
  has("\n### @Point → src/geometry%.rs:1%-5 %(struct Point%)\n\n%d+ tokens\n\n```rust\n/// A point on the plane%.\npub struct Point {\n", "what @Point resolved to, with its text")
  has("\n### @docs/geometry%.md#points → docs/geometry%.md:3%-6 %(section Points%)\n\n%d+ tokens\n\n```markdown\n## Points\n", "what the section mention resolved to")
  has("\n## Unresolved mentions\n\n%- @Nope: no file, document section or symbol named `Nope` in the workspace\n", "the unresolved mention with its reason")
  has("\n## Documents\n\n### docs/geometry%.md#rectangles: Rectangles %(lines 8%-10%)\n\n%d+ tokens\nwhy: words [^\n]*rectangle[^\n]*\n\n```markdown\n## Rectangles\n", "the document section retrieved, and why")
  has("\n## Snippets\n\n### 1%. ", "the snippets after them")
  nvim.lua("vim.cmd.close()")
end)

-- The buffer from here on; the prompt files and the refactoring code action change it.
local EXPECTED_BEFORE_PROMPTS = vim.deepcopy(EXPECTED_AFTER_GENERATE)
EXPECTED_BEFORE_PROMPTS[11] = "    2 * (w + h)"

--- Stubs vim.ui.input and vim.ui.select in the child: inputs answer `_G.test_answer` and
--- record their prompt; select records its formatted items and picks `_G.test_pick`.
local function stub_ui()
  nvim.lua([[
    _G.test_inputs = {}
    vim.ui.input = function(opts, on_confirm)
      table.insert(_G.test_inputs, opts.prompt)
      on_confirm(_G.test_answer)
    end
    vim.ui.select = function(items, opts, on_choice)
      _G.test_select = { prompt = opts.prompt, kind = opts.kind, items = vim.tbl_map(opts.format_item, items) }
      for i, item in ipairs(items) do
        if item.name == _G.test_pick then
          return on_choice(item, i)
        end
      end
      on_choice(nil, nil)
    end
  ]])
end

--- The last chat request's user message.
local function last_asked()
  local chats = llm:requests_to("/v1/chat/completions")
  local messages = chats[#chats].json.messages
  return messages[#messages].content, #chats
end

test(":CtxlsPrompt completes the names of the buffer's prompt files", function()
  stub_ui()
  local completions = nvim.lua([[return { vim.fn.getcompletion("CtxlsPrompt ", "cmdline"), vim.fn.getcompletion("CtxlsPrompt re", "cmdline") }]])
  expect_equal(completions, { { "overview", "rewrite" }, { "rewrite" } }, "the completions of :CtxlsPrompt")
end)

test(":'<,'>CtxlsPrompt rewrite asks for {{input}} and replaces the selection", function()
  expect_equal(nvim.lines(), EXPECTED_BEFORE_PROMPTS, "the buffer before")
  llm:push("/v1/chat/completions", LlmServer.chat({ "```rust\npub fn area(w: u32, h: u32) -> u32 {\n", "    w.saturating_mul(h)\n}\n```\n" }))
  nvim.lua("_G.test_answer = 'saturate instead of overflowing'")
  local chats_before = #llm:requests_to("/v1/chat/completions")
  nvim.input("5GV7G:CtxlsPrompt rewrite<CR>")
  local expected = vim.deepcopy(EXPECTED_BEFORE_PROMPTS)
  expected[6] = "    w.saturating_mul(h)"
  wait_for("the rewritten selection", 20000, function()
    nvim.no_errors()
    local lines = nvim.lines()
    return vim.deep_equal(lines, expected), lines
  end)
  expect_equal(nvim.lua("return _G.test_inputs"), { "ctxls Rewrite as asked: " }, "what vim.ui.input was asked")
  local asked, chats = last_asked()
  expect_equal(chats, chats_before + 1, "chat requests")
  check(asked:find("Rewrite this code as asked: saturate instead of overflowing", 1, true), "the input is in the prompt: %s", asked)
  check(asked:find("pub fn area(w: u32, h: u32) -> u32 {\n    w * h\n}", 1, true), "the selected lines are in the prompt: %s", asked)
  check(not asked:find("pub fn perimeter", 1, true), "only the selection is in the prompt: %s", asked)
  local notes = nvim.lua("return _G.test_notifications")
  expect_equal(notes[#notes], { message = "ctxls: Rewrite as asked: applied", level = "INFO" }, "the message")
  expect_equal(nvim.mode(), "n", "the mode after the command")
end)

test("code actions: a prompt whose title ends in … and Refactor with an instruction… ask first", function()
  llm:push("/v1/chat/completions", LlmServer.chat({ "```rust\npub fn perimeter(w: u32, h: u32) -> u32 {\n    (w + h) * 2\n}\n```" }))
  nvim.lua("_G.test_inputs = {}; _G.test_answer = 'add before multiplying'")
  nvim.lua([[
    vim.schedule(function()
      vim.lsp.buf.code_action({
        apply = true,
        range = { start = { 10, 0 }, ["end"] = { 12, 1 } },
        filter = function(action)
          return action.kind == "refactor.ctxls.prompt" and action.title == "ctxls: Rewrite as asked…"
        end,
      })
    end)
  ]])
  local expected = vim.deepcopy(EXPECTED_BEFORE_PROMPTS)
  expected[6] = "    w.saturating_mul(h)"
  expected[11] = "    (w + h) * 2"
  wait_for("the prompt's code action applied", 20000, function()
    nvim.no_errors()
    local lines = nvim.lines()
    return vim.deep_equal(lines, expected), lines
  end)
  expect_equal(nvim.lua("return _G.test_inputs"), { "ctxls Rewrite as asked: " }, "the prompt's code action asked for the input")
  local asked = last_asked()
  check(asked:find("Rewrite this code as asked: add before multiplying", 1, true), "the input is in the prompt: %s", asked)

  llm:push("/v1/chat/completions", LlmServer.chat({ "```rust\npub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n}\n\nimpl Default for Point {\n    fn default() -> Self {\n        origin()\n    }\n}\n```" }))
  nvim.lua("_G.test_inputs = {}; _G.test_answer = 'also implement Default'")
  nvim.lua([[
    vim.schedule(function()
      vim.lsp.buf.code_action({
        apply = true,
        range = { start = { 15, 0 }, ["end"] = { 17, 1 } },
        filter = function(action)
          return action.command ~= nil and action.command.command == "ctxls.refactor"
        end,
      })
    end)
  ]])
  local with_default = vim.list_slice(expected, 1, 17)
  vim.list_extend(with_default, { "", "impl Default for Point {", "    fn default() -> Self {", "        origin()", "    }", "}" })
  vim.list_extend(with_default, vim.list_slice(expected, 18))
  wait_for("the refactoring code action applied", 20000, function()
    nvim.no_errors()
    local lines = nvim.lines()
    return vim.deep_equal(lines, with_default), lines
  end)
  expect_equal(nvim.lua("return _G.test_inputs"), { "ctxls refactor (instruction): " }, "Refactor with an instruction… asked for it")
  check(last_asked():find("also implement Default", 1, true), "the instruction is in the prompt: %s", last_asked())
  local notes = nvim.lua("return _G.test_notifications")
  expect_equal(notes[#notes], { message = "ctxls: Refactor: applied", level = "INFO" }, "the message")
  nvim.lua("vim.cmd('silent undo')")
  wait_for("the refactoring undone", 5000, function()
    local lines = nvim.lines()
    return vim.deep_equal(lines, expected), lines
  end)

  -- The other actions run through the plugin too: Explain shows its answer once.
  llm:push("/v1/chat/completions", LlmServer.chat({ "It adds the sides twice." }))
  nvim.lua([[
    vim.schedule(function()
      vim.lsp.buf.code_action({
        apply = true,
        range = { start = { 10, 0 }, ["end"] = { 12, 1 } },
        filter = function(action)
          return action.command ~= nil and action.command.command == "ctxls.explain"
        end,
      })
    end)
  ]])
  local floats = wait_for("the explanation of the code action", 20000, function()
    nvim.no_errors()
    local shown = nvim.lua([[
      local out = {}
      for _, win in ipairs(vim.api.nvim_list_wins()) do
        if vim.api.nvim_win_get_config(win).relative ~= "" then
          out[#out + 1] = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
        end
      end
      return out
    ]])
    return #shown > 0 and shown, shown
  end)
  vim.wait(200)
  check(#floats == 1 and vim.tbl_contains(floats[1], "It adds the sides twice."), "one float with the explanation: %s", vim.inspect(floats))
  check(last_asked():find("pub fn perimeter(w: u32, h: u32) -> u32 {", 1, true), "the action's range is in the prompt: %s", last_asked())
  nvim.input("q")
  wait_for("q to close the float", 5000, function()
    local count = nvim.lua("return #vim.tbl_filter(function(w) return vim.api.nvim_win_get_config(w).relative ~= '' end, vim.api.nvim_list_wins())")
    return count == 0, count
  end)
end)

test(":CtxlsPrompt without a name picks from ctxls.listPrompts; a message prompt shows in a float", function()
  llm:push("/v1/chat/completions", LlmServer.chat({ "Rectangle sizes and ", "the origin point." }))
  nvim.lua("_G.test_inputs = {}; _G.test_pick = 'overview'")
  nvim.lua("vim.api.nvim_win_set_cursor(0, { 1, 0 })")
  nvim.command_async("CtxlsPrompt")
  local float = wait_for("the prompt's answer in a float", 20000, function()
    nvim.no_errors()
    return nvim.lua([[
      for _, win in ipairs(vim.api.nvim_list_wins()) do
        if vim.api.nvim_win_get_config(win).relative ~= "" then
          return vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(win), 0, -1, false)
        end
      end
    ]]), nil
  end)
  check(vim.tbl_contains(float, "Rectangle sizes and the origin point."), "the float shows the answer: %s", vim.inspect(float))
  expect_equal(
    nvim.lua("return _G.test_select"),
    { prompt = "ctxls prompt", kind = "ctxls.prompt", items = { "Overview of the file (file)", "Rewrite as asked (selection)" } },
    "what vim.ui.select offered"
  )
  expect_equal(nvim.lua("return _G.test_inputs"), {}, "a prompt without {{input}} asks nothing")
  local asked = last_asked()
  check(asked:find("Describe what this file offers, in two sentences.", 1, true) and asked:find("pub fn origin() -> Point {", 1, true), "the template and the file are in the prompt: %s", asked)
  nvim.input("q")
  wait_for("q to close the float", 5000, function()
    local floats = nvim.lua("return #vim.tbl_filter(function(w) return vim.api.nvim_win_get_config(w).relative ~= '' end, vim.api.nvim_list_wins())")
    return floats == 0, floats
  end)
end)

test("@ completes mentions in comments (omnifunc <C-x><C-o>; vim.lsp.completion autotrigger)", function()
  local before = nvim.lines()
  check(nvim.lua("return vim.bo.omnifunc") == "v:lua.vim.lsp.omnifunc", "the buffer's omnifunc: %s", nvim.lua("return vim.bo.omnifunc"))
  --- Types a comment on a new last line, asks for completion and accepts `word`.
  local function complete(typed, word)
    nvim.input("<Esc>G")
    -- <C-u> removes the comment leader that 'formatoptions' may have continued.
    nvim.input("o<C-u>" .. typed)
    wait_for("the typed comment", 5000, function()
      local line = nvim.lua("return vim.api.nvim_get_current_line()")
      return line == typed, line
    end)
    nvim.input("<C-x><C-o>")
    local items = wait_for("the completion menu after " .. typed, 10000, function()
      local info = nvim.lua([[
        local items = vim.fn.complete_info({ "items" }).items
        return { visible = vim.fn.pumvisible(), words = vim.tbl_map(function(i) return i.word end, items), mode = vim.api.nvim_get_mode().mode }
      ]])
      return info.visible == 1 and #info.words > 0 and info.words, info
    end)
    check(vim.tbl_contains(items, word), "%s offers the server's %q: %s", typed, word, vim.inspect(items))
    local index = 0
    for i, item in ipairs(items) do
      index = item == word and index == 0 and i or index
    end
    -- The first item is selected (not inserted): <C-n> moves down, <C-y> accepts.
    nvim.input(("<C-n>"):rep(index - 1) .. "<C-y>")
    local accepted = typed:gsub("@%w*$", "@" .. word)
    wait_for("the accepted mention", 5000, function()
      local line = nvim.lua("return vim.api.nvim_get_current_line()")
      return line == accepted, line
    end)
    nvim.input("<Esc>")
  end
  -- 'noinsert' keeps the typed text until an item is chosen; 'menuone' shows a single item.
  nvim.lua("vim.o.completeopt = 'menuone,noinsert'")
  complete("// see @Poi", "Point")
  -- Neovim keeps the items whose filterText starts with what was typed after `@`, unless
  -- 'completeopt' has "fuzzy": a document whose path contains the text needs it.
  nvim.lua("vim.o.completeopt = 'menuone,noinsert,fuzzy'")
  complete("// see @Geo", "docs/geometry.md")
  -- The README's recipe for a menu that opens by itself at `@` (Neovim 0.11+).
  nvim.lua([[
    local client = vim.lsp.get_clients({ name = "ctxls", bufnr = 0 })[1]
    vim.lsp.completion.enable(true, client.id, 0, { autotrigger = true })
  ]])
  nvim.input("<Esc>Go<C-u>// and @")
  local auto = wait_for("the menu opened by `@`", 10000, function()
    local info = nvim.lua([[
      return { visible = vim.fn.pumvisible(), line = vim.api.nvim_get_current_line(),
               words = vim.tbl_map(function(i) return i.word end, vim.fn.complete_info({ "items" }).items) }
    ]])
    return info.visible == 1 and info, info
  end)
  check(vim.tbl_contains(auto.words, "docs/geometry.md"), "the documents are offered at `@`: %s", vim.inspect(auto))
  nvim.input("Poi")
  auto = wait_for("the menu narrowed as typed", 10000, function()
    local info = nvim.lua([[
      return { visible = vim.fn.pumvisible(), line = vim.api.nvim_get_current_line(),
               words = vim.tbl_map(function(i) return i.word end, vim.fn.complete_info({ "items" }).items) }
    ]])
    return info.visible == 1 and info.line == "// and @Poi" and vim.tbl_contains(info.words, "Point") and info, info
  end)
  nvim.input("<C-y><Esc>")
  nvim.lua("vim.lsp.completion.enable(false, vim.lsp.get_clients({ name = 'ctxls', bufnr = 0 })[1].id, 0)")
  local lines = nvim.lines()
  expect_equal(vim.list_slice(lines, #before + 1), { "// see @Point", "// see @docs/geometry.md", "// and @Point" }, "the completed comments")
  nvim.lua("vim.api.nvim_buf_set_lines(0, ..., -1, false, {})", #before)
  expect_equal(nvim.lines(), before, "the buffer without them")
end)

test(":checkhealth ctxls reports the binary, the running server and ctxls doctor", function()
  nvim.lua("_G.test_health_done = false")
  nvim.lua("vim.schedule(function() vim.cmd('checkhealth ctxls') _G.test_health_done = true end)")
  wait_for(":checkhealth to finish", 40000, function()
    return nvim.lua("return _G.test_health_done"), nil
  end)
  local report = table.concat(nvim.lines(), "\n")
  local function has(text)
    check(report:find(text, 1, true), "the report has %q:\n%s", text, report)
  end
  has("- ✅ OK Neovim " .. tostring(vim.version()))
  has("- ✅ OK " .. CTXLS_BIN .. " (ctxls ")
  has("- ✅ OK running (client ")
  has("- ✅ OK ctxls doctor: all checks passed")
  has("model: toml-model is available")
  has("- ⚠️ WARNING `settings.llm` from setup()")
  check(not report:find("ERROR", 1, true), "no errors in the report:\n%s", report)
  nvim.lua("vim.cmd('tabclose')")
end)

test("positions convert in the client's encoding (UTF-16 and UTF-8)", function()
  local result = nvim.lua([[
    local util = require("ctxls.util")
    local buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "let s = \"é😀\"; x", "ab" })
    local line = vim.api.nvim_buf_get_lines(buf, 0, 1, false)[1]
    local out = {
      utf16_byte = util.byte_col(line, 12, "utf-16"),     -- after the emoji (2 UTF-16 units)
      utf8_byte = util.byte_col(line, 15, "utf-8"),
      utf16_char = util.character(buf, 0, #line, "utf-16"),
      range = util.line_range(buf, 1, 1, "utf-16"),
    }
    vim.api.nvim_buf_delete(buf, { force = true })
    return out
  ]])
  expect_equal(result, {
    utf16_byte = 15,
    utf8_byte = 15,
    utf16_char = 16,
    range = { start = { line = 0, character = 0 }, ["end"] = { line = 0, character = 16 } },
  }, "conversions")
end)

test("no error was shown to the user along the way", function()
  local notes = nvim.lua("return _G.test_notifications")
  local errors = vim.tbl_filter(function(n)
    return n.level == "ERROR" or n.level == "WARN"
  end, notes)
  expect_equal(errors, {}, "warnings and errors")
end)

test("a failed chat request: ctxls/status error with the reason, shown once; ready after a success", function()
  llm:push("/v1/chat/completions", LlmServer.json(500, { error = { message = "the model is overloaded" } }))
  nvim.lua("_G.test_notes_before = #_G.test_notifications; _G.test_since = vim.uv.now()")
  nvim.lua("_G.test_models = { { model = require('ctxls').status().model } }")
  nvim.command_async("5,7CtxlsExplain")
  local status = wait_for("the model error", 20000, function()
    local s = nvim.lua("return { status = require('ctxls').status(), line = require('ctxls').statusline() }")
    return s.status.model == "error" and s, s
  end)
  check(type(status.status.message) == "string" and status.status.message:find("500", 1, true), "the reason names the answer: %s", vim.inspect(status.status))
  expect_equal(status.line, "ctxls: model error", "statusline()")
  local models = vim.tbl_map(function(m)
    return m.model
  end, nvim.lua("return _G.test_models"))
  expect_equal(models, { "ready", "busy", "error" }, "the model states (User CtxlsStatus)")
  -- What the user was shown: the server's messages (window/showMessage, which the plugin
  -- records) and the plugin's own notifications.
  local function shown()
    return nvim.lua([[
      local out = {}
      local client = vim.lsp.get_clients({ name = "ctxls" })[1]
      for _, m in ipairs(require("ctxls")._state.messages[client.id] or {}) do
        if m.time >= _G.test_since then out[#out + 1] = "server: " .. m.text end
      end
      for i = _G.test_notes_before + 1, #_G.test_notifications do
        out[#out + 1] = "plugin " .. _G.test_notifications[i].level .. ": " .. _G.test_notifications[i].message
      end
      return out
    ]])
  end
  wait_for("the failure to be shown", 5000, function()
    local now = shown()
    return #now > 0, now
  end)
  vim.wait(300) -- Time for a second report, if there were one.
  local messages = shown()
  check(#messages == 1 and messages[1]:find("Explain", 1, true) and messages[1]:find("500", 1, true), "the failure is shown once: %s", vim.inspect(messages))

  llm:push("/v1/chat/completions", LlmServer.chat({ "It multiplies the width by the height." }))
  nvim.command_async("5,7CtxlsExplain")
  wait_for("ready after a successful request", 20000, function()
    local s = nvim.lua("return { model = require('ctxls').status().model, message = require('ctxls').status().message, line = require('ctxls').statusline() }")
    return s.model == "ready" and s.message == nil and s.line == "ctxls", s
  end)
  nvim.input("q")
end)

test(":CtxlsNextEdit shows the rewrite of a changed signature's call; jump, dismiss, declined, stale, accept, automatic", function()
  -- Two new files, indexed: `scale` and a call of it in another file.
  vim.fn.writefile({ "pub fn scale(x: u32, factor: u32) -> u32 {", "    x * factor", "}" }, ws .. "/src/shapes.rs")
  local report = { "use crate::shapes::scale;", "pub fn report() -> u32 {", "    let a = scale(1, 2);", "    a + 1", "}" }
  vim.fn.writefile(report, ws .. "/src/report.rs")
  local ends = nvim.lua("return _G.test_progress_ends")
  nvim.command_async("CtxlsReindex")
  wait_for("the reindex to end", 20000, function()
    local now = nvim.lua("return _G.test_progress_ends")
    return now > ends, now
  end)
  nvim.lua("_G.test_notes_before = #_G.test_notifications")
  nvim.lua("vim.cmd.edit('src/shapes.rs')")
  wait_for("ctxls attached to shapes.rs", 10000, function()
    return nvim.lua("return #vim.lsp.get_clients({ name = 'ctxls', bufnr = 0 }) > 0")
  end)
  -- A parameter added to `scale`, typed in the editor (not saved).
  nvim.lua("vim.api.nvim_buf_set_text(0, 0, 32, 0, 32, { ', depth: u32' }); vim.api.nvim_win_set_cursor(0, { 1, 40 })")
  expect_equal(nvim.lines()[1], "pub fn scale(x: u32, factor: u32, depth: u32) -> u32 {", "the edited signature")
  local rewritten = vim.deepcopy(report)
  rewritten[3] = "    let a = scale(1, 2, 1);"
  local function answer(lines)
    return LlmServer.chat({ "```rust\n" .. table.concat(lines, "\n") .. "\n```" })
  end
  local function notes_since()
    return nvim.lua([[
      local out = {}
      for i = _G.test_notes_before + 1, #_G.test_notifications do out[#out + 1] = _G.test_notifications[i].message end
      return out
    ]])
  end
  local function ask()
    nvim.lua("require('ctxls.next_edit').dismiss()")
    nvim.command_async("CtxlsNextEdit")
    return wait_for("the next-edit suggestion", 20000, function()
      local s = nvim.lua([[
        local s = require("ctxls.next_edit").current()
        if not s then return nil end
        return { file = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(s.bufnr), ":t"), row = s.row, reason = s.reason,
                 version = s.version, edits = s.edits, why = s.why, bufnr = s.bufnr }
      ]])
      return s, notes_since()
    end)
  end

  -- Shown at its place, in report.rs (loaded without a window).
  llm:push("/v1/chat/completions", answer(rewritten))
  local s = ask()
  expect_equal({ s.file, s.row }, { "report.rs", 2 }, "the place")
  check(s.reason:find("scale", 1, true), "the reason names the changed definition: %q", s.reason)
  expect_equal(s.edits, { { range = { start = { line = 2, character = 0 }, ["end"] = { line = 3, character = 0 } }, newText = "    let a = scale(1, 2, 1);\n" } }, "the rewrite's edits")
  local marks = nvim.lua([[
    local s = require("ctxls.next_edit").current()
    local out = {}
    for _, m in ipairs(vim.api.nvim_buf_get_extmarks(s.bufnr, require("ctxls.next_edit").namespace, 0, -1, { details = true })) do
      local d = m[4]
      out[#out + 1] = { row = m[2], hl = d.line_hl_group, virt_lines = d.virt_lines and d.virt_lines[1][1][1],
                        virt_text = d.virt_text and d.virt_text[1][1] }
    end
    table.sort(out, function(a, b) return (a.virt_text and 0 or a.hl and 1 or 2) < (b.virt_text and 0 or b.hl and 1 or 2) end)
    return out
  ]])
  check(#marks == 3, "three extmarks (reason, replaced line, new line): %s", vim.inspect(marks))
  check(marks[1].row == 2 and marks[1].virt_text:find("ctxls: ", 1, true) and marks[1].virt_text:find("<M-y> accept", 1, true), "the reason at the place: %s", vim.inspect(marks[1]))
  expect_equal({ marks[2].row, marks[2].hl }, { 2, "CtxlsNextEditRemoved" }, "the replaced line highlighted")
  expect_equal({ marks[3].row, marks[3].virt_lines }, { 2, "    let a = scale(1, 2, 1);" }, "the new line below the replaced one")
  expect_equal(nvim.lua("return vim.fn.expand('%:t')"), "shapes.rs", "still in the edited file")

  -- Jump: report.rs opened in the window, the cursor on the place.
  nvim.input("<M-n>")
  local at = wait_for("the jump", 5000, function()
    local r = nvim.lua("return { vim.fn.expand('%:t'), vim.api.nvim_win_get_cursor(0) }")
    return r[1] == "report.rs" and r, r
  end)
  expect_equal(at[2], { 3, 4 }, "the cursor at the place's first non-blank")

  -- Dismiss clears it.
  nvim.input("<M-e>")
  wait_for("the dismissal", 5000, function()
    local r = nvim.lua("return { require('ctxls.next_edit').current() == nil, #vim.api.nvim_buf_get_extmarks(0, require('ctxls.next_edit').namespace, 0, -1, {}) }")
    return r[1] and r[2] == 0, r
  end)

  -- A rewrite that changes nothing is declined, and the plugin says why.
  llm:push("/v1/chat/completions", answer(report))
  s = ask()
  check(s.edits == nil and s.why == "the model changed nothing", "declined: %s", vim.inspect(s))
  local notes = notes_since()
  check(notes[#notes]:find("no rewrite: the model changed nothing", 1, true), "the plugin says why: %s", vim.inspect(notes))
  nvim.input("<M-y>")
  wait_for("accepting a declined one says why", 5000, function()
    local n = notes_since()
    return n[#n]:find("nothing to accept: the model changed nothing", 1, true), n
  end)
  expect_equal(nvim.lines(), report, "nothing applied")

  -- A stale version is refused: report.rs (now open) changed after the suggestion.
  llm:push("/v1/chat/completions", answer(rewritten))
  s = ask()
  check(type(s.version) == "number", "the open document's version: %s", vim.inspect(s))
  nvim.lua("vim.api.nvim_buf_set_lines(0, -1, -1, false, { '// later' })")
  nvim.input("<M-y>")
  wait_for("the refusal", 5000, function()
    local n = notes_since()
    return n[#n]:find("report.rs changed since the suggestion", 1, true), n
  end)
  expect_equal(nvim.lines(), vim.list_extend(vim.deepcopy(report), { "// later" }), "nothing applied to a changed buffer")
  nvim.lua("vim.api.nvim_buf_set_lines(0, -2, -1, false, {})")

  -- Accept: the buffer changes exactly by the edit; the marks go.
  llm:push("/v1/chat/completions", answer(rewritten))
  ask()
  nvim.input("<M-y>")
  wait_for("the accepted edit", 5000, function()
    local lines = nvim.lines()
    return vim.deep_equal(lines, rewritten), lines
  end)
  expect_equal(nvim.lua("return { require('ctxls.next_edit').current() == nil, #vim.api.nvim_buf_get_extmarks(0, require('ctxls.next_edit').namespace, 0, -1, {}) }"), { true, 0 }, "cleared after accepting")

  -- next_edit.auto: a change in normal mode, a pause, and the suggestion comes unasked.
  nvim.lua("vim.api.nvim_buf_set_lines(0, 0, -1, false, ...)", report)
  nvim.lua("vim.cmd.buffer(vim.fn.bufnr('src/shapes.rs')); require('ctxls').options.next_edit.auto = true; require('ctxls').options.next_edit.debounce_ms = 20")
  local calls = #llm.requests
  llm:push("/v1/chat/completions", answer((function()
    local lines = vim.deepcopy(report)
    lines[3] = "    let a = scale(1, 2, 1, 1);"
    return lines
  end)()))
  nvim.lua("vim.api.nvim_buf_set_text(0, 0, 44, 0, 44, { ', unit: u32' })")
  local auto = wait_for("the automatic suggestion", 20000, function()
    local r = nvim.lua("local s = require('ctxls.next_edit').current(); return s and s.edits and { row = s.row, text = s.edits[1].newText } or nil")
    return r, #llm.requests - calls
  end)
  expect_equal(auto, { row = 2, text = "    let a = scale(1, 2, 1, 1);\n" }, "the automatic suggestion")
  nvim.lua("require('ctxls').options.next_edit.auto = false; require('ctxls.next_edit').dismiss()")
  nvim.lua("vim.cmd('silent! wall')")
end)

test("a missing binary is reported clearly", function()
  local other = spawn(ws, env)
  other.lua([[
    require("ctxls").setup({ cmd = { "/nonexistent/ctxls" } })
    vim.cmd.edit("src/lib.rs")
  ]])
  local notes = wait_for("the error", 5000, function()
    local n = other.lua("return _G.test_notifications")
    return #n > 0 and n, n
  end)
  check(
    #notes == 1 and notes[1].level == "ERROR" and notes[1].message:find('"/nonexistent/ctxls" was not found', 1, true),
    "one error naming the binary: %s",
    vim.inspect(notes)
  )
  other.lua("vim.cmd('CtxlsGenerate')")
  notes = other.lua("return _G.test_notifications")
  check(#notes == 2 and notes[2].message:find("not attached to this buffer: the server binary", 1, true), "a command says why: %s", vim.inspect(notes))
end)

current_test = "shutdown"
nvim.quit()
wait_for("the ctxls server to exit with Neovim", 10000, function()
  for _, pid in ipairs(server_pids) do
    if pid and vim.uv.kill(pid, 0) == 0 then
      return false, "pid " .. pid .. " still running"
    end
  end
  return true
end)
cleanup()
watchdog:stop()
vim.fn.delete(tmp, "rf")
log(("All %d Neovim plugin tests passed in %s."):format(#passed, elapsed(started)))
os.exit(0)
