//! The recency generator: what the user is working on. Definitions inside the working
//! tree's changes against HEAD (staged, unstaged, untracked: `io::git` fills them in) and
//! inside ranges edited in this session (the server records them), most recent first;
//! files open in the editor and changed files also get a small boost in the fusion.

use super::{ContextRequest, Hit, Target};
use crate::index::{IndexSnapshot, SymbolKind};

/// A file changed in the working tree, with its changed lines (zero-based, inclusive)
/// in the working-tree text; no ranges means the whole file (untracked, or new).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangedFile {
    pub path: String,
    pub lines: Vec<(u32, u32)>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recency {
    /// Ranges edited in this session, most recent first.
    pub edits: Vec<ChangedFile>,
    /// The working tree's diff against HEAD, in path order.
    pub changed: Vec<ChangedFile>,
    /// Files open in the editor.
    pub open: Vec<String>,
}

impl Recency {
    pub fn is_open(&self, path: &str) -> bool {
        self.open.iter().any(|p| p == path)
    }

    pub fn is_changed(&self, path: &str) -> bool {
        self.edits.iter().chain(&self.changed).any(|c| c.path == path)
    }
}

/// At most this many definitions per changed file (a new file may define hundreds).
const PER_FILE: usize = 8;

pub(super) fn generate(snapshot: &IndexSnapshot, request: &ContextRequest) -> Vec<Hit> {
    let current = snapshot.file(request.file).map(|e| e.path.as_str());
    let mut hits = Vec::new();
    let sources = request.recency.edits.iter().map(|c| (c, "edited in this session")).chain(request.recency.changed.iter().map(|c| (c, "changed in the working tree")));
    for (changed, how) in sources {
        if Some(changed.path.as_str()) == current {
            continue;
        }
        let Some(id) = snapshot.file_id(&changed.path) else { continue };
        let Some(entry) = snapshot.file(id) else { continue };
        let index = entry.index();
        let lines = |s: &crate::index::Symbol| (index.line_index.line_col(s.range.start).line, index.line_index.line_col(s.range.end).line);
        let overlaps = |(first, last): (u32, u32)| changed.lines.iter().any(|&(a, b)| a <= last && first <= b);
        let mut taken = 0;
        for (i, symbol) in index.symbols.iter().enumerate() {
            if taken == PER_FILE {
                break;
            }
            // A changed field or variant stands for its type (a member alone is no snippet).
            if matches!(symbol.kind, SymbolKind::Impl | SymbolKind::Module) || symbol.kind.is_member() {
                continue;
            }
            // A whole new file: its top-level definitions. Otherwise the innermost
            // definitions the change touched: a changed method, not its whole impl.
            let wanted = if changed.lines.is_empty() {
                symbol.parent.is_none()
            } else {
                overlaps(lines(symbol)) && !index.symbols.iter().any(|s| s.parent == Some(i as u32) && !s.kind.is_member() && overlaps(lines(s)))
            };
            if wanted {
                taken += 1;
                hits.push(Hit { filler: false, file: id, target: Target::Symbol(i as u32), why: format!("`{}` {how}", symbol.name) });
            }
        }
    }
    hits
}
