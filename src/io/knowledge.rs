//! Project knowledge on disk (`knowledge`): the workspace's documents read and split
//! into a `DocIndex`, the prompt files of `.ctxls/prompts/`, and other files a mention
//! may name. The walk's rules apply to all of them (ignore files, `index.exclude`,
//! hidden directories for documents), secrets are never read, and binary or oversized
//! files are left out.

use std::path::Path;
use std::sync::Mutex;

use super::vfs::{self, IgnoreRules};
use crate::config::{Config, IndexConfig, Task};
use crate::ide::knowledge::{Budgets, Knowledge, Sources};
use crate::index::IndexSnapshot;
use crate::llm::tokens::TokenCounter;
use crate::knowledge::mentions::NotRead;
use crate::knowledge::prompts::{self, PromptError, PromptFile};
use crate::knowledge::{sections, DocIndex, DocKind, Document};

/// A mentioned file (not code, not a document) is read up to this size.
const MAX_OTHER_BYTES: u64 = 64 * 1024;
/// Documents larger than this are left out (a spec rarely is; a data dump often).
const MAX_DOC_BYTES: u64 = 2 * 1024 * 1024;

/// The workspace's documents, split. Files that are not what their name says (a JSON
/// file that is no OpenAPI document) are skipped; a document that fails to split is
/// logged and skipped.
pub fn load_documents(root: &Path, config: &Config) -> DocIndex {
    if !config.documents.enabled {
        return DocIndex::default();
    }
    let started = std::time::Instant::now();
    let found = vfs::walk_files(root, &config.index, &|rel| DocKind::from_path(rel).is_some());
    let docs: Vec<Document> = found
        .into_iter()
        .filter(|f| f.size <= MAX_DOC_BYTES)
        .filter_map(|f| read_document(&f.abs_path, &f.rel_path, config))
        .collect();
    let index = DocIndex::new(docs);
    tracing::debug!(
        "{} documents, {} sections in {:.1} ms",
        index.docs().len(),
        index.section_count(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    index
}

/// One document, read and split (`None` when it is not a document or cannot be read).
pub fn read_document(abs_path: &Path, rel_path: &str, config: &Config) -> Option<Document> {
    DocKind::from_path(rel_path)?;
    let bytes = std::fs::read(abs_path).ok()?;
    if bytes.len() as u64 > MAX_DOC_BYTES {
        return None;
    }
    // Long lines are normal in prose and specs: only binary content is refused.
    let relaxed = crate::config::IndexConfig { max_line_length: u64::MAX, ..config.index.clone() };
    let text = vfs::decode_source(bytes, &relaxed).ok()?;
    let kind = sections::detect(rel_path, &text)?;
    match sections::split(kind, &text) {
        Ok(sections) if !sections.is_empty() => Some(Document { path: rel_path.to_string(), kind, sections }),
        Ok(_) => None,
        Err(reason) => {
            tracing::info!("{rel_path}: not used as a document: {reason}");
            None
        }
    }
}

/// The workspace files a mention may name besides code and documents, read only when
/// they may be sent to a model (`IgnoreRules::readable`: inside the root, symbolic links
/// followed only to such files, not ignored, not a secret), text, at most 64 KB.
pub struct MentionedFiles {
    rules: Mutex<IgnoreRules>,
}

impl MentionedFiles {
    pub fn new(root: &Path, config: &IndexConfig) -> MentionedFiles {
        MentionedFiles { rules: Mutex::new(IgnoreRules::new(root, config)) }
    }

    /// The file's text, or why it is not read.
    pub fn read(&self, rel: &str) -> Result<String, NotRead> {
        read_mentioned(&mut self.rules.lock().unwrap_or_else(|p| p.into_inner()), rel)
    }
}

/// The project knowledge for a request (`ide::knowledge::gather`): the mentions in
/// `mention_text` and the document sections for `query`, within the configuration's
/// budgets and the chat model's tokenizer. A file's text is `open_text`'s (the editor's)
/// or the disk's.
pub fn gather(
    root: &Path,
    config: &Config,
    snapshot: &IndexSnapshot,
    docs: &DocIndex,
    open_text: &dyn Fn(&str) -> Option<String>,
    mention_text: &str,
    query: &str,
) -> Knowledge {
    let counter = TokenCounter::for_model(&config.llm.for_task(Task::Chat).model);
    let text_of = |rel: &str| open_text(rel).or_else(|| std::fs::read_to_string(root.join(rel)).ok());
    let files = MentionedFiles::new(root, &config.index);
    let read_other = |rel: &str| files.read(rel);
    let sources = Sources { snapshot, docs, text_of: &text_of, read_other: &read_other };
    let budgets = Budgets { mentions: config.mentions.max_tokens, documents: if config.documents.enabled { config.documents.max_tokens } else { 0 } };
    crate::ide::knowledge::gather(mention_text, query, &sources, budgets, &|t| counter.count(t))
}

fn read_mentioned(rules: &mut IgnoreRules, rel: &str) -> Result<String, NotRead> {
    let path = rules.readable(rel).map_err(|withheld| NotRead::Refused(withheld.describe().to_string()))?;
    let meta = std::fs::metadata(&path).map_err(|_| NotRead::Missing)?;
    if !meta.is_file() {
        return Err(NotRead::Missing);
    }
    if meta.len() > MAX_OTHER_BYTES {
        return Err(NotRead::Refused(format!("larger than {} KB", MAX_OTHER_BYTES / 1024)));
    }
    let bytes = std::fs::read(&path).map_err(|_| NotRead::Missing)?;
    if memchr::memchr(0, &bytes).is_some() {
        return Err(NotRead::Refused("binary".to_string()));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The directory of prompt files, relative to a root.
pub const PROMPTS_DIR: &str = ".ctxls/prompts";

/// The prompt files of the root's `.ctxls/prompts/` (`*.md`, by name), and the ones left
/// out with the reason; ignored ones are skipped, and a symbolic link is followed only to
/// a file inside the workspace that the walk would read (`IgnoreRules::readable`).
pub fn load_prompts(root: &Path, config: &Config) -> (Vec<PromptFile>, Vec<PromptError>) {
    let dir = root.join(PROMPTS_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else { return (Vec::new(), Vec::new()) };
    let mut rules = IgnoreRules::new(root, &config.index);
    let mut paths: Vec<std::path::PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && p.is_file())
        .filter(|p| !rules.is_excluded(p))
        .collect();
    paths.sort();
    let (mut loaded, mut errors) = (Vec::new(), Vec::new());
    for path in paths {
        let rel = vfs::relative_path(root, &path);
        let path = match rules.readable(&rel) {
            Ok(path) => path,
            Err(withheld) => {
                errors.push(PromptError { path: rel, reason: format!("not read: a symbolic link to a file that is {}", withheld.describe()) });
                continue;
            }
        };
        let text = match std::fs::read(&path) {
            Ok(bytes) if bytes.len() as u64 <= MAX_OTHER_BYTES => String::from_utf8_lossy(&bytes).into_owned(),
            Ok(_) => {
                errors.push(PromptError { path: rel, reason: "larger than 64 KB".into() });
                continue;
            }
            Err(err) => {
                errors.push(PromptError { path: rel, reason: format!("cannot be read: {err}") });
                continue;
            }
        };
        match prompts::parse(&rel, &text) {
            Ok(prompt) => loaded.push(prompt),
            Err(err) => errors.push(err),
        }
    }
    (loaded, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_prompts_and_mentioned_files_respect_the_rules() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(".gitignore", "private/\n");
        write("docs/guide.md", "# Guide\n\nHello.\n");
        write("private/notes.md", "# Secret plans\n");
        write("package.json", "{\"name\": \"x\"}\n");
        write("api/openapi.json", "{\"openapi\": \"3.0.0\", \"paths\": {\"/a\": {\"get\": {\"operationId\": \"getA\"}}}}");
        write(".env", "TOKEN=1\n");
        write("config/app.toml", "port = 1\n");
        write(".ctxls/prompts/good.md", "---\ntitle: Good\napplies_to: file\n---\nDo {{file}}\n");
        write(".ctxls/prompts/bad.md", "---\ntitle: Bad\n---\nx\n");
        let config = Config::default();
        let docs = load_documents(root, &config);
        let paths: Vec<&str> = docs.docs().iter().map(|d| d.path.as_str()).collect();
        assert_eq!(paths, ["api/openapi.json", "docs/guide.md"], "ignored files and non-specs are left out");
        let (prompts, errors) = load_prompts(root, &config);
        assert_eq!(prompts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["good"]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, ".ctxls/prompts/bad.md");
        let files = MentionedFiles::new(root, &config.index);
        assert_eq!(files.read("config/app.toml").as_deref(), Ok("port = 1\n"));
        let refused = |reason: &str| Err(NotRead::Refused(reason.to_string()));
        assert_eq!(files.read(".env"), refused(vfs::Withheld::Secret.describe()), "secrets are never read");
        assert_eq!(files.read("private/notes.md"), refused(vfs::Withheld::Ignored.describe()), "ignored files are never read");
        assert_eq!(files.read("../outside"), refused(vfs::Withheld::Outside.describe()));
        assert_eq!(files.read("config/none.toml"), Err(NotRead::Missing));
        // Links: followed only to a file that may be read itself.
        #[cfg(unix)]
        {
            let outside = tempfile::tempdir().unwrap();
            std::fs::write(outside.path().join("creds.txt"), "outside\n").unwrap();
            std::os::unix::fs::symlink(outside.path().join("creds.txt"), root.join("notes.txt")).unwrap();
            std::os::unix::fs::symlink(root.join(".env"), root.join("env.txt")).unwrap();
            std::os::unix::fs::symlink(root.join("private/notes.md"), root.join("plans.txt")).unwrap();
            std::os::unix::fs::symlink(root.join("config/app.toml"), root.join("app.toml")).unwrap();
            let files = MentionedFiles::new(root, &config.index);
            assert_eq!(files.read("notes.txt"), refused(vfs::Withheld::Outside.describe()));
            assert_eq!(files.read("env.txt"), refused(vfs::Withheld::Secret.describe()));
            assert_eq!(files.read("plans.txt"), refused(vfs::Withheld::Ignored.describe()));
            assert_eq!(files.read("app.toml").as_deref(), Ok("port = 1\n"));
        }
    }
}
