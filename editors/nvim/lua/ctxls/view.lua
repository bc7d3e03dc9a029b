--- Shows markdown from the server (explanations, answers, summaries, the context) in a
--- floating window or a reusable scratch buffer (`ctxls://NAME`), closed with `q`.
local M = {}

--- Incremented whenever an explanation is shown; commands use it to avoid showing the
--- same explanation twice (the server also sends it through `window/showDocument`).
M.shown = 0

--- Where the next explanation from `window/showDocument` goes while a command that
--- expects one is in flight (a summary goes to the summary view); else the explain view.
---@type { name: string, title: string, how: string }|nil
M.expected = nil

---@param text string
---@return string[]
function M.lines(text)
  text = (text or ""):gsub("\r\n", "\n"):gsub("\n+$", "")
  return vim.split(text, "\n", { plain = true })
end

---@param buf integer
---@param lines string[]
local function fill(buf, lines)
  vim.bo[buf].modifiable = true
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
end

---@param buf integer
local function scratch_options(buf)
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].swapfile = false
  vim.bo[buf].filetype = "markdown"
end

---@param title string
---@param lines string[]
---@return integer buf, integer win
local function float(title, lines)
  local buf = vim.api.nvim_create_buf(false, true)
  scratch_options(buf)
  vim.bo[buf].bufhidden = "wipe"
  fill(buf, lines)
  local width = 20
  for _, line in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(line))
  end
  width = math.min(width + 2, math.max(40, math.floor(vim.o.columns * 0.8)), 120)
  local height = math.min(#lines, math.max(5, math.floor((vim.o.lines - vim.o.cmdheight) * 0.7)))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor",
    width = width,
    height = math.max(height, 1),
    row = math.max(0, math.floor((vim.o.lines - height) / 2) - 1),
    col = math.max(0, math.floor((vim.o.columns - width) / 2)),
    style = "minimal",
    border = "rounded",
    title = " " .. title .. " ",
    title_pos = "center",
  })
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  vim.wo[win].conceallevel = 2
  for _, key in ipairs({ "q", "<Esc>" }) do
    vim.keymap.set("n", key, function()
      if vim.api.nvim_win_is_valid(win) then
        vim.api.nvim_win_close(win, true)
      end
    end, { buffer = buf, nowait = true, desc = "ctxls: close" })
  end
  return buf, win
end

---@param name string
---@param how string split|vsplit|tab
---@param lines string[]
---@return integer buf, integer win
local function scratch(name, how, lines)
  local bufname = "ctxls://" .. name
  local buf = vim.fn.bufnr(bufname)
  if buf == -1 or not vim.api.nvim_buf_is_valid(buf) then
    buf = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(buf, bufname)
    scratch_options(buf)
    vim.bo[buf].bufhidden = "hide"
    vim.keymap.set("n", "q", "<Cmd>close<CR>", { buffer = buf, nowait = true, desc = "ctxls: close" })
  end
  fill(buf, lines)
  local win = vim.fn.bufwinid(buf)
  if win == -1 then
    if how == "tab" then
      vim.cmd("tab split")
    elseif how == "vsplit" then
      vim.cmd("botright vsplit")
    else
      vim.cmd(("botright %dsplit"):format(math.max(8, math.floor(vim.o.lines * 0.4))))
    end
    win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(win, buf)
    vim.wo[win].wrap = true
    vim.wo[win].linebreak = true
    vim.wo[win].conceallevel = 2
  else
    vim.api.nvim_set_current_win(win)
  end
  vim.api.nvim_win_set_cursor(win, { 1, 0 })
  return buf, win
end

--- Shows markdown.
---@param name string the scratch buffer's name (`ctxls://NAME`)
---@param title string the float's title
---@param text string|string[] markdown
---@param how string float|split|vsplit|tab
---@return integer buf, integer win
function M.show(name, title, text, how)
  local lines = type(text) == "table" and text or M.lines(text)
  if #lines == 0 or (#lines == 1 and lines[1] == "") then
    lines = { "_(empty)_" }
  end
  if how == "float" then
    return float(title, lines)
  end
  return scratch(name, how, lines)
end

return M
