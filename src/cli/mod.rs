//! The command line: one file per subcommand. Commands print results on stdout (JSON with
//! `--json`) and progress and logs on stderr.

mod chat;
mod complete;
mod context;
mod doctor;
mod generate;
mod host;
mod implement;
mod index;
mod next_edit;
mod outline;
mod requirements;
mod run_prompt;
mod summarize;
mod symbols;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::io::store::Store;
use crate::index::WorkspaceIndex;
use crate::io::workspace::{Indexer, RefreshMode, RefreshReport};

#[derive(Parser, Debug)]
#[command(name = "ctxls", version, about = "A language server that gives editors LLM help grounded in the right context.")]
#[command(long_about = "A language server that gives editors LLM help grounded in the right context.\n\n\
Run without a command (or with `serve`) to speak the Language Server Protocol on stdio.\n\
Logs go to stderr; set CTXLS_LOG (for example `CTXLS_LOG=debug`) to see more.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Cache directory (default: $CTXLS_CACHE_DIR, else $XDG_CACHE_HOME/ctxls, else
    /// ~/.cache/ctxls); each workspace root gets its own subdirectory.
    #[arg(long, global = true, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Log level for stderr: error, warn, info, debug, trace (overrides $CTXLS_LOG).
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Speak LSP on stdio (the default when no command is given).
    Serve,
    /// Build or refresh the workspace index and print a summary.
    Index(index::IndexArgs),
    /// Fuzzy-search the workspace's symbols, best first: `path:line:col kind name`.
    Symbols(symbols::SymbolsArgs),
    /// The definitions of files from their parse: `path:line-end_line kind name`.
    Outline(outline::OutlineArgs),
    /// Show the effective LLM configuration and check that the endpoints and models answer.
    Doctor(doctor::DoctorArgs),
    /// Fill-in-the-middle completion at FILE:LINE:COL, streamed to stdout.
    Complete(complete::CompleteArgs),
    /// Ask a question about the code; the answer is streamed to stdout.
    Chat(chat::ChatArgs),
    /// The context (ranked snippets within a token budget) for a position.
    Context(context::ContextArgs),
    /// List the requirement comments (`// AI: ...`, `... AI!`, `... AI?`).
    Requirements(requirements::RequirementsArgs),
    /// Implement the requirement comment at FILE:LINE: print the change as a diff, or write it.
    Generate(generate::GenerateArgs),
    /// Implement every requirement comment added in the working tree's changes, in one go.
    Implement(implement::ImplementArgs),
    /// Where the next edit likely goes after the working tree's changes: ranked places (no model yet).
    NextEdit(next_edit::NextEditArgs),
    /// Describe the working tree's changes (what and why), e.g. as a commit message.
    Summarize(summarize::SummarizeArgs),
    /// Run a prompt file of `.ctxls/prompts/` on FILE[:LINE[-END]]: a diff (or written), or an answer.
    RunPrompt(run_prompt::RunPromptArgs),
}

pub fn init_logging(cli: &Cli) {
    let filter = cli
        .log
        .clone()
        .or_else(|| std::env::var("CTXLS_LOG").ok())
        .unwrap_or_else(|| "warn".to_string());
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let cache_dir = cli.cache_dir.clone();
    let command = cli.command.unwrap_or(Command::Serve);
    if !matches!(command, Command::Serve) {
        end_quietly_on_broken_pipe();
    }
    match command {
        Command::Serve => crate::lsp::run_stdio(cache_dir),
        Command::Index(args) => index::run(args, cache_dir.as_deref()),
        Command::Symbols(args) => symbols::run(args, cache_dir.as_deref()),
        Command::Outline(args) => outline::run(args),
        Command::Doctor(args) => doctor::run(args, cache_dir.as_deref()),
        Command::Complete(args) => complete::run(args, cache_dir.as_deref()),
        Command::Chat(args) => chat::run(args, cache_dir.as_deref()),
        Command::Context(args) => context::run(args, cache_dir.as_deref()),
        Command::Requirements(args) => requirements::run(args, cache_dir.as_deref()),
        Command::Generate(args) => generate::run(args, cache_dir.as_deref()),
        Command::Implement(args) => implement::run(args, cache_dir.as_deref()),
        Command::NextEdit(args) => next_edit::run(args, cache_dir.as_deref()),
        Command::Summarize(args) => summarize::run(args, cache_dir.as_deref()),
        Command::RunPrompt(args) => run_prompt::run(args, cache_dir.as_deref()),
    }
}

/// A command whose output goes to a pipe that closes (`ctxls doctor | head -1`) ends at
/// once and quietly, killed by SIGPIPE as Unix tools are (exit status 141 in a shell),
/// instead of panicking in `println!` with a backtrace. Rust ignores SIGPIPE at startup;
/// this sets it back to its default. Sockets are unaffected (they are written with
/// `MSG_NOSIGNAL`), and ctxls pipes to no child process. Not for `serve`: the language
/// server reports a closed stdout as an error and shuts down cleanly.
fn end_quietly_on_broken_pipe() {
    #[cfg(unix)]
    {
        extern "C" {
            fn signal(signum: i32, handler: usize) -> usize;
        }
        const SIGPIPE: i32 = 13;
        const SIG_DFL: usize = 0;
        // SAFETY: setting a signal's disposition to its default installs no Rust handler;
        // it happens at startup, before any thread writes to stdout.
        unsafe {
            signal(SIGPIPE, SIG_DFL);
        }
    }
}

/// The configuration of a root (`.ctxls.toml` over the defaults); issues go to stderr.
fn load_config(root: &Path) -> Config {
    let mut config = Config::default();
    for issue in Indexer::read_config_file(root, &mut config) {
        eprintln!("ctxls: {issue}; using the default");
    }
    config
}

/// A position argument (`FILE:LINE:COL`, FILE relative to `root` or absolute) read from
/// disk: the file's path relative to the root, its text, the byte offset, LINE, and the
/// column used (COL, or the line's end when COL was past it).
struct Position {
    rel: String,
    path: PathBuf,
    text: String,
    offset: usize,
    line: usize,
    col: usize,
}

fn read_position(root: &Path, position: &str) -> anyhow::Result<Position> {
    let (file, line, col) = complete::parse_position(position)?;
    let path = if file.is_absolute() { file } else { root.join(file) };
    let path = path.canonicalize().with_context(|| format!("{}", path.display()))?;
    let rel = crate::io::vfs::relative_path(root, &path);
    refuse_ignored(root, &path, &rel)?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let offset = complete::offset_of(&text, line, col).with_context(|| format!("{rel}:{line}:{col} is past the end of the file"))?;
    // A column past the line's end means its end, said out loud: a position that points at
    // nothing is more often a mistake than an intent.
    let length = text.split('\n').nth(line - 1).map_or(0, |l| l.trim_end_matches('\r').chars().count());
    let col = if col > length + 1 {
        eprintln!("ctxls: warning: {rel}:{line}:{col}: line {line} has {length} characters; using its end (column {})", length + 1);
        length + 1
    } else {
        col
    };
    Ok(Position { rel, path, text, offset, line, col })
}

/// Files outside the workspace (`path` is canonical: symbolic links followed) and files
/// the workspace ignores (`.gitignore`, `.ctxlsignore`, hidden, `index.exclude`, secrets)
/// are never sent to a model.
fn refuse_ignored(root: &Path, path: &Path, rel: &str) -> anyhow::Result<()> {
    if !path.starts_with(root) {
        anyhow::bail!("{} is outside the workspace {}: nothing from it is sent to a model", path.display(), root.display());
    }
    let config = load_config_quiet(root);
    if crate::io::vfs::IgnoreRules::new(root, &config.index).is_ignored(path) {
        anyhow::bail!("{rel} is ignored (.gitignore, .ctxlsignore, hidden, index.exclude or a secret by its name): nothing from it is sent to a model");
    }
    Ok(())
}

fn load_config_quiet(root: &Path) -> Config {
    let mut config = Config::default();
    let _ = Indexer::read_config_file(root, &mut config);
    config
}

/// The working tree's diff against HEAD as the recent-edits section of a prompt
/// (`completion.recent_edits`): the diffs of the files changed last within `limit` tokens
/// of `model`; ignored, hidden and secret files are never in it.
fn recent_edits(root: &Path, config: &Config, model: &str, limit: usize) -> String {
    if !config.completion.recent_edits || limit == 0 {
        return String::new();
    }
    let edits = match crate::io::git::working_tree_edits(root, &config.index, 64 * 1024) {
        Ok(Some(edits)) => edits,
        Ok(None) => return String::new(),
        Err(err) => {
            tracing::warn!("no recent edits: {err}");
            return String::new();
        }
    };
    let counter = crate::llm::tokens::TokenCounter::for_model(model);
    crate::ide::edit_history::recent_edits_section(&edits, limit, |text| counter.count(text))
}

/// With `dry_run`, prints the HTTP request that would be sent (key redacted); otherwise
/// sends it and streams the answer to stdout.
fn send_or_show(settings: crate::config::ModelSettings, request: &crate::llm::Request, dry_run: bool) -> anyhow::Result<ExitCode> {
    let client = crate::io::llm::LlmClient::new(settings.clone(), crate::io::llm::resolve_api_key(&settings));
    if dry_run {
        print!("{}", client.dry_run(request));
        return Ok(ExitCode::SUCCESS);
    }
    stream_to_stdout(&client, request)
}

/// Streams a completion to stdout as it arrives; failures are one clear sentence on
/// stderr and a non-zero exit.
fn stream_to_stdout(client: &crate::io::llm::LlmClient, request: &crate::llm::Request) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut stdout = std::io::stdout();
    let result = runtime.block_on(client.complete(request, &mut |piece: &str| {
        let _ = stdout.write_all(piece.as_bytes());
        let _ = stdout.flush();
    }));
    match result {
        Ok(completion) => {
            if !completion.text.ends_with('\n') {
                println!();
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("ctxls: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The workspace root: `--root`, else the current directory; made absolute.
fn resolve_root(root: Option<&Path>) -> anyhow::Result<PathBuf> {
    let root = match root {
        Some(root) => root.to_path_buf(),
        None => std::env::current_dir().context("reading the current directory")?,
    };
    let root = root.canonicalize().with_context(|| format!("workspace root {}", root.display()))?;
    anyhow::ensure!(root.is_dir(), "workspace root {} is not a directory", root.display());
    Ok(root)
}

/// Opens the workspace at `root` with its configuration (`load_config`) and refreshes its
/// index with a progress bar on a terminal.
fn open_and_refresh(root: &Path, config: &Config, cache_dir: Option<&Path>, mode: RefreshMode) -> (WorkspaceIndex, RefreshReport) {
    refresh(&mut open_indexer(root, config, cache_dir), mode)
}

/// The workspace at `root` with its cache (`--cache-dir` or the default one).
fn open_indexer(root: &Path, config: &Config, cache_dir: Option<&Path>) -> Indexer {
    Indexer::open(root, config.clone(), Some(&Store::default_dir(root, cache_dir)))
}

/// Refreshes a new in-memory index from `indexer`, with a progress bar on a terminal.
fn refresh(indexer: &mut Indexer, mode: RefreshMode) -> (WorkspaceIndex, RefreshReport) {
    let mut index = WorkspaceIndex::new();
    let bar = progress_bar();
    let report = indexer.refresh(mode, &|done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    }, &mut index);
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for error in report.errors.iter().take(20) {
        tracing::warn!("{error}");
    }
    if mode != RefreshMode::CacheOnly {
        tracing::debug!("index memory: {:?}", index.memory());
    }
    (index, report)
}

/// The vector store of the configured embedder, opened (memory-mapped, its keys
/// indexed); `None` when the embedder is misconfigured (logged). Opening takes a few
/// milliseconds, so callers start it while the index loads.
fn open_vectors(root: &Path, cache_dir: Option<&Path>, config: &crate::config::Config) -> Option<crate::io::embedding::Vectors> {
    let embedder = match crate::io::llm::configured_embedder(config) {
        Ok(embedder) => embedder,
        Err(err) => {
            tracing::warn!("{err}");
            return None;
        }
    };
    let vectors = crate::io::embedding::Vectors::new(embedder, Some(&Store::default_dir(root, cache_dir)));
    vectors.len();
    Some(vectors)
}

/// Brings the vector store up to date with the index (embedding new chunks, with a
/// progress bar on a terminal) and returns the chunks nearest to `text`. Any failure
/// (a provider embedder that is unreachable, say) is logged and gives no hits: the other
/// generators still answer.
fn vector_search(
    vectors: Option<crate::io::embedding::Vectors>,
    snapshot: &crate::index::IndexSnapshot,
    read: &(dyn Fn(crate::index::FileId) -> Option<String> + Sync),
    text: &str,
) -> Vec<(u64, f32)> {
    let Some(vectors) = vectors else { return Vec::new() };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return Vec::new() };
    let bar = progress_bar_with("embedding {bar:40} {pos}/{len} chunks (eta {eta})");
    let result = runtime.block_on(async {
        let report = vectors
            .update(snapshot, read, &|done, total| {
                if let Some(bar) = &bar {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                }
            })
            .await?;
        tracing::debug!("vectors: {report:?}");
        vectors.query(text, VECTOR_HITS).await
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    result.unwrap_or_else(|err| {
        tracing::warn!("vector search skipped: {err}");
        Vec::new()
    })
}

/// Nearest chunks asked of the vector store.
const VECTOR_HITS: usize = 40;

fn progress_bar() -> Option<indicatif::ProgressBar> {
    progress_bar_with("{spinner} indexing {bar:40} {pos}/{len} files (eta {eta})")
}

fn progress_bar_with(template: &str) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(indicatif::ProgressStyle::with_template(template).expect("valid template"));
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
    Some(bar)
}
