//! `impl LanguageServer`: protocol plumbing only; the work happens in `handlers`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::assist::{self, Assist};
use super::handlers;
use super::indexing;
use super::{actions, hover};
use super::state::{lock, SharedState, State};
use crate::config::ConfigIssue;
use crate::lang::Lang;

/// How long typing must pause before a tree with syntax errors is parsed afresh.
const SETTLE_DELAY: std::time::Duration = std::time::Duration::from_millis(300);

pub struct Backend {
    client: Client,
    state: SharedState,
    assist: Arc<Assist>,
    /// Hover explanations, done and under way.
    explanations: Arc<hover::Explanations>,
}

impl Backend {
    pub fn new(client: Client, cache_dir: Option<PathBuf>) -> Backend {
        let state = State { cache_dir, ..State::default() };
        let assist = Arc::new(Assist::default());
        assist.status.set_client(client.clone());
        Backend { client, state: Arc::new(Mutex::new(state)), assist, explanations: Arc::default() }
    }

    /// `textDocument/inlineCompletion` (LSP 3.18; routed as a custom method, see `lsp::run_stdio`).
    pub async fn inline_completion(&self, params: InlineCompletionParams) -> Result<Option<InlineCompletionResponse>> {
        assist::inline_completion(&self.client, &self.state, &self.assist, params).await
    }

    pub async fn next_edit(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        super::next_edit::next_edit(&self.client, &self.state, &self.assist, params).await
    }

    pub async fn copilot_inline_edit(&self, params: serde_json::Value) -> Result<serde_json::Value> {
        super::next_edit::copilot_inline_edit(&self.client, &self.state, &self.assist, params).await
    }

    async fn report_config_issues(&self, issues: Vec<ConfigIssue>) {
        for issue in issues {
            tracing::warn!("{issue}");
            self.client
                .show_message(MessageType::WARNING, format!("ctxls: {issue}; using the previous value or the default"))
                .await;
        }
    }

    /// Publishes the document's diagnostics when its requirement comments changed.
    async fn publish_requirements(&self, uri: Uri) {
        super::diagnostics::publish(&self.client, &self.state, &uri, false).await;
    }

    fn spawn_refresh(&self, root: PathBuf) {
        tokio::spawn(indexing::refresh_root(self.client.clone(), self.state.clone(), root));
    }

    fn spawn_update(&self, paths: Vec<PathBuf>) {
        for (root, paths) in handlers::group_by_root(&self.state, paths) {
            tokio::spawn(indexing::update_files(self.client.clone(), self.state.clone(), root, paths));
        }
    }

    async fn register_watchers(&self) {
        let mut patterns: Vec<String> = Lang::ALL
            .iter()
            .flat_map(|lang| lang.extensions().iter().map(|ext| format!("**/*.{ext}")))
            .collect();
        patterns.extend(["**/tsconfig.json", "**/jsconfig.json", "**/.ctxls.toml"].map(String::from));
        // Documents and prompt files (project knowledge).
        patterns.extend(crate::knowledge::DOC_EXTENSIONS.iter().map(|ext| format!("**/*.{ext}")));
        patterns.push("**/.ctxls/prompts/*.md".to_string());
        let watchers = patterns
            .into_iter()
            .map(|pattern| FileSystemWatcher { glob_pattern: GlobPattern::String(pattern), kind: None })
            .collect();
        let registration = Registration {
            id: "ctxls-watched-files".to_string(),
            method: "workspace/didChangeWatchedFiles".to_string(),
            register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions { watchers }).ok(),
        };
        if let Err(err) = self.client.register_capability(vec![registration]).await {
            tracing::warn!("registering file watchers failed: {err}");
        }
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let (encoding, caps) = handlers::negotiate(&params);
        let roots = handlers::initial_roots(&params);
        {
            let mut state = lock(&self.state);
            state.encoding = encoding;
            state.caps = caps;
            state.init_options = params.initialization_options.clone().unwrap_or(serde_json::Value::Null);
        }
        let mut issues = Vec::new();
        for root in roots {
            issues.extend(handlers::add_root(&self.state, root));
        }
        // Shown once the client is ready for messages.
        lock(&self.state).pending_issues = issues;
        Ok(InitializeResult {
            capabilities: handlers::capabilities(encoding),
            server_info: Some(ServerInfo { name: "ctxls".to_string(), version: Some(env!("CARGO_PKG_VERSION").to_string()) }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        let (watch, roots, issues) = {
            let mut state = lock(&self.state);
            let issues = std::mem::take(&mut state.pending_issues);
            (state.caps.watched_files_dynamic, state.roots.iter().map(|r| r.path.clone()).collect::<Vec<_>>(), issues)
        };
        self.report_config_issues(issues).await;
        if watch {
            self.register_watchers().await;
        }
        for root in roots {
            self.spawn_refresh(root);
        }
    }

    async fn shutdown(&self) -> Result<()> {
        let roots: Vec<_> = lock(&self.state).roots.iter().map(|r| r.path.clone()).collect();
        for root in roots {
            indexing::log_memory(&self.state, &root);
        }
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let uri = params.text_document.uri.clone();
        handlers::did_open(&self.state, params);
        self.publish_requirements(uri).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let changed = params.text_document.uri.clone();
        let unsettled = handlers::did_change(&self.state, params);
        self.publish_requirements(changed).await;
        if let Some((uri, version)) = unsettled {
            let state = self.state.clone();
            tokio::spawn(async move {
                tokio::time::sleep(SETTLE_DELAY).await;
                crate::base::long_lived(|| lock(&state).settle(&uri, version));
            });
        }
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        // The saved file is now the disk version: refresh its cache row.
        if let Some(path) = super::from_proto::file_path(&params.text_document.uri) {
            let root = {
                let state = lock(&self.state);
                state.root_of(&path).map(|i| state.roots[i].path.clone())
            };
            if let Some(root) = root {
                // Open documents are skipped by the sink; the row in the cache is what
                // this refreshes (and the diff against HEAD).
                tokio::spawn(indexing::update_files(self.client.clone(), self.state.clone(), root, vec![path]));
            }
        }
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.assist.forget_document(params.text_document.uri.as_str());
        if let Some((root, path)) = handlers::did_close(&self.state, params) {
            tokio::spawn(indexing::update_files(self.client.clone(), self.state.clone(), root, vec![path]));
        }
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let mut paths = Vec::new();
        let mut reconfigure = false;
        let mut refresh_roots = Vec::new();
        for change in params.changes {
            let Some(path) = super::from_proto::file_path(&change.uri) else { continue };
            match path.file_name().and_then(|n| n.to_str()) {
                Some(".ctxls.toml") => reconfigure = true,
                Some("tsconfig.json" | "jsconfig.json") => {
                    let state = lock(&self.state);
                    if let Some(i) = state.root_of(&path) {
                        refresh_roots.push(state.roots[i].path.clone());
                    }
                }
                _ => paths.push(path),
            }
        }
        if reconfigure {
            let (issues, changed) = handlers::reload_config(&self.state);
            self.report_config_issues(issues).await;
            refresh_roots.extend(changed);
        }
        refresh_roots.sort();
        refresh_roots.dedup();
        for root in refresh_roots {
            self.spawn_refresh(root);
        }
        self.spawn_update(paths);
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        // Clients send either the settings themselves or `{ "ctxls": settings }`.
        let settings = match params.settings {
            serde_json::Value::Object(mut map) if map.contains_key("ctxls") => map.remove("ctxls").unwrap_or_default(),
            other => other,
        };
        lock(&self.state).settings = settings;
        let (issues, changed) = handlers::reload_config(&self.state);
        self.report_config_issues(issues).await;
        for root in changed {
            self.spawn_refresh(root);
        }
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        for removed in params.event.removed {
            if let Some(path) = super::from_proto::file_path(&removed.uri).and_then(|p| p.canonicalize().ok()) {
                handlers::remove_root(&self.state, &path);
            }
        }
        for added in params.event.added {
            let Some(path) = super::from_proto::file_path(&added.uri).and_then(|p| p.canonicalize().ok()) else {
                continue;
            };
            let issues = handlers::add_root(&self.state, path.clone());
            self.report_config_issues(issues).await;
            self.spawn_refresh(path);
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        hover::hover(&self.client, &self.state, &self.assist, &self.explanations, params).await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        assist::completion(&self.client, &self.state, &self.assist, params).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        Ok(Some(actions::code_actions(&self.state, params)))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        Ok(Some(actions::code_lenses(&self.state, &params.text_document.uri)))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<serde_json::Value>> {
        // For the tests of `panics`: a handler that panics, only when asked for by the
        // environment (never advertised).
        if params.command == "ctxls.debug.panic" && std::env::var_os("CTXLS_DEBUG_COMMANDS").is_some() {
            panic!("ctxls.debug.panic was run");
        }
        if params.command == actions::REINDEX {
            let roots: Vec<PathBuf> = lock(&self.state).roots.iter().map(|r| r.path.clone()).collect();
            for root in &roots {
                self.spawn_refresh(root.clone());
            }
            return Ok(Some(serde_json::json!({ "roots": roots.len() })));
        }
        actions::execute(&self.client, &self.state, &self.assist, params).await
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        handlers::document_symbol(&self.state, params)
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        handlers::workspace_symbol(&self.state, params)
    }
}
