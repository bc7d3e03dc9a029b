-- ctxls: the :Ctxls* commands. The server starts only after require("ctxls").setup().
if vim.g.loaded_ctxls then
  return
end
vim.g.loaded_ctxls = true

if vim.fn.has("nvim-0.10") ~= 1 then
  vim.api.nvim_echo({ { "ctxls: Neovim 0.10 or newer is required", "ErrorMsg" } }, true, {})
  return
end

local function command(name, method, opts, desc)
  opts = vim.tbl_extend("force", { desc = desc }, opts or {})
  vim.api.nvim_create_user_command(name, function(args)
    require("ctxls.commands")[method](args)
  end, opts)
end

command("CtxlsGenerate", "generate", {}, "ctxls: implement the requirement comment at the cursor")
command("CtxlsImplement", "implement", {}, "ctxls: implement every requirement added in the working tree's changes")
command("CtxlsExplain", "explain", { range = true }, "ctxls: explain the selected lines or the definition at the cursor")
command("CtxlsAnswer", "answer", {}, "ctxls: answer the question comment (`... AI?`) at the cursor")
command(
  "CtxlsRefactor",
  "refactor",
  { range = true, nargs = "*" },
  "ctxls: rewrite the selected lines or the definition at the cursor by an instruction"
)
command(
  "CtxlsPrompt",
  "prompt",
  {
    range = true,
    nargs = "?",
    complete = function(arglead)
      return require("ctxls.commands").complete_prompt(arglead)
    end,
  },
  "ctxls: run a prompt file of .ctxls/prompts/ on the selected lines or at the cursor"
)
command("CtxlsSummarize", "summarize", {}, "ctxls: describe the working tree's changes")
command("CtxlsContext", "context", { nargs = "*" }, "ctxls: show the context a model would get at the cursor")
vim.api.nvim_create_user_command("CtxlsNextEdit", function(args)
  local next_edit = require("ctxls.next_edit")
  local action = args.fargs[1] or "ask"
  if action == "ask" then
    next_edit.request(true)
  elseif action == "jump" or action == "accept" or action == "dismiss" then
    next_edit[action]()
  else
    vim.notify("ctxls: :CtxlsNextEdit [ask|jump|accept|dismiss] (got " .. action .. ")", vim.log.levels.ERROR)
  end
end, {
  nargs = "?",
  complete = function()
    return { "ask", "jump", "accept", "dismiss" }
  end,
  desc = "ctxls: suggest where the next edit goes and what it is; jump, accept or dismiss it",
})
command("CtxlsReindex", "reindex", {}, "ctxls: index the workspace again")
