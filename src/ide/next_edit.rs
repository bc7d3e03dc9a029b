//! Where the next edit goes, without a model: from the edits so far (hunks with their old
//! and new lines) and an index snapshot of the edited workspace, ranked candidate places.
//! Each mechanism gives a tier (a fixed base score); proximity to the edits only orders
//! candidates within a tier. Mechanisms, strongest first:
//! 1. the rest of a rename or removal: uses of a definition name that the edits took
//!    away, or of an identifier they replaced by another, still there elsewhere;
//! 2. the same code replaced twice or more: the remaining copies of that old code (the
//!    changed tokens with one token of context each side);
//! 3. uses of a definition whose signature, fields, variants or members changed (call
//!    sites, literals, `match` arms, implementations, imports) and the other definitions
//!    of a changed method (implementations of the same trait method, overrides); names
//!    the edits use that nothing defines (a new field in a literal, a method not yet
//!    written): the definitions of the names next to them, where theirs is due;
//! 4. code replaced once: its remaining copies (words of a comment: in the edited file
//!    only), and the other uses of a (not too common) name it took out; code moved within
//!    a file: the old copy of a line the edits added; annotations (attributes,
//!    decorators, comments) inserted before a line: the other lines starting like it;
//! 5. the places next to the edits in their files, nearest first, alternating with the
//!    lines of the edited file that share the most words with its edits, with the end
//!    of the edited code's tests (its `mod tests`, the test file named after it) after
//!    them.
//!
//! The edited files' old text is rebuilt from their new text and the hunks, parsed and
//! compared with the new facts; the old facts are kept in an `OldFacts` the caller holds
//! (a server's edits start from the same texts all session). Places inside the edits
//! themselves are never candidates, except inside edits made before the latest one.
//! Pure: the caller reads files (`read`).

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::index::terms::{postings_of, term_of};
use crate::index::{FileId, FileIndex, IndexSnapshot, Name, RefRole, Symbol, SymbolKind};
use crate::lang::parse;
#[cfg(test)]
use crate::lang::Lang;

/// One changed region: consecutive removed and added lines of a hunk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edit {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    /// Zero-based line of the first removed line in the old text (where the change
    /// happened when nothing was removed).
    pub old_start: u32,
    pub old_lines: Vec<String>,
    /// Zero-based line of the first added line in the new text (where the change
    /// happened when nothing was added).
    pub new_start: u32,
    pub new_lines: Vec<String>,
    /// Made before the latest edit (a server session's older edits): places inside it
    /// may be offered (a line written before a signature changed calls it too).
    pub earlier: bool,
}

impl Edit {
    /// The new text's lines the edit covers, zero-based, inclusive (one line for a pure
    /// deletion).
    pub fn new_range(&self) -> (u32, u32) {
        (self.new_start, self.new_start + (self.new_lines.len() as u32).max(1) - 1)
    }
}

/// A place where the next edit is likely.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub file: FileId,
    pub path: String,
    /// Zero-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    pub reason: String,
    pub score: f32,
    /// The innermost definition (not a container) holding the place: name and lines
    /// (zero-based, inclusive).
    pub definition: Option<(String, u32, u32)>,
}

/// Limits that keep one call fast on a large workspace.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Uses of one name looked at, nearest first.
    pub uses_per_name: usize,
    /// Files read to find copies of one replaced line.
    pub files_per_line: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { uses_per_name: 200, files_per_line: 200 }
    }
}

/// The tiers (see the module comment); scores within a tier lie in `[base, base + 1)`.
const TIER_REMAINING_OLD_NAME: f32 = 4.0;
const TIER_REPEATED_LINE: f32 = 3.0;
const TIER_CHANGED_DEFINITION: f32 = 2.0;
const TIER_REPLACED_LINE: f32 = 1.0;
const TIER_NEARBY: f32 = 0.0;
/// Half the height of a nearby place: a place covers the lines this far from its line.
const NEARBY: u32 = 3;

/// How `add_uses` takes the uses of a name.
#[derive(Clone, Copy, Default)]
struct UsesOf {
    /// Uses inside the edits count (the name is still there to change).
    inside_edits: bool,
    /// No use counts when the name has more than `Limits::uses_per_name` of them.
    only_if_rare: bool,
    /// Uses outside the edited files rank below the places near the edits (the last
    /// tier, by shared directories): a name taken out among other changes is rarely
    /// due elsewhere (development list: 2 of 307 such places right).
    weak_elsewhere: bool,
}

/// Parses a unified diff (`git diff` format, any context) into edits, paths taken from the
/// `+++ b/...` lines (the `--- a/...` one for a deleted file, whose edits are dropped).
pub fn parse_unified_diff(diff: &str) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut path: Option<String> = None;
    // In a hunk: (old line, new line, old lines left, new lines left).
    let mut hunk: Option<(u32, u32, u32, u32)> = None;
    let mut current: Option<Edit> = None;
    let flush = |current: &mut Option<Edit>, edits: &mut Vec<Edit>| {
        if let Some(edit) = current.take() {
            edits.push(edit);
        }
    };
    for line in diff.lines() {
        if let Some((old, new, old_left, new_left)) = hunk.as_mut().filter(|h| h.2 > 0 || h.3 > 0) {
            let Some(path) = &path else { continue };
            match line.as_bytes().first() {
                Some(b'-') if *old_left > 0 => {
                    let edit = current.get_or_insert_with(|| Edit { path: path.clone(), old_start: *old, new_start: *new, ..Edit::default() });
                    edit.old_lines.push(line[1..].to_string());
                    *old += 1;
                    *old_left -= 1;
                }
                Some(b'+') if *new_left > 0 => {
                    let edit = current.get_or_insert_with(|| Edit { path: path.clone(), old_start: *old, new_start: *new, ..Edit::default() });
                    edit.new_lines.push(line[1..].to_string());
                    *new += 1;
                    *new_left -= 1;
                }
                Some(b'\\') => {}
                _ => {
                    flush(&mut current, &mut edits);
                    *old += 1;
                    *new += 1;
                    *old_left = old_left.saturating_sub(1);
                    *new_left = new_left.saturating_sub(1);
                }
            }
            continue;
        }
        flush(&mut current, &mut edits);
        hunk = None;
        if let Some(rest) = line.strip_prefix("+++ ") {
            path = (rest != "/dev/null").then(|| rest.strip_prefix("b/").unwrap_or(rest).to_string());
        } else if line.starts_with("diff ") {
            path = None;
        } else if let Some(header) = line.strip_prefix("@@ ") {
            hunk = parse_hunk_header(header);
        }
    }
    flush(&mut current, &mut edits);
    edits
}

/// `-a,b +c,d @@ ...` -> zero-based starts and counts. A count of zero means the start
/// is the line before the change (one-based), which is the zero-based line after it.
fn parse_hunk_header(header: &str) -> Option<(u32, u32, u32, u32)> {
    let mut parts = header.split_whitespace();
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |text: &str| -> Option<(u32, u32)> {
        let (start, count) = match text.split_once(',') {
            Some((start, count)) => (start.parse::<u32>().ok()?, count.parse::<u32>().ok()?),
            None => (text.parse::<u32>().ok()?, 1),
        };
        let start = if count == 0 { start } else { start.saturating_sub(1) };
        Some((start, count))
    };
    let (old_start, old_count) = range(old)?;
    let (new_start, new_count) = range(new)?;
    Some((old_start, new_start, old_count, new_count))
}

/// The old text of a file from its new text and all of its edits (in any order).
pub fn old_text(new_text: &str, edits: &[&Edit]) -> String {
    let lines: Vec<&str> = new_text.split_inclusive('\n').collect();
    let mut sorted: Vec<&&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| e.new_start);
    let mut out = String::with_capacity(new_text.len());
    let mut next = 0usize;
    for edit in sorted {
        let start = (edit.new_start as usize).min(lines.len());
        if start < next {
            continue; // overlapping edits: not a diff of this text
        }
        out.extend(lines[next..start].iter().copied());
        for line in &edit.old_lines {
            out.push_str(line);
            out.push('\n');
        }
        next = (start + edit.new_lines.len()).min(lines.len());
    }
    out.extend(lines[next..].iter().copied());
    out
}

/// The edited files' old facts (their text before the edits, parsed), kept between calls:
/// the text a session's edits start from does not change, so it is parsed once.
#[derive(Default)]
pub struct OldFacts {
    /// By path: the old text's length and hash, and its facts.
    by_path: HashMap<String, (usize, u64, Arc<FileIndex>)>,
    /// Parses done (misses), for tests and tracing.
    pub parsed: usize,
    /// How a generated file's old text is extracted: as the index extracts its new text
    /// (`[index] generated_files`), so that old and new facts compare like with like.
    generated: crate::index::GeneratedFiles,
}

impl OldFacts {
    /// Old facts extracted with the workspace's `[index] generated_files` setting.
    pub fn new(generated: crate::index::GeneratedFiles) -> OldFacts {
        OldFacts { generated, ..OldFacts::default() }
    }

    /// Takes the workspace's current setting; the facts kept under another are dropped.
    pub fn set_generated(&mut self, generated: crate::index::GeneratedFiles) {
        if generated != self.generated {
            self.by_path.clear();
            self.generated = generated;
        }
    }

    /// The facts of `path`'s old text: the kept ones when the text is the one they were
    /// made from, else parsed now (and kept).
    pub fn of(&mut self, path: &str, lang: crate::lang::Lang, old_text: &str) -> Arc<FileIndex> {
        let key = Self::key(lang, old_text);
        if let Some((len, hash, facts)) = self.by_path.get(path) {
            if (*len, *hash) == key {
                return Arc::clone(facts);
            }
        }
        self.parsed += 1;
        let facts = Arc::new(crate::index::extract_with(lang, old_text, &parse(lang, old_text, None), self.generated));
        self.by_path.insert(path.to_string(), (key.0, key.1, Arc::clone(&facts)));
        facts
    }

    /// Takes `facts` as those of `path`'s old text `old_text` (a cache's facts of exactly
    /// that text, which then need no parse).
    pub fn insert(&mut self, path: &str, lang: crate::lang::Lang, old_text: &str, facts: FileIndex) {
        let key = Self::key(lang, old_text);
        self.by_path.insert(path.to_string(), (key.0, key.1, Arc::new(facts)));
    }

    fn key(lang: crate::lang::Lang, text: &str) -> (usize, u64) {
        let mut hasher = rustc_hash::FxHasher::default();
        text.hash(&mut hasher);
        lang.hash(&mut hasher);
        (text.len(), hasher.finish())
    }

    /// Keeps only the files `keep` accepts (those still edited).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.by_path.retain(|path, _| keep(path));
    }

    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}

/// What the edits did to one definition.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Change {
    /// Renamed (old name, new name) or removed (old name, `None`).
    Gone { old: String, new: Option<String>, kind: SymbolKind },
    /// Its header changed (parameters, return type, generics, a field's type).
    /// `container`: a method's trait, interface, class or implementation block (kind,
    /// name, header): other definitions may implement or declare the same method.
    Signature { name: String, kind: SymbolKind, container: Option<(SymbolKind, String, String)> },
    /// A member (field, variant, method of a trait or interface) was added, removed or
    /// changed.
    Members { name: String, kind: SymbolKind },
}

/// Definitions of one file that the edits changed: old and new facts compared by
/// (kind, container, name); a removed and an added definition of the same kind and
/// container in one edit are a rename.
fn changed_definitions(old: &FileIndex, new: &FileIndex, edits: &[&Edit]) -> Vec<Change> {
    let key_of = |s: &Symbol| -> (SymbolKind, Option<Name>, Name) { (s.kind, s.container, s.name) };
    // Twins (`cfg` variants, overloads) share a key: all of them are kept.
    let mut old_keys: HashMap<(SymbolKind, Option<Name>, Name), Vec<&Symbol>> = HashMap::default();
    for s in &old.symbols {
        old_keys.entry(key_of(s)).or_default().push(s);
    }
    let new_keys: HashSet<(SymbolKind, Option<Name>, Name)> = new.symbols.iter().map(key_of).collect();
    // Only a definition the edits touch can have changed: a difference elsewhere is one
    // of extraction (a file parsed in segments, a twin matched with the other twin).
    let lines_of = |file: &FileIndex, s: &Symbol| (file.line_index.line_col(s.range.start).line, file.line_index.line_col(s.range.end).line);
    let touched_old = |s: &Symbol| {
        let (start, end) = lines_of(old, s);
        edits.iter().any(|e| e.old_start <= end && e.old_start + (e.old_lines.len() as u32).max(1) > start)
    };
    let touched_new = |s: &Symbol| {
        let (start, end) = lines_of(new, s);
        edits.iter().any(|e| e.new_range().0 <= end && e.new_range().1 >= start)
    };
    let old_line = |s: &Symbol| old.line_index.line_col(s.name_range.start).line;
    let new_line = |s: &Symbol| new.line_index.line_col(s.name_range.start).line;
    let edit_of_old = |line: u32| edits.iter().position(|e| line >= e.old_start && line < e.old_start + e.old_lines.len() as u32);
    let edit_of_new = |line: u32| edits.iter().position(|e| !e.new_lines.is_empty() && line >= e.new_start && line < e.new_start + e.new_lines.len() as u32);
    let parent_kind = |file: &FileIndex, s: &Symbol| s.parent.and_then(|p| file.symbols.get(p as usize)).map(|p| (p.kind, p.name.to_string()));

    let mut changes = Vec::new();
    let mut members_changed: HashSet<(SymbolKind, String)> = HashSet::default();
    let note_member = |file: &FileIndex, s: &Symbol, members: &mut HashSet<(SymbolKind, String)>| {
        if let Some((kind, name)) = parent_kind(file, s) {
            if matches!(kind, SymbolKind::Struct | SymbolKind::Enum | SymbolKind::Trait | SymbolKind::Interface | SymbolKind::Class) {
                members.insert((kind, name));
            }
        }
    };
    // Added definitions, by the edit that added them, for renames.
    let mut added: Vec<(usize, &Symbol)> = Vec::new();
    for s in &new.symbols {
        if s.kind == SymbolKind::Impl || !touched_new(s) {
            continue;
        }
        match old_keys.get(&key_of(s)) {
            Some(before) => {
                if before.iter().all(|b| b.signature() != s.signature()) {
                    let container = s
                        .parent
                        .and_then(|p| new.symbols.get(p as usize))
                        .filter(|p| matches!(p.kind, SymbolKind::Trait | SymbolKind::Interface | SymbolKind::Class | SymbolKind::Impl))
                        .map(|p| (p.kind, p.name.to_string(), p.signature().to_string()));
                    changes.push(Change::Signature { name: s.name.to_string(), kind: s.kind, container });
                    note_member(new, s, &mut members_changed);
                }
            }
            None => {
                if let Some(edit) = edit_of_new(new_line(s)) {
                    added.push((edit, s));
                }
                note_member(new, s, &mut members_changed);
            }
        }
    }
    for s in &old.symbols {
        if s.kind == SymbolKind::Impl || new_keys.contains(&key_of(s)) || !touched_old(s) {
            continue;
        }
        note_member(old, s, &mut members_changed);
        let renamed = edit_of_old(old_line(s)).and_then(|edit| {
            let position = added.iter().position(|(e, n)| *e == edit && n.kind == s.kind && n.container == s.container)?;
            Some(added.remove(position).1.name.to_string())
        });
        changes.push(Change::Gone { old: s.name.to_string(), new: renamed, kind: s.kind });
    }
    let mut members: Vec<(SymbolKind, String)> = members_changed.into_iter().collect();
    members.sort();
    changes.extend(members.into_iter().map(|(kind, name)| Change::Members { name, kind }));
    changes
}

/// A use of a name somewhere in the workspace.
struct Use {
    file: FileId,
    line: u32,
    /// `None` for an import (or re-export).
    role: Option<RefRole>,
}

/// Uses of `name` (references and imported names), found through the files' term postings.
fn uses_of(snapshot: &IndexSnapshot, name: &str) -> Vec<Use> {
    let term = term_of(&name.to_lowercase());
    let mut uses = Vec::new();
    for (id, entry) in snapshot.entries() {
        if postings_of(entry.terms(), term).is_empty() {
            continue;
        }
        let file = entry.index();
        for reference in &file.references {
            if file.reference_name(reference) == name {
                // A name inside an import is an import, whatever its role.
                let imported = file.imports.iter().any(|i| i.range.contains_range(reference.range));
                let role = (!imported).then_some(reference.role);
                uses.push(Use { file: id, line: file.line_index.line_col(reference.range.start).line, role });
            }
        }
        for import in &file.imports {
            if import.names.iter().any(|n| n.name == name || n.alias.as_deref() == Some(name)) {
                uses.push(Use { file: id, line: file.line_index.line_col(import.range.start).line, role: None });
            }
        }
    }
    uses
}

/// Proximity of a place to the edits, in `[0, 1)`: in an edited file, by line distance to
/// the nearest edit (below before above); elsewhere, by shared directories with the
/// edited files.
struct Nearness<'a> {
    edited: Vec<(&'a str, u32, u32)>,
}

impl Nearness<'_> {
    fn of(&self, path: &str, line: u32) -> f32 {
        let mut best = 0.0f32;
        for &(edited, start, end) in &self.edited {
            let value = if edited == path {
                // Edits usually proceed down a file: a line above counts half a line
                // further than one as far below.
                let distance = if line < start { (start - line) as f32 + 0.5 } else { line.saturating_sub(end) as f32 };
                0.5 + 0.49 / (1.0 + distance / 10.0)
            } else {
                let common = edited.split('/').zip(path.split('/')).take_while(|(x, y)| x == y).count();
                let depth = edited.split('/').count().max(path.split('/').count()) - common;
                0.49 / (1.0 + depth as f32)
            };
            best = best.max(value);
        }
        best
    }
}

/// Candidates gathered by place, the best reason kept.
#[derive(Default)]
struct Ranking {
    by_place: HashMap<(FileId, u32), (f32, String)>,
}

impl Ranking {
    fn add(&mut self, file: FileId, line: u32, score: f32, reason: impl FnOnce() -> String) {
        let slot = self.by_place.entry((file, line)).or_insert((f32::MIN, String::new()));
        if score > slot.0 {
            *slot = (score, reason());
        }
    }
}

/// Ranks the places where the next edit is likely, best first, at most `limit`. The
/// edited files' old facts come from (and are kept in) `old_facts`; files no longer edited
/// are dropped from it.
pub fn rank(
    snapshot: &IndexSnapshot,
    edits: &[Edit],
    read: &dyn Fn(FileId) -> Option<String>,
    old_facts: &mut OldFacts,
    limit: usize,
    limits: Limits,
) -> Vec<Candidate> {
    let mut by_file: Vec<(&str, Vec<&Edit>)> = Vec::new();
    for edit in edits {
        match by_file.iter_mut().find(|(p, _)| *p == edit.path) {
            Some((_, list)) => list.push(edit),
            None => by_file.push((&edit.path, vec![edit])),
        }
    }
    let nearness = Nearness { edited: edits.iter().map(|e| (e.path.as_str(), e.new_range().0, e.new_range().1)).collect() };
    let inside_edit = |path: &str, line: u32| {
        edits.iter().any(|e| !e.earlier && e.path == path && !e.new_lines.is_empty() && line >= e.new_range().0 && line <= e.new_range().1)
    };
    let path_of = |id: FileId| snapshot.file(id).map(|e| e.path.as_str()).unwrap_or("");
    let mut ranking = Ranking::default();
    // Uses of a name the edits took away count inside the edits too (`old(1) + old(2)`
    // made `new(1) + old(2)`): the name is still there to change.
    let add_uses = |ranking: &mut Ranking, name: &str, tier: f32, how: UsesOf, accept: &dyn Fn(&Use) -> bool, reason: &dyn Fn(&Use) -> String| {
        let mut uses: Vec<(f32, Use)> = uses_of(snapshot, name)
            .into_iter()
            .filter(|u| accept(u) && (how.inside_edits || !inside_edit(path_of(u.file), u.line)))
            .map(|u| (nearness.of(path_of(u.file), u.line), u))
            .collect();
        if how.only_if_rare && uses.len() > limits.uses_per_name {
            return;
        }
        uses.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (near, u) in uses.into_iter().take(limits.uses_per_name) {
            // Nearness below 0.5: not an edited file.
            let tier = if how.weak_elsewhere && near < 0.5 { TIER_NEARBY } else { tier };
            ranking.add(u.file, u.line, tier + near, || reason(&u));
        }
    };

    old_facts.retain(|path| by_file.iter().any(|(p, _)| *p == path));
    // Per edited file: its definitions' changes, and the identifiers its edits took away.
    let mut fragments: HashMap<String, (Fragment, usize)> = HashMap::default();
    for (path, file_edits) in &by_file {
        let Some(id) = snapshot.file_id(path) else { continue };
        let Some(entry) = snapshot.file(id) else { continue };
        let Some(new_text) = read(id) else { continue };
        let lang = entry.lang();
        let new = entry.index();
        let old_text = old_text(&new_text, file_edits);
        let old = old_facts.of(path, lang, &old_text);
        let changes = changed_definitions(&old, new, file_edits);
        let mut gone_names: HashSet<String> = HashSet::default();
        for change in &changes {
            match change {
                Change::Gone { old, new, kind } => {
                    gone_names.insert(old.clone());
                    // A use is certainly left behind only when nothing defines the name
                    // any more (a `cfg` twin or another type's method may still).
                    if definitions_named(snapshot, old) > 0 {
                        continue;
                    }
                    let reason = match new {
                        Some(new) => format!("uses `{old}`, renamed to `{new}` ({kind})"),
                        None => format!("uses `{old}`, which was removed ({kind})"),
                    };
                    add_uses(&mut ranking, old, TIER_REMAINING_OLD_NAME, UsesOf { inside_edits: true, ..UsesOf::default() }, &|_| true, &|_| reason.clone());
                }
                Change::Signature { name, kind, container } => {
                    // Only a callable's or a type's header is an interface: a field's,
                    // property's or variable's "signature" holds its value (the change
                    // counts as its container's members changing).
                    let callable = matches!(kind, SymbolKind::Function | SymbolKind::Method | SymbolKind::Macro);
                    let a_type = matches!(kind, SymbolKind::Struct | SymbolKind::Enum | SymbolKind::Trait | SymbolKind::Interface | SymbolKind::Class | SymbolKind::TypeAlias);
                    if !(callable || a_type) {
                        continue;
                    }
                    if let Some(container) = container.as_ref().filter(|_| *kind == SymbolKind::Method) {
                        related_methods(snapshot, name, container, id, &nearness, &inside_edit, &mut ranking);
                    }
                    // Uses by name are this definition's only when few others share it.
                    if definitions_named(snapshot, name) > MAX_DEFINITIONS_FOR_USES {
                        continue;
                    }
                    // Imports stay as they are when only the signature changed; a
                    // callable's name inside a path or a type (`std::fmt::Formatter` for
                    // a method `fmt`) is another thing of the same name.
                    let accept = |u: &Use| u.role.is_some() && (!callable || !matches!(u.role, Some(RefRole::Type | RefRole::Path)));
                    add_uses(&mut ranking, name, TIER_CHANGED_DEFINITION, UsesOf::default(), &accept, &|u| describe_use(name, *kind, u.role, "signature"));
                }
                Change::Members { name, kind } => {
                    let what = match kind {
                        SymbolKind::Enum => "variants",
                        SymbolKind::Trait | SymbolKind::Interface | SymbolKind::Class => "members",
                        _ => "fields",
                    };
                    if definitions_named(snapshot, name) > MAX_DEFINITIONS_FOR_USES {
                        continue;
                    }
                    // Literals, patterns, implementations and type positions; a call
                    // (`new Store()`, `Store::new`) is unaffected by a new member.
                    let accept = |u: &Use| u.role.is_some() && u.role != Some(RefRole::Call);
                    add_uses(&mut ranking, name, TIER_CHANGED_DEFINITION, UsesOf::default(), &accept, &|u| describe_use(name, *kind, u.role, what));
                }
            }
        }
        // Identifiers the edits took away (not definitions): the rest of a half-done
        // replacement.
        let mut touched: Vec<String> = Vec::new();
        for edit in file_edits {
            let before = names_on_lines(&old, edit.old_start, edit.old_lines.len() as u32);
            let after = names_on_lines(new, edit.new_start, edit.new_lines.len() as u32);
            touched.extend(before.symmetric_difference(&after).cloned());
            touched.extend(enclosing_definition(new, edit.new_start).map(|(name, _, _)| name));
            for name in before.difference(&after) {
                if gone_names.contains(name) {
                    continue;
                }
                // One name replaced by another reads as a rename in progress; a name
                // taken out among others, as code replaced once. Either way a name used
                // all over says nothing about its other uses.
                let (tier, reason) = match single_replacement(&before, &after) {
                    Some(new_name) => (TIER_REMAINING_OLD_NAME, format!("still uses `{name}`, replaced by `{new_name}` in the edit at {}:{}", edit.path, edit.new_start + 1)),
                    None => (TIER_REPLACED_LINE, format!("still uses `{name}`, taken out in the edit at {}:{}", edit.path, edit.new_start + 1)),
                };
                let weak_elsewhere = tier == TIER_REPLACED_LINE;
                add_uses(&mut ranking, name, tier, UsesOf { inside_edits: true, only_if_rare: true, weak_elsewhere }, &|_| true, &|_| reason.clone());
            }
            new_names_defined_nowhere(snapshot, edit, new, &before, &after, &nearness, &inside_edit, &mut ranking);
            methods_called_before_written(snapshot, id, edit, new, &before, &after, &inside_edit, &mut ranking);
            if let Some(mut fragment) = replaced_fragment(edit, &before) {
                if fragment.names.is_empty() {
                    fragment.files.push(id);
                }
                let slot = fragments.entry(fragment.tokens.join(" ")).or_insert((fragment, 0));
                if slot.0.names.is_empty() && !slot.0.files.contains(&id) {
                    slot.0.files.push(id);
                }
                slot.1 += 1;
            }
        }
        let here = FileEdits { id, path, new: &new_text, edits: file_edits };
        moved_lines(&here, &old_text, &nearness, &mut ranking);
        same_insertion_elsewhere(&here, &nearness, &mut ranking);
        lines_sharing_words(&here, &nearness, &mut ranking);
        touched.retain(|n| n.len() >= MIN_TEST_NAME);
        touched.sort();
        touched.dedup();
        tests_of(snapshot, &here, new, &touched, read, &mut ranking);
    }
    // Remaining copies of the replaced code.
    let mut replaced: Vec<(&String, &(Fragment, usize))> = fragments.iter().collect();
    replaced.sort_by(|a, b| a.0.cmp(b.0));
    for (_, (fragment, times)) in replaced {
        let terms: Vec<u32> = fragment.names.iter().map(|n| term_of(&n.to_lowercase())).collect();
        // Code with names: the files that have them all; words of a comment or a string
        // (which the index does not know): the files where the edits replaced them.
        let mut files: Vec<(f32, FileId)> = snapshot
            .entries()
            .filter(|(id, e)| if terms.is_empty() { fragment.files.contains(id) } else { terms.iter().all(|&term| !postings_of(e.terms(), term).is_empty()) })
            .map(|(id, e)| (nearness.of(&e.path, 0), id))
            .collect();
        files.sort_by(|a, b| b.0.total_cmp(&a.0));
        let shown = fragment.tokens.join("");
        let (tier, reason) = if *times >= 2 {
            (TIER_REPEATED_LINE, format!("`{shown}` was replaced {times} times; this is another copy"))
        } else {
            (TIER_REPLACED_LINE, format!("another copy of `{shown}`, which the edit replaced"))
        };
        for (_, id) in files.into_iter().take(limits.files_per_line) {
            let Some(text) = read(id) else { continue };
            let path = path_of(id);
            for line in occurrences(&text, &fragment.tokens) {
                if !inside_edit(path, line) {
                    ranking.add(id, line, tier + nearness.of(path, line), || reason.clone());
                }
            }
        }
    }

    // Last: the places next to each change in its file (edits a few lines apart are one
    // change), nearest first, in windows of 2 * NEARBY + 1 lines tiling outward (below,
    // then above).
    for (path, file_edits) in &by_file {
        let Some(id) = snapshot.file_id(path) else { continue };
        let Some(entry) = snapshot.file(id) else { continue };
        let line_count = entry.light().line_index.line_count();
        for (start, end) in changes(file_edits.iter().copied()) {
            let step = 2 * NEARBY + 1;
            for i in 0..limit as u32 {
                let below = end + NEARBY + 1 + i * step;
                if below < line_count {
                    ranking.add(id, below, TIER_NEARBY + nearness.of(path, below), || format!("near the edit at {path}:{}", start + 1));
                }
                if let Some(above) = start.checked_sub(NEARBY + 1 + i * step) {
                    ranking.add(id, above, TIER_NEARBY + nearness.of(path, above), || format!("near the edit at {path}:{}", start + 1));
                }
            }
        }
    }

    let mut candidates: Vec<Candidate> = ranking
        .by_place
        .into_iter()
        .filter_map(|((file, line), (score, reason))| {
            let entry = snapshot.file(file)?;
            Some(Candidate {
                file,
                path: entry.path.clone(),
                start_line: line,
                end_line: line,
                reason,
                score,
                definition: None,
            })
        })
        .collect();
    candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.path.cmp(&b.path)).then(a.start_line.cmp(&b.start_line)));
    candidates.truncate(limit);
    for candidate in &mut candidates {
        if let Some(entry) = snapshot.file(candidate.file) {
            candidate.definition = enclosing_definition(entry.light(), candidate.start_line);
        }
    }
    candidates
}

/// How many definitions of `name` the workspace has (implementation blocks aside).
fn definitions_named(snapshot: &IndexSnapshot, name: &str) -> usize {
    count_definitions(snapshot, name, |kind| kind != SymbolKind::Impl)
}

/// How many definitions of `name` of one of `kinds` the workspace has.
fn definitions_of_kind(snapshot: &IndexSnapshot, name: &str, kinds: &[SymbolKind]) -> usize {
    count_definitions(snapshot, name, |kind| kinds.contains(&kind))
}

/// How many definitions of `name` the workspace has whose kind `keep` takes.
fn count_definitions(snapshot: &IndexSnapshot, name: &str, keep: impl Fn(SymbolKind) -> bool) -> usize {
    snapshot
        .files_defining(name)
        .iter()
        .filter_map(|&id| snapshot.file(id))
        .map(|entry| {
            let file = entry.light();
            file.symbols_named(name).filter(|&i| keep(file.symbols[i as usize].kind)).count()
        })
        .sum()
}

/// Uses found by name are taken for a definition's own only when at most this many
/// definitions share the name (`fmt`, `type`, `new` are everybody's).
const MAX_DEFINITIONS_FOR_USES: usize = 3;

/// The methods named `name` that a changed method of `container` (kind, name, header)
/// implements, or that implement or override it, outside the edits, as the containers'
/// headers tell: a trait's or an interface's method, its implementations (`impl Shape
/// for Square`, `class A implements Shape`); a class's method, its overrides in the
/// classes that extend it; an implementation's method, the trait's declaration and the
/// other implementations of that trait, when the workspace defines the trait (a `fmt` of
/// `impl Display for X` has no declaration here, and the other `fmt`s are unrelated).
fn related_methods(
    snapshot: &IndexSnapshot,
    name: &str,
    container: &(SymbolKind, String, String),
    changed_file: FileId,
    nearness: &Nearness,
    inside_edit: &dyn Fn(&str, u32) -> bool,
    ranking: &mut Ranking,
) {
    let (kind, container_name, header) = container;
    // The traits an implementation block implements (the names before `for`) that the
    // workspace defines.
    let implemented: Vec<&str> = if *kind == SymbolKind::Impl {
        let before_for: Vec<&str> = tokens(header).map(|(_, t)| t).take_while(|t| *t != "for").collect();
        if before_for.len() == tokens(header).count() {
            return; // an inherent implementation: its methods are its own
        }
        before_for.into_iter().filter(|t| is_identifier(t) && definitions_of_kind(snapshot, t, &[SymbolKind::Trait, SymbolKind::Interface]) > 0).collect()
    } else {
        Vec::new()
    };
    let names_in = |header: &str, names: &[&str]| tokens(header).any(|(_, t)| names.contains(&t));
    for &id in snapshot.files_defining(name) {
        let Some(entry) = snapshot.file(id) else { continue };
        let file = entry.light();
        for symbol in file.symbols_named(name) {
            let symbol = &file.symbols[symbol as usize];
            let Some(parent) = symbol.parent.and_then(|p| file.symbols.get(p as usize)) else { continue };
            if symbol.kind != SymbolKind::Method {
                continue;
            }
            let related = match kind {
                // Its implementations (and, for a class, its subclasses' overrides).
                SymbolKind::Trait | SymbolKind::Interface | SymbolKind::Class => {
                    parent.name != *container_name && matches!(parent.kind, SymbolKind::Impl | SymbolKind::Class) && names_in(parent.signature(), &[container_name.as_str()])
                }
                // The trait's declaration, and its other implementations.
                _ => match parent.kind {
                    SymbolKind::Trait | SymbolKind::Interface => implemented.contains(&parent.name.as_str()),
                    SymbolKind::Impl => parent.signature() != *header && tokens(parent.signature()).map(|(_, t)| t).take_while(|t| *t != "for").any(|t| implemented.contains(&t)),
                    _ => false,
                },
            };
            if !related {
                continue;
            }
            let line = file.line_index.line_col(symbol.name_range.start).line;
            if id == changed_file && inside_edit(&entry.path, line) {
                continue;
            }
            let score = TIER_CHANGED_DEFINITION + nearness.of(&entry.path, line);
            ranking.add(id, line, score, || format!("`{name}` of {}, whose signature changed in {container_name}: an implementation or declaration of the same method", parent.name));
        }
    }
}

fn describe_use(name: &str, kind: SymbolKind, role: Option<RefRole>, what: &str) -> String {
    let how = match role {
        None => "imports",
        Some(RefRole::Call) => "calls",
        Some(RefRole::Macro) => "invokes",
        Some(RefRole::Type) => "names the type",
        _ => "uses",
    };
    format!("{how} `{name}` ({kind}), whose {what} changed")
}

/// The identifiers referenced on `count` lines from `start` (at least the start line).
fn names_on_lines(file: &FileIndex, start: u32, count: u32) -> HashSet<String> {
    if count == 0 {
        return HashSet::default();
    }
    let from = file.line_index.line_start(start.min(file.line_index.line_count().saturating_sub(1)));
    let end_line = start + count - 1;
    let to = if end_line + 1 < file.line_index.line_count() { file.line_index.line_start(end_line + 1) } else { file.line_index.len() };
    file.references
        .iter()
        .filter(|r| r.range.start >= from && r.range.start < to)
        .map(|r| file.reference_name(r).to_string())
        .collect()
}

/// When exactly one name went and one came, the one that came.
fn single_replacement(before: &HashSet<String>, after: &HashSet<String>) -> Option<String> {
    let gone: Vec<&String> = before.difference(after).collect();
    let came: Vec<&String> = after.difference(before).collect();
    (gone.len() == 1 && came.len() == 1).then(|| came[0].clone())
}

/// The code an edit replaced, as tokens: the changed span (what is left between the
/// common prefix and suffix of the old and new tokens) with one token of context on
/// each side; for a pure insertion, two tokens each side of the insertion point; the
/// context before it reaches back to a name when it has none.
struct Fragment {
    tokens: Vec<String>,
    /// The names in it (identifiers the index knows as references, not keywords): files
    /// without all of them need no look.
    names: Vec<String>,
    /// Without names (words of a comment or a string): the edited files it was replaced
    /// in, the only ones looked at.
    files: Vec<FileId>,
}

fn replaced_fragment(edit: &Edit, names: &HashSet<String>) -> Option<Fragment> {
    let old_text = edit.old_lines.join("\n");
    let new_text = edit.new_lines.join("\n");
    let old: Vec<&str> = tokens(&old_text).map(|(_, t)| t).collect();
    let new: Vec<&str> = tokens(&new_text).map(|(_, t)| t).collect();
    if old.is_empty() {
        return None;
    }
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let most = old.len().min(new.len()) - prefix;
    let suffix = old.iter().rev().zip(new.iter().rev()).take(most).take_while(|(a, b)| a == b).count();
    let (mut start, end) = if prefix + suffix == old.len() {
        (prefix.saturating_sub(2), (prefix + 2).min(old.len()))
    } else {
        (prefix.saturating_sub(1), (old.len() - suffix + 1).min(old.len()))
    };
    // Without a name (`(16)` made `(64)`), the context reaches back to the nearest one
    // (`with_capacity(16)`), a few tokens at most.
    while start > 0 && prefix - start < MAX_CONTEXT_TOKENS && !old[start..end].iter().any(|t| is_identifier(t)) {
        start -= 1;
    }
    let tokens: Vec<String> = old[start..end].iter().map(|t| t.to_string()).collect();
    let mut in_it: Vec<String> = tokens.iter().filter(|t| names.contains(t.as_str())).cloned().collect();
    in_it.sort();
    in_it.dedup();
    // Without a name, only the words of a comment (`immediately quick without`): code
    // without names (`} ) ;`, `& self ) -`) is everywhere.
    let comment = edit.old_lines.iter().all(|l| {
        let line = l.trim_start();
        line.starts_with("//") || line.starts_with("/*") || line.starts_with('*')
    });
    let worded = !in_it.is_empty() || (comment && tokens.iter().any(|t| t.len() >= 3 && is_identifier(t)));
    (tokens.len() >= 3 && worded).then_some(Fragment { tokens, names: in_it, files: Vec::new() })
}

/// How far back the context of replaced code reaches for a name.
const MAX_CONTEXT_TOKENS: usize = 4;

fn is_identifier(token: &str) -> bool {
    token.starts_with(|c: char| c.is_alphabetic() || c == '_' || c == '$')
}

/// Code tokens with their byte offsets: identifiers (with `$`), numbers, and every other
/// character that is not whitespace on its own.
fn tokens(text: &str) -> impl Iterator<Item = (usize, &str)> + '_ {
    let mut chars = text.char_indices().peekable();
    std::iter::from_fn(move || loop {
        let (start, c) = chars.next()?;
        if c.is_whitespace() {
            continue;
        }
        if c.is_alphanumeric() || c == '_' || c == '$' {
            let mut end = start + c.len_utf8();
            while let Some(&(i, c)) = chars.peek() {
                if !(c.is_alphanumeric() || c == '_' || c == '$') {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            return Some((start, &text[start..end]));
        }
        return Some((start, &text[start..start + c.len_utf8()]));
    })
}

/// Zero-based lines where the token sequence `fragment` starts in `text`.
fn occurrences(text: &str, fragment: &[String]) -> Vec<u32> {
    let all: Vec<(usize, &str)> = tokens(text).collect();
    let mut lines = Vec::new();
    if fragment.is_empty() || all.len() < fragment.len() {
        return lines;
    }
    let mut line = 0u32;
    let mut counted = 0usize;
    for i in 0..=all.len() - fragment.len() {
        if all[i].1 == fragment[0] && all[i..i + fragment.len()].iter().zip(fragment).all(|(a, b)| a.1 == b) {
            line += text[counted..all[i].0].bytes().filter(|&b| b == b'\n').count() as u32;
            counted = all[i].0;
            lines.push(line);
        }
    }
    lines
}

/// Names the edit brought in that nothing in the workspace defines, used as members,
/// calls or types (a new field set in a literal, a method called before it is written):
/// their definitions are due next to those of the names used around them (the fields
/// next to it in the literal, the method it replaced).
#[allow(clippy::too_many_arguments)]
fn new_names_defined_nowhere(
    snapshot: &IndexSnapshot,
    edit: &Edit,
    new: &FileIndex,
    before: &HashSet<String>,
    after: &HashSet<String>,
    nearness: &Nearness,
    inside_edit: &dyn Fn(&str, u32) -> bool,
    ranking: &mut Ranking,
) {
    let count = edit.new_lines.len() as u32;
    if count == 0 {
        return;
    }
    let line_of = |offset: u32| new.line_index.line_col(offset).line;
    // The role an undefined name has in the edit: a field (`Member`) goes next to the
    // fields around it; a call goes next to what it replaced only (a call of a name
    // defined nowhere is far more often a dependency's function).
    let role_in_edit = |name: &str| {
        let roles: Vec<RefRole> = new
            .references
            .iter()
            .filter(|r| new.reference_name(r) == name && (edit.new_start..edit.new_start + count).contains(&line_of(r.range.start)))
            .map(|r| r.role)
            .collect();
        if roles.contains(&RefRole::Member) {
            Some(RefRole::Member)
        } else if roles.contains(&RefRole::Call) {
            Some(RefRole::Call)
        } else {
            None
        }
    };
    let undefined: Vec<(&str, RefRole)> = after
        .difference(before)
        .map(String::as_str)
        .filter(|name| snapshot.files_defining(name).iter().all(|&f| snapshot.file(f).is_none_or(|e| e.light().symbols_named(name).next().is_none())))
        .filter_map(|name| Some((name, role_in_edit(name)?)))
        // A member defined nowhere is a field to declare only when the edit sets it in a
        // literal (`max_depth: None`); read (`pages.length`, `expect(x).not`) or taken
        // apart (`const { container } = render()`), it is a dependency's (development
        // list: 0 of 15 right before).
        .filter(|&(name, role)| role != RefRole::Member || edit.new_lines.iter().any(|line| sets_field(line, name)))
        .collect();
    if undefined.is_empty() {
        return;
    }
    let mut replaced: Vec<String> = before.difference(after).cloned().collect();
    replaced.sort();
    let mut around: Vec<String> = names_on_lines(new, edit.new_start.saturating_sub(1), count + 2)
        .into_iter()
        .filter(|n| !undefined.iter().any(|(u, _)| u == n) && !replaced.contains(n))
        .collect();
    around.sort();
    for (name, role) in undefined {
        // A call of a name defined nowhere is far more often a dependency's method
        // (`.cloned()` for `.map(|s| s.clone())`): it says where its definition is due
        // only when it replaced exactly one name, as a rename of a call would.
        let mut neighbours = if role == RefRole::Member || replaced.len() == 1 { replaced.clone() } else { Vec::new() };
        if role == RefRole::Member {
            neighbours.extend(around.iter().cloned());
        }
        for neighbour in &neighbours {
            let mut places: Vec<(FileId, &str, u32)> = Vec::new();
            for &id in snapshot.files_defining(neighbour) {
                let Some(entry) = snapshot.file(id) else { continue };
                let file = entry.light();
                for symbol in file.symbols_named(neighbour) {
                    let symbol = &file.symbols[symbol as usize];
                    let fits = match role {
                        RefRole::Member => matches!(symbol.kind, SymbolKind::Field | SymbolKind::Property),
                        _ => matches!(symbol.kind, SymbolKind::Method | SymbolKind::Function),
                    };
                    if fits {
                        places.push((id, entry.path.as_str(), file.line_index.line_col(symbol.name_range.start).line));
                    }
                }
            }
            if places.len() > MAX_NEIGHBOUR_DEFINITIONS {
                continue;
            }
            for (id, path, line) in places {
                if !inside_edit(path, line) {
                    ranking.add(id, line, TIER_CHANGED_DEFINITION + nearness.of(path, line), || {
                        format!("`{name}` is used in the edit but defined nowhere; `{neighbour}`, used next to it, is defined here")
                    });
                }
            }
        }
    }
}

/// A method the edit calls on its own type before writing it: `self.name(..)`,
/// `Self::name(..)` or `Type::name(..)` in Rust (in an `impl Type` method), `this.name(..)`
/// in a TypeScript class, where the type has no member of that name. The code does not
/// build until it is written, and it goes into the same `impl` or class: after the method
/// the edit ends in (else the one that calls it).
#[allow(clippy::too_many_arguments)]
fn methods_called_before_written(
    snapshot: &IndexSnapshot,
    id: FileId,
    edit: &Edit,
    new: &FileIndex,
    before: &HashSet<String>,
    after: &HashSet<String>,
    inside_edit: &dyn Fn(&str, u32) -> bool,
    ranking: &mut Ranking,
) {
    let count = edit.new_lines.len() as u32;
    if count == 0 {
        return;
    }
    let Some((path, spec)) = snapshot.file(id).map(|e| (e.path.clone(), e.lang().spec())) else { return };
    let lines_of = |s: &Symbol| (new.line_index.line_col(s.range.start).line, new.line_index.line_col(s.range.end).line);
    // The innermost method at a line whose parent is an `impl` or a class.
    let method_at = |line: u32| {
        new.symbols
            .iter()
            .filter(|s| matches!(s.kind, SymbolKind::Method | SymbolKind::Function))
            .filter(|s| s.parent.and_then(|p| new.symbols.get(p as usize)).is_some_and(|p| matches!(p.kind, SymbolKind::Impl | SymbolKind::Class)))
            .filter(|s| {
                let (start, end) = lines_of(s);
                start <= line && line <= end
            })
            .min_by_key(|s| {
                let (start, end) = lines_of(s);
                end - start
            })
    };
    let mut done: HashSet<&str> = HashSet::default();
    for reference in &new.references {
        let name = new.reference_name(reference);
        if reference.role != RefRole::Call || before.contains(name) || !after.contains(name) || done.contains(name) {
            continue;
        }
        let at = new.line_index.line_col(reference.range.start);
        let Some(text) = at.line.checked_sub(edit.new_start).and_then(|i| edit.new_lines.get(i as usize)) else { continue };
        let Some(head) = text.get(..at.col as usize) else { continue };
        let Some(caller) = method_at(at.line) else { continue };
        let Some(owner) = caller.parent.and_then(|p| new.symbols.get(p as usize)) else { continue };
        let type_name = crate::index::last_segment(owner.name.as_str());
        let qualifier = head.trim_end_matches(|c: char| c.is_whitespace());
        let on_own_type = spec.own_member_prefixes.iter().any(|q| qualifier.ends_with(q))
            || qualifier
                .strip_suffix(spec.path_separator)
                .is_some_and(|q| q.rsplit(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).next() == Some(type_name));
        if !on_own_type || spec.implicit_methods.contains(&name) {
            continue;
        }
        // Defined already: as a member of the type (any file, any impl), in a trait or an
        // interface (a provided method); anywhere where classes inherit (a base class's).
        let defined = snapshot.files_defining(name).iter().any(|&f| {
            snapshot.file(f).is_some_and(|e| {
                let file = e.light();
                file.symbols_named(name).any(|i| {
                    let symbol = &file.symbols[i as usize];
                    let parent_kind = symbol.parent.and_then(|p| file.symbols.get(p as usize)).map(|p| p.kind);
                    spec.inherits_members
                        || symbol.container.as_deref().is_some_and(|c| crate::index::last_segment(c) == type_name)
                        || matches!(parent_kind, Some(SymbolKind::Trait | SymbolKind::Interface))
                })
            })
        });
        if defined {
            continue;
        }
        done.insert(name);
        let last_line = edit.new_start + count - 1;
        let host = method_at(last_line).filter(|m| m.parent == caller.parent).unwrap_or(caller);
        let line = lines_of(host).1 + 1;
        if line >= new.line_index.line_count() || inside_edit(&path, line) {
            continue;
        }
        let host_name = host.name;
        ranking.add(id, line, TIER_CHANGED_DEFINITION + 0.95, || {
            format!("`{name}` is called on `{type_name}` in the edit but not defined; its definition is due here, after `{host_name}`")
        });
    }
}

/// Whether `line` sets the field `name` in a literal: `name: value` (not `name::path`),
/// not after a `.` (`a.name: T` is no literal's).
fn sets_field(line: &str, name: &str) -> bool {
    let all: Vec<&str> = tokens(line).map(|(_, t)| t).collect();
    all.iter().enumerate().any(|(i, t)| {
        *t == name && all.get(i + 1) == Some(&":") && all.get(i + 2) != Some(&":") && (i == 0 || all[i - 1] != ".")
    })
}

/// One edited file: its id, path, new text and edits.
struct FileEdits<'a> {
    id: FileId,
    path: &'a str,
    new: &'a str,
    edits: &'a [&'a Edit],
}

impl FileEdits<'_> {
    fn inside(&self, line: u32) -> bool {
        self.edits.iter().any(|e| !e.earlier && !e.new_lines.is_empty() && line >= e.new_range().0 && line <= e.new_range().1)
    }
}

/// An added line shorter than this (`}`, `Ok(())`, `break;`) says nothing about a move.
const MIN_MOVED_LINE: usize = 12;
/// A line found more often than this elsewhere in the file is common, not moved.
const MAX_MOVED_COPIES: usize = 1;

/// A comment, an attribute or a decorator line (trimmed).
fn is_annotation(line: &str) -> bool {
    line.starts_with("//") || line.starts_with("/*") || line.starts_with('*') || line.starts_with("#[") || line.starts_with("#![") || line.starts_with('@')
}

/// Code moved within a file (as likely as a copy of code replaced once, so in its tier):
/// a line of code the edits added (not one they took out, not
/// a comment) that the file had exactly once before and still has once elsewhere, outside
/// the edits: its old copy, due to go. (A line the file had twice or more is a common
/// one, written once more.)
fn moved_lines(file: &FileEdits, old: &str, nearness: &Nearness, ranking: &mut Ranking) {
    let lines: Vec<&str> = file.new.lines().map(str::trim).collect();
    let mut before: HashMap<&str, usize> = HashMap::default();
    for line in old.lines() {
        *before.entry(line.trim()).or_default() += 1;
    }
    for edit in file.edits {
        let removed: HashSet<&str> = edit.old_lines.iter().map(|l| l.trim()).collect();
        for added in &edit.new_lines {
            let added = added.trim();
            if added.len() < MIN_MOVED_LINE || removed.contains(added) || !added.chars().any(char::is_alphabetic) || is_annotation(added) {
                continue;
            }
            if before.get(added) != Some(&1) {
                continue;
            }
            let copies: Vec<u32> = lines
                .iter()
                .enumerate()
                .filter(|(i, l)| **l == added && !file.inside(*i as u32) && !(edit.new_range().0..=edit.new_range().1).contains(&(*i as u32)))
                .map(|(i, _)| i as u32)
                .collect();
            if copies.is_empty() || copies.len() > MAX_MOVED_COPIES {
                continue;
            }
            for line in copies {
                ranking.add(file.id, line, TIER_REPLACED_LINE + nearness.of(file.path, line), || {
                    format!("`{added}` was added at {}:{} and is still here (moved code?)", file.path, edit.new_start + 1)
                });
            }
        }
    }
}

/// A pure insertion of at most this many annotation lines (attributes, decorators,
/// comments) may be due before the lines like the one it went before.
const MAX_INSERTED_LINES: usize = 3;
/// The leading tokens that make lines alike.
const LEADING_TOKENS: usize = 3;
/// Lines alike taken, nearest first.
const MAX_ALIKE: usize = 3;

/// The same insertion elsewhere: annotations were inserted before a line (`#[cfg(...)]`
/// before `rgtest!(compressed_lz4, ...`); the other lines of the file that start like it
/// (`rgtest!(`) and are not already preceded by the inserted text, nearest first.
fn same_insertion_elsewhere(file: &FileEdits, nearness: &Nearness, ranking: &mut Ranking) {
    let lines: Vec<&str> = file.new.lines().collect();
    let leading = |line: &str| -> Vec<String> { tokens(line).take(LEADING_TOKENS).map(|(_, t)| t.to_string()).collect() };
    for edit in file.edits {
        if !edit.old_lines.is_empty() || edit.new_lines.is_empty() || edit.new_lines.len() > MAX_INSERTED_LINES {
            continue;
        }
        // An annotation of what follows (`#[cfg(...)]`, `@action`, a comment): statements
        // inserted are the code's own business.
        if !edit.new_lines.iter().all(|l| is_annotation(l.trim())) {
            continue;
        }
        let anchor_line = edit.new_start as usize + edit.new_lines.len();
        let Some(anchor) = lines.get(anchor_line) else { continue };
        let start = leading(anchor);
        if start.len() < LEADING_TOKENS || !start.iter().any(|t| is_identifier(t)) {
            continue;
        }
        let last_inserted = edit.new_lines.last().map(|l| l.trim()).unwrap_or_default();
        let mut alike: Vec<(f32, u32)> = lines
            .iter()
            .enumerate()
            .filter(|(i, l)| *i != anchor_line && !file.inside(*i as u32) && leading(l) == start)
            .filter(|(i, _)| *i == 0 || lines[i - 1].trim() != last_inserted)
            .map(|(i, _)| (nearness.of(file.path, i as u32), i as u32))
            .collect();
        alike.sort_by(|a, b| b.0.total_cmp(&a.0));
        let shown = start.join("");
        for (near, line) in alike.into_iter().take(MAX_ALIKE) {
            ranking.add(file.id, line, TIER_REPLACED_LINE + near, || {
                format!("lines were inserted before a line starting `{shown}` at {}:{}; this one starts the same", file.path, edit.new_start + 1)
            });
        }
    }
}

/// Lines of an edited file that share words with its edits: taken from the best, at most
/// this many.
const MAX_SHARING_LINES: usize = 5;
/// Words shorter than this (`i`, `id`, `x`) say little about a line.
const MIN_SHARED_WORD: usize = 3;
/// Edits of one file this few lines apart or less are one change: the lines between them
/// are its context, not another place.
const SAME_CHANGE_GAP: u32 = 3;
/// The score of the best line sharing words with the edits: just above the nearest window
/// (0.85); each next one 0.01 lower, so they alternate with the nearest windows (development
/// list: the best such line was right 33 times in 100, the nearest window 18).
const SHARING_SCORE: f32 = TIER_NEARBY + 0.855;
const SHARING_STEP: f32 = 0.01;

/// Keywords of Rust and TypeScript (and the most common primitive names), which are no
/// words a line shares with an edit.
const KEYWORDS: &[&str] = &[
    "abstract", "any", "as", "async", "await", "bool", "boolean", "break", "case", "catch", "char", "class", "const", "continue", "crate", "debugger", "declare", "default", "delete",
    "do", "dyn", "else", "enum", "export", "extends", "extern", "false", "finally", "fn", "for", "from", "function", "get", "if", "impl", "implements", "import", "in", "instanceof",
    "interface", "keyof", "let", "loop", "match", "mod", "move", "mut", "namespace", "never", "new", "null", "number", "object", "of", "private", "protected", "pub", "public",
    "readonly", "ref", "return", "self", "Self", "set", "static", "str", "string", "struct", "super", "symbol", "this", "throw", "trait", "true", "try", "type", "typeof", "undefined",
    "unknown", "unsafe", "use", "usize", "var", "void", "where", "while", "with", "yield", "Some", "None", "Ok", "Err", "Option", "Result", "String", "Vec", "u8", "u16", "u32",
    "u64", "i8", "i16", "i32", "i64", "isize", "f32", "f64",
];

/// The changes of one file: its edits' new lines (zero-based, inclusive), those at most
/// `SAME_CHANGE_GAP` lines apart merged into one, in file order.
fn changes<'a>(edits: impl Iterator<Item = &'a Edit>) -> Vec<(u32, u32)> {
    let mut spans: Vec<(u32, u32)> = edits.map(Edit::new_range).collect();
    spans.sort();
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 + SAME_CHANGE_GAP + 1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The words (identifiers, and the words of comments and strings) of at least
/// `MIN_SHARED_WORD` characters in `lines`, keywords left out.
fn words_of<'a>(lines: impl Iterator<Item = &'a str>) -> HashSet<&'a str> {
    lines.flat_map(|line| tokens(line).map(|(_, t)| t)).filter(|t| t.len() >= MIN_SHARED_WORD && is_identifier(t) && !KEYWORDS.contains(t)).collect()
}

/// The lines of an edited file that share the most words with its edits (the words
/// removed and added, comments and strings included): a change is often made again where
/// the same names and words are (another call of the function a line now calls
/// differently, the comment that says the same thing). Most shared words first, then the
/// nearest; not within `NEARBY` lines of a better one, not inside the change (the edits
/// and the lines between edits at most `SAME_CHANGE_GAP` apart).
fn lines_sharing_words(file: &FileEdits, nearness: &Nearness, ranking: &mut Ranking) {
    // A server's earlier edits are context: the words of the latest ones count.
    let latest: Vec<&&Edit> = file.edits.iter().filter(|e| !e.earlier).collect();
    let edits: Vec<&&Edit> = if latest.is_empty() { file.edits.iter().collect() } else { latest };
    let words = words_of(edits.iter().flat_map(|e| e.old_lines.iter().chain(&e.new_lines)).map(String::as_str));
    if words.is_empty() {
        return;
    }
    let changed = changes(edits.iter().map(|e| **e));
    let in_change = |line: u32| changed.iter().any(|&(start, end)| start <= line && line <= end);
    let mut sharing: Vec<(usize, f32, u32)> = file
        .new
        .lines()
        .enumerate()
        .filter(|&(i, _)| !in_change(i as u32))
        .map(|(i, line)| (words_of(std::iter::once(line)).intersection(&words).count(), nearness.of(file.path, i as u32), i as u32))
        .filter(|&(count, _, _)| count > 0)
        .collect();
    sharing.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut taken: Vec<(u32, usize)> = Vec::new();
    for (count, _, line) in sharing {
        if taken.len() == MAX_SHARING_LINES {
            break;
        }
        if taken.iter().any(|&(other, _)| other.abs_diff(line) <= NEARBY) {
            continue;
        }
        let score = SHARING_SCORE - SHARING_STEP * taken.len() as f32;
        taken.push((line, count));
        ranking.add(file.id, line, score, || format!("shares {count} word(s) with the edit at {}:{}", file.path, edits[0].new_start + 1));
    }
}

/// Where a new test of edited code goes: after the nearest places next to the edits,
/// before the farther ones (a fixed score in the last tier: the two windows next to
/// the first edit come first).
const TESTS_SCORE: f32 = TIER_NEARBY + 0.8;

/// The tests of edited code: the end of the edited Rust file's `mod tests` (when the
/// edits are outside it), the end of a test file named after the edited file
/// (`x.test.ts`, `x.spec.tsx` for `x.ts`); a change is often followed by its test.
fn tests_of(snapshot: &IndexSnapshot, file: &FileEdits, new: &FileIndex, names: &[String], read: &dyn Fn(FileId) -> Option<String>, ranking: &mut Ranking) {
    let is_test_path = |path: &str| path.split('/').any(|part| part == "tests" || part == "__tests__" || part.contains(".test.") || part.contains(".spec.") || part.contains(".test-d."));
    if is_test_path(file.path) {
        return;
    }
    let line_of = |offset: u32| new.line_index.line_col(offset).line;
    for module in new.symbols.iter().filter(|s| s.kind == SymbolKind::Module && s.name == "tests") {
        let (start, end) = (line_of(module.range.start), line_of(module.range.end));
        if file.edits.iter().all(|e| e.new_range().1 < start || e.new_range().0 > end) {
            ranking.add(file.id, end, TESTS_SCORE, || format!("the end of the tests of {}, where a test of the edit would go", file.path));
            let lines: Vec<&str> = file.new.lines().collect();
            named_tests(file.id, file.path, &lines, start, end, names, ranking);
        }
    }
    let (dir, name) = file.path.rsplit_once('/').unwrap_or(("", file.path));
    let Some((stem, _)) = name.split_once('.') else { return };
    let mut tests: Vec<(usize, FileId, &str, u32)> = Vec::new();
    for (id, entry) in snapshot.entries() {
        let (test_dir, test_name) = entry.path.rsplit_once('/').unwrap_or(("", entry.path.as_str()));
        let Some(rest) = test_name.strip_prefix(stem).and_then(|r| r.strip_prefix('.')) else { continue };
        if !(rest.starts_with("test.") || rest.starts_with("spec.") || rest.starts_with("test-d.")) {
            continue;
        }
        let shared = dir.split('/').zip(test_dir.split('/')).take_while(|(a, b)| a == b).count();
        let last = entry.light().line_index.line_count().saturating_sub(2);
        tests.push((usize::MAX - shared, id, entry.path.as_str(), last));
    }
    tests.sort();
    for (_, id, path, last) in tests.into_iter().take(2) {
        ranking.add(id, last, TESTS_SCORE, || format!("the end of {path}, the tests of {}, where a test of the edit would go", file.path));
        if let Some(text) = read(id) {
            let lines: Vec<&str> = text.lines().collect();
            named_tests(id, path, &lines, 0, lines.len().saturating_sub(1) as u32, names, ranking);
        }
    }
}

/// A new test of edited code often goes right after the test named after what the edit
/// touched (`fn max_depth()` for an edit adding `max_depth`): above the end of the tests.
const NAMED_TEST_SCORE: f32 = TIER_NEARBY + 0.86;
/// Names shorter than this (`id`, `new`) name no test. The names an edit touched are the
/// identifiers it took out or brought in (references, not a comment's words) and the
/// definition holding it.
const MIN_TEST_NAME: usize = 4;

/// A name as a test's title or name spells it: lowercase, without `_`, `-` or spaces.
fn squashed(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// The tests in `lines[start..=end]` (a Rust `#[test]` function, a TypeScript `it(...)` or
/// `test(...)`) whose name or title holds one of `names`: the line before the next test
/// (the end of that one), where a test of the same thing would go next.
fn named_tests(id: FileId, path: &str, lines: &[&str], start: u32, end: u32, names: &[String], ranking: &mut Ranking) {
    if names.is_empty() {
        return;
    }
    let is_test_start = |line: &str| {
        let line = line.trim_start();
        line.starts_with("#[test]") || line.starts_with("it(") || line.starts_with("test(") || line.starts_with("it.") || line.starts_with("test.")
    };
    let squashed_names: Vec<(String, &String)> = names.iter().map(|n| (squashed(n), n)).collect();
    let starts: Vec<u32> = (start..=end.min(lines.len().saturating_sub(1) as u32)).filter(|&i| is_test_start(lines[i as usize])).collect();
    let mut named: Vec<(usize, u32, u32, &String)> = Vec::new();
    for (k, &test) in starts.iter().enumerate() {
        // The title: the test's first line, and for `#[test]` the `fn` line after it.
        let title: String = lines[test as usize..].iter().take(2).map(|l| squashed(l)).collect();
        let Some((squashed_name, name)) = squashed_names.iter().filter(|(n, _)| title.contains(n.as_str())).max_by_key(|(n, _)| n.len()) else { continue };
        let next = starts.get(k + 1).copied().unwrap_or(end + 1);
        named.push((usize::MAX - squashed_name.len(), test, next.saturating_sub(1).max(test), name));
    }
    // The tests named after the longest (most specific) names, in file order.
    named.sort();
    for (_, test, last, name) in named.into_iter().take(MAX_NAMED_TESTS) {
        ranking.add(id, last, NAMED_TEST_SCORE, || format!("the end of the test at {path}:{}, named after `{name}`, which the edit touched: a test of the edit would go next", test + 1));
    }
}

/// Named tests taken per test file.
const MAX_NAMED_TESTS: usize = 2;

/// A neighbour defined in more places than this says little about where a new name goes.
const MAX_NEIGHBOUR_DEFINITIONS: usize = 5;

fn enclosing_definition(file: &FileIndex, line: u32) -> Option<(String, u32, u32)> {
    file.symbols
        .iter()
        .filter(|s| !s.kind.is_container() && !s.kind.is_member())
        .map(|s| (s, file.line_index.line_col(s.range.start).line, file.line_index.line_col(s.range.end).line))
        .filter(|(_, start, end)| *start <= line && line <= *end)
        .min_by_key(|(_, start, end)| end - start)
        .map(|(s, start, end)| (s.name.to_string(), start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unified_diff_into_edits_with_their_lines() {
        let diff = "diff --git a/src/a.rs b/src/a.rs\nindex 1..2 100644\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,4 +1,3 @@\n fn a() {}\n-fn b() {}\n+fn b(x: u32) {}\n fn c() {}\n-fn d() {}\n@@ -10,0 +10,1 @@\n+// new\ndiff --git a/x.ts b/x.ts\nnew file mode 100644\n--- /dev/null\n+++ b/x.ts\n@@ -0,0 +1,2 @@\n+let a = 1;\n+let b = 2;\n";
        let edits = parse_unified_diff(diff);
        assert_eq!(edits.len(), 4, "{edits:#?}");
        assert_eq!(edits[0], Edit { path: "src/a.rs".into(), old_start: 1, old_lines: vec!["fn b() {}".into()], new_start: 1, new_lines: vec!["fn b(x: u32) {}".into()], earlier: false });
        assert_eq!((edits[1].old_start, edits[1].new_start, edits[1].old_lines.len(), edits[1].new_lines.len()), (3, 3, 1, 0));
        assert_eq!((edits[2].old_start, edits[2].new_start, edits[2].new_lines.clone()), (10, 9, vec!["// new".to_string()]));
        assert_eq!((edits[3].path.as_str(), edits[3].new_start, edits[3].new_lines.len()), ("x.ts", 0, 2));
    }

    #[test]
    fn old_text_is_rebuilt_from_the_new_text_and_the_edits() {
        let old = "fn a() {}\nfn b() {}\nfn c() {}\nfn d() {}\n";
        let new = "fn a() {}\nfn b(x: u32) {}\nfn c() {}\nfn e() {}\nfn f() {}\n";
        let diff = "--- a/a.rs\n+++ b/a.rs\n@@ -1,4 +1,5 @@\n fn a() {}\n-fn b() {}\n+fn b(x: u32) {}\n fn c() {}\n-fn d() {}\n+fn e() {}\n+fn f() {}\n";
        let edits = parse_unified_diff(diff);
        let refs: Vec<&Edit> = edits.iter().collect();
        assert_eq!(old_text(new, &refs), old);
    }

    #[test]
    fn renames_signatures_and_members_are_told_apart() {
        let old_src = "struct P { x: u32 }\nfn keep() {}\nfn old_name() {}\nfn sig(a: u32) {}\n";
        let new_src = "struct P { x: u32, y: u32 }\nfn keep() {}\nfn new_name() {}\nfn sig(a: u32, b: u32) {}\n";
        let diff = "--- a/a.rs\n+++ b/a.rs\n@@ -1,4 +1,4 @@\n-struct P { x: u32 }\n+struct P { x: u32, y: u32 }\n fn keep() {}\n-fn old_name() {}\n-fn sig(a: u32) {}\n+fn new_name() {}\n+fn sig(a: u32, b: u32) {}\n";
        let edits = parse_unified_diff(diff);
        let refs: Vec<&Edit> = edits.iter().collect();
        let facts = |text: &str| crate::index::extract(Lang::Rust, text, &parse(Lang::Rust, text, None));
        let changes = changed_definitions(&facts(old_src), &facts(new_src), &refs);
        assert!(changes.contains(&Change::Gone { old: "old_name".into(), new: Some("new_name".into()), kind: SymbolKind::Function }), "{changes:?}");
        assert!(changes.iter().any(|c| matches!(c, Change::Signature { name, .. } if name == "sig")), "{changes:?}");
        assert!(changes.contains(&Change::Members { name: "P".into(), kind: SymbolKind::Struct }), "{changes:?}");
        assert!(!changes.iter().any(|c| format!("{c:?}").contains("keep")), "{changes:?}");
    }

    /// Ranks the places after the edits that turn the fixture's files (`//- /path`
    /// headers) into `changed` (path, new text): the edits are the diff of each file.
    fn ranked(fixture: &str, changed: &[(&str, &str)]) -> Vec<(String, u32, String)> {
        let mut index = crate::index::WorkspaceIndex::new();
        let mut texts: HashMap<String, String> = HashMap::default();
        let mut edits = Vec::new();
        for part in fixture.split("//- /").skip(1) {
            let (path, old) = part.split_once('\n').unwrap();
            let path = path.trim();
            let new = changed.iter().find(|(p, _)| *p == path).map_or(old, |(_, text)| *text);
            let lang = Lang::from_path(std::path::Path::new(path)).unwrap();
            index.insert(crate::index::FileEntry::new(path.to_string(), 0, crate::index::extract(lang, new, &parse(lang, new, None))));
            let diff = similar::TextDiff::from_lines(old, new);
            edits.extend(parse_unified_diff(&diff.unified_diff().context_radius(0).header(&format!("a/{path}"), &format!("b/{path}")).to_string()));
            texts.insert(path.to_string(), new.to_string());
        }
        let snapshot = index.snapshot();
        let read = |id| snapshot.file(id).and_then(|e| texts.get(&e.path).cloned());
        rank(&snapshot, &edits, &read, &mut OldFacts::default(), 10, Limits::default())
            .into_iter()
            .map(|c| (c.path, c.start_line + 1, c.reason))
            .collect()
    }

    fn places_at(found: &[(String, u32, String)], path: &str) -> Vec<u32> {
        found.iter().filter(|(p, _, _)| p == path).map(|(_, line, _)| *line).collect()
    }

    #[test]
    fn a_definition_the_edits_do_not_touch_has_not_changed() {
        // Facts that differ for a definition outside the edits (a big file parsed in
        // segments, twins matched the other way round) are no change of it.
        let old_src = "#[cfg(unix)]\nfn dev(p: u32) -> u32 { p }\n#[cfg(windows)]\nfn dev(p: u64) -> u64 { p }\nfn keep(a: u32) {}\nfn edited() {}\n";
        let new_src = "#[cfg(unix)]\nfn dev(p: u32) -> u32 { p }\n#[cfg(windows)]\nfn dev(p: u64) -> u64 { p }\nfn keep(a: u32, b: u32) {}\nfn edited(x: u32) {}\n";
        let facts = |text: &str| crate::index::extract(Lang::Rust, text, &parse(Lang::Rust, text, None));
        let (old, new) = (facts(old_src), facts(new_src));
        // Only the last line is edited; `keep`'s header differs in the facts all the same.
        let edit = Edit { path: "a.rs".into(), old_start: 5, old_lines: vec!["fn edited() {}".into()], new_start: 5, new_lines: vec!["fn edited(x: u32) {}".into()], earlier: false };
        let changes = changed_definitions(&old, &new, &[&edit]);
        let names: Vec<String> = changes.iter().map(|c| format!("{c:?}")).collect();
        assert!(names.iter().any(|c| c.contains("\"edited\"")), "{names:?}");
        assert!(!names.iter().any(|c| c.contains("\"keep\"") || c.contains("\"dev\"")), "untouched definitions: {names:?}");
        // Twins in the other order, one of them edited to the other's header: no change.
        let swapped = "#[cfg(windows)]\nfn dev(p: u64) -> u64 { p }\n#[cfg(unix)]\nfn dev(p: u32) -> u32 { p }\nfn keep(a: u32) {}\nfn edited() {}\n";
        let edits = parse_unified_diff(&similar::TextDiff::from_lines(old_src, swapped).unified_diff().context_radius(0).header("a/a.rs", "b/a.rs").to_string());
        let refs: Vec<&Edit> = edits.iter().collect();
        let changes = changed_definitions(&old, &facts(swapped), &refs);
        assert!(!changes.iter().any(|c| matches!(c, Change::Signature { .. })), "{changes:?}");
    }

    const SHAPES: &str = r#"
//- /src/shape.rs
pub trait Shape {
    fn area(&self) -> u32;
}
//- /src/square.rs
use crate::shape::Shape;
pub struct Square(u32);
impl Shape for Square {
    fn area(&self) -> u32 {
        self.0 * self.0
    }
}
impl std::fmt::Display for Square {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "square")
    }
}
//- /src/circle.rs
use crate::shape::Shape;
pub struct Circle(u32);
impl Shape for Circle {
    fn area(&self) -> u32 {
        3 * self.0 * self.0
    }
}
impl std::fmt::Display for Circle {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "circle")
    }
}
"#;

    #[test]
    fn a_trait_methods_new_signature_points_at_its_implementations() {
        let found = ranked(SHAPES, &[("src/shape.rs", "pub trait Shape {\n    fn area(&self, scale: u32) -> u32;\n}\n")]);
        assert!(places_at(&found, "src/square.rs").contains(&4) && places_at(&found, "src/circle.rs").contains(&4), "{found:#?}");
        assert!(!found.iter().any(|(_, line, _)| *line == 9), "no `fmt`: {found:#?}");
    }

    #[test]
    fn an_implementations_new_signature_points_at_the_traits_declaration_and_its_siblings() {
        let square = SHAPES.split("//- /src/square.rs\n").nth(1).unwrap().split("//- /").next().unwrap();
        let new = square.replace("fn area(&self) -> u32 {", "fn area(&self, scale: u32) -> u32 {");
        let found = ranked(SHAPES, &[("src/square.rs", &new)]);
        assert!(places_at(&found, "src/shape.rs").contains(&2), "the declaration: {found:#?}");
        assert!(places_at(&found, "src/circle.rs").contains(&4), "the sibling: {found:#?}");
    }

    #[test]
    fn a_foreign_traits_method_changed_in_one_implementation_points_at_no_other() {
        // `Display` is not the workspace's: the other `fmt`s are unrelated to this one.
        let square = SHAPES.split("//- /src/square.rs\n").nth(1).unwrap().split("//- /").next().unwrap();
        let new = square.replace("f: &mut std::fmt::Formatter)", "f: &mut std::fmt::Formatter<'_>)");
        let found = ranked(SHAPES, &[("src/square.rs", &new)]);
        // (The other `fmt`'s header is a copy of the replaced code, found as such.)
        assert!(!found.iter().any(|(_, _, reason)| reason.contains("`fmt`")), "no `fmt` as a related method or a use: {found:#?}");
    }

    #[test]
    fn a_class_methods_new_signature_points_at_overrides_and_implementations_not_at_other_classes() {
        let fixture = r#"
//- /src/base.ts
export interface Named {
  label(prefix: string): string
}
export class Base implements Named {
  label(prefix: string): string {
    return prefix
  }
}
//- /src/child.ts
import { Base } from './base'
export class Child extends Base {
  label(prefix: string): string {
    return prefix + '!'
  }
}
export class Other {
  label(prefix: string): string {
    return prefix
  }
}
"#;
        let base = fixture.split("//- /src/base.ts\n").nth(1).unwrap().split("//- /").next().unwrap();
        let new = base.replace("  label(prefix: string): string {", "  label(prefix: string, suffix: string): string {");
        let found = ranked(fixture, &[("src/base.ts", &new)]);
        assert!(places_at(&found, "src/child.ts").contains(&3), "the override: {found:#?}");
        assert!(!places_at(&found, "src/child.ts").contains(&8), "another class's method: {found:#?}");
        // The interface's declaration changed: the class implementing it.
        let new = base.replace("  label(prefix: string): string\n}", "  label(prefix: string, suffix: string): string\n}");
        let found = ranked(fixture, &[("src/base.ts", &new)]);
        assert!(places_at(&found, "src/base.ts").contains(&5), "the implementation: {found:#?}");
        assert!(!places_at(&found, "src/child.ts").contains(&8), "{found:#?}");
    }

    #[test]
    fn an_edit_points_after_the_test_named_after_a_name_it_touched() {
        let fixture = r#"
//- /src/walk.rs
pub struct Walk {
    depth: usize,
}
pub fn walk(depth: usize) -> Walk {
    Walk { depth }
}
pub fn max_depth(walk: &Walk) -> usize {
    walk.depth
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_once() {
        assert_eq!(walk(1).depth, 1);
    }

    #[test]
    fn max_depth_of_a_walk() {
        assert_eq!(max_depth(&walk(2)), 2);
    }

    #[test]
    fn min_depth() {
        assert_eq!(walk(0).depth, 0);
    }
}
"#;
        let old = fixture.split("//- /src/walk.rs\n").nth(1).unwrap();
        let new = old.replace("    Walk { depth }\n", "    let walked = Walk { depth };\n    max_depth(&walked);\n    walked\n");
        let found = ranked(fixture, &[("src/walk.rs", &new)]);
        let named: Vec<&(String, u32, String)> = found.iter().filter(|(_, _, reason)| reason.contains("named after")).collect();
        // After `fn walk_once` (the edited definition's name) and `fn max_depth_of_a_walk`
        // (a name the edit brought in), on the line before the next test; not after
        // `fn min_depth`.
        assert_eq!(named.iter().map(|(_, line, _)| *line).collect::<Vec<_>>(), vec![20, 25], "{found:#?}");
        assert!(named[0].2.contains("`walk`") && named[1].2.contains("`max_depth`"), "{found:#?}");
    }

    #[test]
    fn a_line_far_from_the_edit_that_shares_its_words_comes_before_the_nearest_windows() {
        let mut old = String::from("fn read(header: &Header, len: usize) -> bool {\n    let header_len = header.len();\n    header_len == len\n}\n");
        for i in 0..30 {
            old.push_str(&format!("fn filler_{i}() {{}}\n"));
        }
        old.push_str("fn write(header: &Header, len: usize) {\n    let crc_ok = check_header_crc(header, len);\n    emit(header, crc_ok);\n}\n");
        let fixture = format!("\n//- /src/io.rs\n{old}");
        // Two insertions one line apart: `let header_len = ...` between them is the change's.
        let new = old.replacen("    let header_len = header.len();\n", "    check_header_crc(header, len);\n    let header_len = header.len();\n    check_header_crc(header, header_len);\n", 1);
        let found = ranked(&fixture, &[("src/io.rs", &new)]);
        // `let crc_ok = check_header_crc(header, len);`, 34 lines below, shares 3 words.
        assert_eq!((found[0].0.as_str(), found[0].1), ("src/io.rs", 38), "{found:#?}");
        assert!(found[0].2.starts_with("shares 3 word(s) with the edit"), "{found:#?}");
        assert!(found[1].2.starts_with("near the edit"), "the nearest window next: {found:#?}");
        assert!(!places_at(&found, "src/io.rs").contains(&3), "inside the change: {found:#?}");
    }

    #[test]
    fn the_nearest_windows_tile_outward_from_the_change_not_from_each_of_its_edits() {
        let old: String = (0..40).map(|i| format!("fn f{i}() {{}}\n")).collect();
        let fixture = format!("\n//- /src/a.rs\n{old}");
        // Lines 10 and 12 edited: one change, lines 10-12.
        let new = old.replacen("fn f9() {}", "fn f9() { let _ = 1; }", 1).replacen("fn f11() {}", "fn f11() { let _ = 1; }", 1);
        let found = ranked(&fixture, &[("src/a.rs", &new)]);
        let near: Vec<u32> = found.iter().filter(|(_, _, r)| r.starts_with("near the edit")).map(|(_, line, _)| *line).collect();
        assert_eq!(near[..4], [16, 6, 23, 30], "{found:#?}");
    }

    #[test]
    fn a_member_defined_nowhere_points_at_the_fields_only_when_the_edit_sets_it_in_a_literal() {
        let fixture = "\n//- /src/page.rs\npub struct Page {\n    pub items: Vec<u32>,\n}\npub fn count(page: &Page) -> usize {\n    page.items.len()\n}\npub fn empty() -> Page {\n    Page { items: Vec::new() }\n}\n";
        let old = fixture.split("//- /src/page.rs\n").nth(1).unwrap();
        let nowhere = |found: &[(String, u32, String)]| found.iter().filter(|(_, _, r)| r.contains("defined nowhere")).map(|(_, line, _)| *line).collect::<Vec<u32>>();
        // Read: a dependency's member as far as the workspace knows.
        let read = old.replace("page.items.len()", "page.items.len() + page.extra_len");
        let found = ranked(fixture, &[("src/page.rs", &read)]);
        assert!(nowhere(&found).is_empty(), "{found:#?}");
        // Set in a literal: a field to declare, next to `items`.
        let set = old.replace("Page { items: Vec::new() }", "Page { items: Vec::new(), extra_len: 0 }");
        let found = ranked(fixture, &[("src/page.rs", &set)]);
        assert_eq!(nowhere(&found), vec![2], "{found:#?}");
    }

    #[test]
    fn a_method_called_on_its_own_type_before_it_is_written_is_due_after_the_method_of_the_edit() {
        let rust = "pub struct Walker { pub paths: Vec<String> }\nimpl Walker {\n    pub fn new(path: &str) -> Walker {\n        Walker { paths: vec![path.to_string()] }\n    }\n    pub fn add(&mut self, path: &str) {\n        self.paths.push(path.to_string());\n    }\n}\n";
        let other = "pub struct Other;\nimpl Other {\n    pub fn from_list(x: &str) -> u32 { x.len() as u32 }\n}\n#[derive(Clone)]\npub struct Copyable;\n";
        let fixture = format!("\n//- /src/walk.rs\n{rust}//- /src/other.rs\n{other}");
        let called = |found: &[(String, u32, String)]| found.iter().filter(|(_, _, r)| r.contains("is called on")).map(|(p, l, _)| (p.clone(), *l)).collect::<Vec<_>>();
        // `Walker::from_list` exists only on another type: due in `impl Walker`, after `new`.
        let new = rust.replace("Walker { paths: vec![path.to_string()] }", "Walker::from_list(path)");
        let found = ranked(&fixture, &[("src/walk.rs", &new)]);
        assert_eq!(called(&found), vec![("src/walk.rs".to_string(), 6)], "{found:#?}");
        // `self.` and `Self::` alike; a derived method or another type's function is none.
        let new = rust.replace("self.paths.push(path.to_string());", "self.paths.push(Self::normalize(path));");
        assert_eq!(called(&ranked(&fixture, &[("src/walk.rs", &new)])), vec![("src/walk.rs".to_string(), 9)]);
        let new = rust.replace("self.paths.push(path.to_string());", "self.clone_from(&self.clone());\n        Other::from_list(path);");
        assert!(called(&ranked(&fixture, &[("src/walk.rs", &new)])).is_empty());
        // TypeScript: `this.name()` defined nowhere in the workspace; a name some class
        // defines (a base class's, perhaps) is none.
        let ts = "export class Store {\n  load(key: string) {\n    return key\n  }\n  save() {}\n}\nexport class Base {\n  reset() {}\n}\n";
        let fixture = format!("\n//- /src/store.ts\n{ts}");
        let new = ts.replace("    return key\n", "    return this.normalize(key)\n");
        assert_eq!(called(&ranked(&fixture, &[("src/store.ts", &new)])), vec![("src/store.ts".to_string(), 5)]);
        let new = ts.replace("    return key\n", "    this.reset()\n    return key\n");
        assert!(called(&ranked(&fixture, &[("src/store.ts", &new)])).is_empty());
    }

    #[test]
    fn a_name_taken_out_among_other_changes_is_followed_elsewhere_only_after_the_places_near_the_edit() {
        let mut a = String::from("pub fn total(x: u32) -> u32 {\n    let v = scale_up(x) + offset_by(x);\n    v\n}\n");
        for i in 0..12 {
            a.push_str(&format!("fn f{i}() {{}}\n"));
        }
        let fixture = format!("\n//- /src/a.rs\n{a}//- /src/b.rs\npub fn other(y: u32) -> u32 {{\n    scale_up(y)\n}}\n");
        let new = a.replacen("scale_up(x) + offset_by(x)", "x + 1", 1);
        let found = ranked(&fixture, &[("src/a.rs", &new)]);
        let elsewhere = found.iter().position(|(path, _, _)| path == "src/b.rs");
        let last_near = found.iter().rposition(|(path, _, reason)| path == "src/a.rs" && reason.starts_with("near the edit"));
        assert!(last_near.is_some() && elsewhere.is_none_or(|at| Some(at) > last_near), "{found:#?}");
        assert!(elsewhere.is_none_or(|at| found[at].2.contains("taken out")), "{found:#?}");
    }

    #[test]
    fn old_facts_are_parsed_once_per_text_and_dropped_with_their_file() {
        let mut facts = OldFacts::default();
        let first = facts.of("a.rs", Lang::Rust, "fn a() {}\n");
        let again = facts.of("a.rs", Lang::Rust, "fn a() {}\n");
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(facts.parsed, 1);
        let changed = facts.of("a.rs", Lang::Rust, "fn b() {}\n");
        assert_eq!((facts.parsed, changed.symbols[0].name.as_str()), (2, "b"));
        facts.of("b.ts", Lang::TypeScript, "function c() {}\n");
        facts.retain(|path| path == "b.ts");
        assert_eq!(facts.len(), 1);
        facts.of("a.rs", Lang::Rust, "fn b() {}\n");
        assert_eq!(facts.parsed, 4, "a file dropped is parsed again");
    }

    /// A generated file's old text is extracted as the index extracts its new one: with
    /// `generated_files = "full"` its references are there to compare, and a change of
    /// the setting drops the facts kept under the other.
    #[test]
    fn old_facts_follow_the_generated_files_setting() {
        use crate::index::GeneratedFiles;
        let text: String = (0..600).map(|i| format!("pub const C{i}: u32 = BASE;\n")).collect();
        let mut facts = OldFacts::default();
        assert!(facts.of("gen.rs", Lang::Rust, &text).references.is_empty(), "symbols only by default");
        facts.set_generated(GeneratedFiles::Full);
        let full = facts.of("gen.rs", Lang::Rust, &text);
        assert!(full.references.len() >= 600, "references with \"full\": {}", full.references.len());
        assert_eq!(facts.parsed, 2, "the setting's change parses the text again");
        facts.set_generated(GeneratedFiles::Full);
        facts.of("gen.rs", Lang::Rust, &text);
        assert_eq!(facts.parsed, 2, "the same setting keeps the facts");
        assert!(!OldFacts::new(GeneratedFiles::Full).of("gen.rs", Lang::Rust, &text).references.is_empty());
    }
}
