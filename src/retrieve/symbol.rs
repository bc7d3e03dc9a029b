//! The symbol-graph generator: names used around the cursor (the enclosing function's
//! signature, the enclosing impl or class, the rest of the file, weighted by distance and
//! role), names the file imports, and names in the query, resolved to their definitions
//! in other files (the current file is already in the prompt); imports and qualifiers
//! (`Type::method`, `module::item`) are preferred over mere name equality. Items of
//! modules imported whole are ranked by how much their names share with what the
//! function is about and by how many of the workspace's files naming the module use
//! them (co-usage); a type brings its constructor; workspace macros come last.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap as HashMap;

use super::cache::Definition;
use super::{identifiers, innermost, ContextRequest, Hit, Score, Target};
use crate::index::terms::subtokens;
use crate::index::{FileEntry, FileId, FileIndex, Import, ImportKind, IndexSnapshot, ModuleResolver, RefRole, ReferenceCounts, ResolvedImport, Symbol, SymbolKind};

/// What a name weighs for each time the enclosing function's signature or doc, or the
/// query, names it.
const QUERY_WEIGHT: f32 = 2.0;

/// Weight of a name by where and how it is used.
fn role_weight(role: RefRole) -> f32 {
    match role {
        RefRole::Call | RefRole::Macro | RefRole::Type => 1.2,
        RefRole::Path => 1.1,
        RefRole::Member => 0.9,
        RefRole::Other => 0.5,
    }
}

struct Candidate {
    file: FileId,
    symbol: u32,
    score: f32,
    names: Vec<String>,
    /// Packed after every other candidate, in what the budget has left.
    filler: bool,
}

const MAX_HITS: usize = 200;

/// The most a candidate of a name scores per unit of the name's weight: an import's
/// target (4) that a qualifier names (3) in the same directory (proximity 1), or an
/// exact definition through a namespace (4 x 3).
const MAX_SCORE_PER_WEIGHT: f32 = 12.0;
/// Definitions of one name scored in full, at most.
const MAX_DEFS_PER_NAME: usize = 24;

/// `text` is the current file's text (in TS/JS it tells a name after a dot from a bare
/// one, see `module_scoped_names`; `import type` from `import`; in Rust `pub use` from
/// `use`).
pub(super) fn generate(snapshot: &IndexSnapshot, request: &ContextRequest, text: Option<&str>) -> Vec<Hit> {
    let Some(entry) = snapshot.file(request.file) else { return Vec::new() };
    let file = entry.index();
    let current_path = entry.path.as_str();
    let mut scoped = module_scoped_names(file, text);

    // Each import resolved once; the names it brings in, with the file it resolves to.
    let resolved: Vec<(&Import, Option<ResolvedImport>)> =
        file.imports.iter().map(|i| (i, snapshot.resolve_import(request.file, i))).collect();
    let unused = unused_imports(snapshot, file, &resolved, text);
    let weights = name_weights(file, request, scoped.as_mut(), &unused);
    let mut imported: HashMap<&str, Vec<FileId>> = HashMap::default();
    for (import, resolution) in &resolved {
        let target = resolution.as_ref().map(|r| r.file);
        for name in &import.names {
            let entry = imported.entry(name.local_name()).or_default();
            if let Some(target) = target {
                entry.push(target);
            }
        }
    }
    let import_targets: Vec<FileId> = resolved.iter().filter_map(|(_, r)| r.as_ref().map(|r| r.file)).collect();
    // Qualifiers seen in paths (`Map::new`, `Self::CAPACITY`, `Option.some`): name ->
    // qualifier names.
    let (qualifiers, bare) = path_qualifiers(file, request.offset);
    let resolver = ModuleResolver::new(snapshot);
    let library_code = !is_test_path(current_path);
    // The names `import type` brings in (namespaces and types).
    let type_only_names: Vec<&str> = text
        .map(|t| file.imports.iter().filter(|i| type_only(t, i)).flat_map(|i| i.names.iter().map(|n| n.local_name())).collect())
        .unwrap_or_default();

    let macros = workspace_macros(snapshot, request.file, &weights);
    // Proximity by file, computed once per file.
    let slots = snapshot.files().map(|(id, _)| id.0 as usize + 1).max().unwrap_or(0);
    let mut near: Vec<f32> = vec![f32::NAN; slots];
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut names: Vec<(&str, f32)> = weights.iter().map(|(n, w)| (*n, *w)).collect();
    names.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    // The `MAX_HITS` best scores so far, least on top: once a name's best possible score
    // is below the least of them, none of its candidates (nor any of a lighter name's)
    // would survive the cut to `MAX_HITS` below, and its definitions are not looked up.
    // On a large workspace most of a big file's names are far from the cursor and defined
    // in thousands of files (`new`, `fmt`).
    let mut best: BinaryHeap<Reverse<Score>> = BinaryHeap::with_capacity(MAX_HITS + 1);
    for (name, weight) in names {
        if best.len() == MAX_HITS && best.peek().is_some_and(|least| MAX_SCORE_PER_WEIGHT * weight < least.0 .0) {
            break;
        }
        let quals = qualifiers.get(name);
        // Names whose definition the imports determine (TS/JS: a named import through
        // re-export chains, a namespace member `ns.name`): those definitions and no others.
        let exact = exact_definitions(&resolver, request.file, file, name, quals.map(Vec::as_slice));
        if !exact.is_empty() {
            // A namespace member (`Dns_.A`) weighs what the name's uses after a dot weigh,
            // not what the module's own `A` (a type parameter) used bare weighs; a named
            // import, what all its uses weigh.
            // Each namespace's member weighs its own uses (`Schema.Top` near the cursor,
            // `HttpApiGroup.Top` far from it); one reached through several namespaces
            // (aliases of one module), what all of them weigh.
            // (file, symbol, its named import's score, its namespaces' scores summed)
            let mut scored: Vec<(FileId, u32, f32, f32)> = Vec::new();
            // Through `import type`, only a type (not the value of the same name).
            let usable = |def_file: FileId, symbol: u32, namespace: Option<&str>| {
                !type_only_names.contains(&namespace.unwrap_or(name))
                    || snapshot.file(def_file).is_some_and(|e| e.light().symbols[symbol as usize].kind.is_type())
            };
            for &(def_file, symbol, namespace) in exact.iter().filter(|&&(f, s, ns)| f != request.file && usable(f, s, ns)) {
                if scored.last().is_none_or(|last| (last.0, last.1) != (def_file, symbol)) {
                    scored.push((def_file, symbol, 0.0, 0.0));
                }
                let last = scored.last_mut().expect("pushed above");
                match namespace {
                    Some(qualifier) => last.3 += scoped.as_ref().map_or(weight, |s| s.qualified_weight(qualifier, name)) * 4.0 * 3.0,
                    None => last.2 = weight * 4.0,
                }
            }
            for (def_file, symbol, score) in scored.into_iter().map(|(f, s, named, namespaces)| (f, s, named.max(namespaces))).take(MAX_EXACT_PER_NAME) {
                keep(&mut best, score);
                candidates.push(Candidate { file: def_file, symbol, score, names: vec![name.to_string()], filler: false });
            }
            continue;
        }
        let defs = match request.cache {
            Some(cache) => cache.definitions(snapshot, name, || definitions_of(snapshot, name)),
            None => definitions_of(snapshot, name).into(),
        };
        // In a TS/JS module, another module's definition is reached only through a dot
        // (`x.name`): the name's bare uses, unless imported, are the module's own (a
        // local, a parameter, a type parameter `A`) or a global's (a `.d.ts` file's).
        let outside_weight = match &scoped {
            Some(s) if !imported.contains_key(name) => s.dotted_weight(name),
            _ => weight,
        };
        let weight_of = |d: &Definition| if d.declaration { weight } else { outside_weight };
        let mut defs: Vec<Definition> = defs
            .iter()
            .filter(|d| d.file != request.file)
            .filter(|d| !library_code || !d.test)
            .filter(|d| weight_of(d) > 0.0)
            .copied()
            .collect();
        // The weight of a definition's file (a declaration file's name is a global).
        let declaration_file = |f: FileId| snapshot.file(f).is_some_and(|e| e.path.ends_with(".d.ts"));
        let weight_of = |f: FileId| if declaration_file(f) { weight } else { outside_weight };
        if defs.is_empty() {
            continue;
        }
        let targets = imported.get(name);
        // `Type::member`: the members of that type (in impls spread over files, enums,
        // traits) are the definitions, when there are any.
        let member_of_qualifier = |def_file: FileId, symbol: &Symbol| {
            quals.is_some_and(|quals| {
                quals.iter().any(|q| {
                    symbol.container.as_deref().is_some_and(|c| ends_with_segment(c, q)) && same_type(snapshot, request.file, &imported, q, def_file)
                })
            })
        };
        // Whether a definition's container can end with one of the qualifiers (its last
        // segment's hash is one of theirs): a test that reads no symbol, before the one
        // that does. Every qualifier without separators, else no test.
        let qualifier_hashes: Option<Vec<u64>> =
            quals.filter(|quals| quals.iter().all(|q| !q.contains([':', '.']))).map(|quals| quals.iter().map(|q| segment_hash(q)).collect());
        let may_name_container = |d: &Definition| qualifier_hashes.as_ref().is_none_or(|hashes| d.container != 0 && hashes.contains(&d.container));
        // Only a name always used with a qualifier loses its other definitions
        // (`StyledStr` as a type and as `ContextValue::StyledStr` keeps both).
        if quals.is_some() && !bare.contains(name) {
            let named: Vec<Definition> = defs
                .iter()
                .copied()
                .filter(|d| may_name_container(d))
                .filter(|d| {
                    let entry = snapshot.file(d.file).expect("ids come from the snapshot");
                    member_of_qualifier(d.file, &entry.light().symbols[d.symbol as usize])
                })
                .collect();
            if !named.is_empty() {
                defs = named;
            }
        }
        let spread = (defs.len() as f32).sqrt();
        // Files the qualifier's type or module is imported from (`Kind` of `Kind::Io`).
        let qualifier_targets: Vec<FileId> =
            quals.into_iter().flatten().flat_map(|q| imported.get(q).into_iter().flatten().copied()).collect();
        // Imported targets first, then files the file imports from.
        let import_boost = |def_file: FileId| {
            if targets.is_some_and(|t| t.contains(&def_file)) || qualifier_targets.contains(&def_file) {
                4.0
            } else if import_targets.contains(&def_file) {
                2.0
            } else {
                1.0
            }
        };
        // The path is read only the first time (one cache miss less per definition).
        let mut near_of = |def_file: FileId| {
            let near = &mut near[def_file.0 as usize];
            if near.is_nan() {
                *near = proximity(current_path, &snapshot.file(def_file).expect("ids come from the snapshot").path);
            }
            *near
        };
        // A name defined in many places (`new`, `len`): only the likeliest are scored in
        // full. A qualifier (`Type::new`, `io::Error`) keeps the ones it names; otherwise
        // imports and proximity choose.
        if defs.len() > MAX_DEFS_PER_NAME {
            if let Some(quals) = quals {
                let named: Vec<Definition> = defs
                    .iter()
                    .copied()
                    .filter(|d| {
                        let entry = snapshot.file(d.file).expect("ids come from the snapshot");
                        qualifier_names_module(quals, entry)
                            || (may_name_container(d) && qualifier_matches(quals, entry, &entry.light().symbols[d.symbol as usize]))
                    })
                    .collect();
                if !named.is_empty() {
                    defs = named;
                }
            }
        }
        if defs.len() > MAX_DEFS_PER_NAME {
            let mut cheap: Vec<(f32, Definition)> = defs.iter().map(|&def| (import_boost(def.file) * near_of(def.file), def)).collect();
            // The best `MAX_DEFS_PER_NAME` in order (definitions are distinct, in (file,
            // symbol) order: a total order).
            let order = |a: &(f32, Definition), b: &(f32, Definition)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            cheap.select_nth_unstable_by(MAX_DEFS_PER_NAME, order);
            cheap.truncate(MAX_DEFS_PER_NAME);
            cheap.sort_by(order);
            defs = cheap.into_iter().map(|(_, d)| d).collect();
        }
        let mut scored: Vec<(f32, FileId, u32)> = defs
            .iter()
            .map(|&Definition { file: def_file, symbol, .. }| {
                let entry = snapshot.file(def_file).expect("ids come from the snapshot");
                let sym = &entry.light().symbols[symbol as usize];
                let mut score = weight_of(def_file) / spread * import_boost(def_file);
                if member_of_qualifier(def_file, sym) || quals.is_some_and(|quals| qualifier_names_module(quals, entry)) {
                    score *= 3.0;
                }
                if sym.kind.is_member() {
                    score *= 0.5;
                }
                score *= near_of(def_file);
                (score, def_file, symbol)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (score, def_file, symbol) in scored.into_iter().take(2) {
            keep(&mut best, score);
            candidates.push(Candidate { file: def_file, symbol, score, names: vec![name.to_string()], filler: false });
        }
    }
    let query = query_subtokens(file, request);
    let signature: Vec<&str> = innermost(file, request.offset, |k| matches!(k, SymbolKind::Function | SymbolKind::Method))
        .map(|i| identifiers(file.symbols[i].signature()).collect())
        .unwrap_or_default();
    let about = About { query: &query, weights: &weights, signature: &signature, unused: &unused };
    module_import_candidates(snapshot, request.file, &resolved, text, &about, &mut candidates);
    candidates.extend(macros);
    // Filler after everything ranked: it neither displaces a ranked candidate from the
    // list nor takes a place in its order.
    let order = |a: &Candidate, b: &Candidate| {
        a.filler.cmp(&b.filler).then(b.score.total_cmp(&a.score)).then(a.file.cmp(&b.file)).then(a.symbol.cmp(&b.symbol))
    };
    candidates.sort_by(order);
    // More than any budget can hold: a big file names thousands of things. The types
    // that made the cut bring their constructors.
    candidates.truncate(MAX_HITS);
    constructor_candidates(snapshot, request.file, &mut candidates, &returned_types(file, request.offset));
    candidates.sort_by(order);
    candidates.truncate(MAX_HITS);
    candidates
        .into_iter()
        .map(|c| {
            let kind = snapshot.file(c.file).map(|e| e.light().symbols[c.symbol as usize].kind.as_str()).unwrap_or("item");
            Hit { file: c.file, target: Target::Symbol(c.symbol), why: format!("definition of `{}` ({kind}), used near the cursor", c.names.join("`, `")), filler: c.filler }
        })
        .collect()
}

/// Which of a TS/JS module's (a file with imports) references follow a dot (`x.name`,
/// `this.name`, `a?.name`), and the weight of each name's uses after a dot (and in the
/// query): a module sees another module's definitions only through its imports, so a
/// name's bare uses, unless imported, are its own (locals, parameters, type parameters)
/// or globals, and only its uses after a dot (and the query) can mean another module's
/// definition. `None` for other files (Rust's preludes, glob imports and macros make any
/// name reachable; a script without imports sees other scripts' globals).
struct ModuleScoped<'a> {
    after_dot: Vec<bool>,
    /// Of a reference after a dot, the reference right before the dot (`Schema` of
    /// `Schema.Top`), when there is one.
    qualifier: Vec<Option<u32>>,
    dotted: HashMap<&'a str, f32>,
    /// The weight of a name's uses after a qualifier (`Schema.Top`): (qualifier, name).
    qualified: HashMap<(&'a str, &'a str), f32>,
    /// The weight of a name in the query (any namespace's member may be meant).
    queried: HashMap<&'a str, f32>,
}

impl ModuleScoped<'_> {
    /// What a name's uses after a dot and in the query weigh (0 for a module's own name).
    fn dotted_weight(&self, name: &str) -> f32 {
        self.dotted.get(name).copied().unwrap_or(0.0)
    }

    /// What a namespace's member weighs: its uses after that qualifier (`Schema.Top`, not
    /// `HttpApiGroup.Top`), and the name's in the query.
    fn qualified_weight(&self, qualifier: &str, name: &str) -> f32 {
        self.qualified.get(&(qualifier, name)).copied().unwrap_or(0.0) + self.queried.get(name).copied().unwrap_or(0.0)
    }
}

fn module_scoped_names<'a>(file: &'a FileIndex, text: Option<&str>) -> Option<ModuleScoped<'a>> {
    let text = text.filter(|_| file.lang.is_js_family() && !file.imports.is_empty())?.as_bytes();
    let mut after_dot = Vec::with_capacity(file.references.len());
    let mut qualifier = Vec::with_capacity(file.references.len());
    for (i, reference) in file.references.iter().enumerate() {
        let before = text.get(..reference.range.start as usize)?;
        let dot = before.iter().rev().position(|b| !b.is_ascii_whitespace()).filter(|&at| before[before.len() - 1 - at] == b'.');
        after_dot.push(dot.is_some());
        // `ns.name`, `ns?.name`, `ns\n  .name`: the previous reference ends at the dot.
        let previous = i.checked_sub(1).map(|p| (p as u32, &file.references[p]));
        qualifier.push(dot.and(previous).and_then(|(p, q)| {
            let between = text.get(q.range.end as usize..reference.range.start as usize)?;
            let between: Vec<u8> = between.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            matches!(between.as_slice(), b"." | b"?.").then_some(p)
        }));
    }
    Some(ModuleScoped { after_dot, qualifier, dotted: HashMap::default(), qualified: HashMap::default(), queried: HashMap::default() })
}

/// Lower-cased sub-words (`parse_float`, `parseFloat` -> parse, float) of the names that
/// say what is wanted: the enclosing function's name, signature and doc, its container,
/// and the query.
fn query_subtokens(file: &FileIndex, request: &ContextRequest) -> Vec<String> {
    let mut text = String::new();
    if let Some(i) = innermost(file, request.offset, |k| matches!(k, SymbolKind::Function | SymbolKind::Method)) {
        let symbol = &file.symbols[i];
        text.push_str(symbol.signature());
        text.push(' ');
        text.push_str(symbol.doc().unwrap_or(""));
        text.push(' ');
        text.push_str(symbol.container.as_deref().unwrap_or(""));
    }
    text.push(' ');
    text.push_str(request.query.unwrap_or(""));
    let mut words: Vec<String> = identifiers(&text).flat_map(subtokens).filter(|w| w.len() > 2 && !STOP_WORDS.contains(&w.as_str())).collect();
    words.sort();
    words.dedup();
    words
}

const STOP_WORDS: &[&str] = &["self", "mut", "pub", "the", "and", "for", "fn", "impl", "return", "function", "const", "let", "this", "with", "from", "into", "str", "string", "usize", "u32", "u64", "bool", "result", "option", "some", "none", "new"];

fn similarity(name: &str, query: &[String]) -> f32 {
    if query.is_empty() {
        return 0.0;
    }
    let words = subtokens(name);
    if words.is_empty() {
        return 0.0;
    }
    let shared = words.iter().filter(|w| query.binary_search(w).is_ok()).count();
    shared as f32 / words.len() as f32
}

/// What the function at the cursor is about, for ranking the items of modules it imports
/// whole: the sub-words of its name, signature, doc and the query (`query_subtokens`),
/// the names around it with their weights, the words of its signature, and the imports
/// the rest of the file does not use (`unused_imports`).
#[derive(Clone, Copy)]
struct About<'q> {
    query: &'q [String],
    weights: &'q HashMap<&'q str, f32>,
    signature: &'q [&'q str],
    unused: &'q [&'q str],
}

/// Items of modules the file imports whole (`use super::digit::*`, `use crate::util::wire`,
/// `import * as ns`) or declares (`mod wire;`): the body may use any of them, so they are
/// ranked by how much their names share with what the function is about and, for a
/// module the file names (`wire::`, `ns.`), by how many of the files naming it use each
/// item (`co_usage`: `Effect.succeed` before `Effect.annotateLogsScoped`), as much as the
/// function is about the module: fully when its signature names it, else by how much the
/// code around the cursor uses it.
fn module_import_candidates<'a>(
    snapshot: &'a IndexSnapshot,
    from: FileId,
    imports: &[(&'a Import, Option<ResolvedImport>)],
    text: Option<&str>,
    about: &About,
    out: &mut Vec<Candidate>,
) {
    let About { query, weights, signature, unused } = *about;
    let mut seen: Vec<FileId> = Vec::new();
    // (module, base score, the name the file calls it, whether only its types are imported)
    let mut modules: Vec<(FileId, f32, Option<&str>, bool)> = Vec::new();
    for (import, resolution) in imports {
        let Some(resolved) = resolution else { continue };
        // A glob, a path that ends at a module (nothing left to look up in the file), or
        // a module the file declares (`mod tree_node;`, then `tree_node::child_node`).
        let whole_module = import.glob || (resolved.item_path.is_empty() && matches!(import.kind, ImportKind::Use | ImportKind::Mod));
        if !whole_module || resolved.file == from || seen.contains(&resolved.file) {
            continue;
        }
        seen.push(resolved.file);
        let base = if import.glob { 1.0 } else { 0.6 };
        // The name the file calls the module by: `wire`, `ns` of `import * as ns`.
        let local = match import.names.as_slice() {
            [only] if !import.glob || only.name == "*" => Some(only.local_name()),
            _ => None,
        };
        modules.push((resolved.file, base, local, text.is_some_and(|t| type_only(t, import))));
    }
    // `import type * as ns`: the code can use the module's types, not its values.
    let members = |module: FileId, types_only: bool| {
        let light = snapshot.file(module).map(|e| e.light());
        light.into_iter().flat_map(|l| l.symbols.iter().enumerate()).filter(move |(_, symbol)| {
            symbol.parent.is_none()
                && !matches!(symbol.kind, SymbolKind::Impl | SymbolKind::Module | SymbolKind::Method)
                && !symbol.kind.is_member()
                && (!types_only || symbol.kind.is_type())
        })
    };
    // The names a module goes by: what the file calls it (`Result_`) and its file's stem
    // (`Result` of `Result.ts`, `wire` of `wire.rs`).
    let module_names = |module: FileId, local: Option<&'a str>| -> Vec<&str> {
        let stem = snapshot.file(module).map(|e| e.path.rsplit('/').next().unwrap_or("")).map(|f| f.split('.').next().unwrap_or(f));
        let mut names: Vec<&str> = local.into_iter().chain(local.map(|l| l.trim_matches('_'))).chain(stem.filter(|s| *s != "mod" && *s != "index")).collect();
        names.sort_unstable();
        names.dedup();
        names
    };
    let named: Vec<(Vec<&str>, Vec<&str>)> = modules
        .iter()
        .filter(|(_, _, local, _)| local.is_some())
        .map(|&(module, _, local, types_only)| (module_names(module, local), members(module, types_only).map(|(_, s)| s.name.as_str()).collect()))
        .collect();
    let usage = co_usage(snapshot, from, &named);
    let mut next_usage = usage.iter();
    for &(module, base, local, types_only) in &modules {
        let names = module_names(module, local);
        let shares = local.and_then(|_| next_usage.next());
        // A module the enclosing function's signature names (also as its own name: `Result`
        // for `Result_`, `stream()` for `Stream`) is what its body works with.
        let in_signature = local.is_some() && names.iter().any(|n| signature.iter().any(|w| w.eq_ignore_ascii_case(n)));
        let relevance = match local {
            _ if in_signature => 1.0,
            // Imported for the code being written (`unused_imports`).
            Some(l) if unused.contains(&l) => 1.0,
            Some(l) => weights.get(l).map_or(0.0, |w| 0.5 * w / (w + 8.0)),
            None => 0.0,
        };
        for (k, (i, symbol)) in members(module, types_only).enumerate() {
            let share = shares.map_or(0.0, |s| s[k]);
            let score = base * (0.1 + 2.0 * similarity(&symbol.name, query)) + CO_USAGE_WEIGHT * relevance * share;
            out.push(Candidate { file: module, symbol: i as u32, score, names: vec![format!("{} (imported module)", symbol.name)], filler: false });
        }
    }
}

/// Whether a TS import brings types only (`import type * as ns from`, `import type {
/// A } from`): read from the file's text at the import.
fn type_only(text: &str, import: &Import) -> bool {
    let Some(statement) = text.get(import.range.start as usize..import.range.end as usize) else { return false };
    let Some(rest) = statement.strip_prefix("import").and_then(|r| r.trim_start().strip_prefix("type")) else { return false };
    // Not `import type from "./x"` (a default import named `type`).
    rest.starts_with(char::is_whitespace) && rest.trim_start().starts_with(['*', '{'])
}

/// What an item of a module the function is about scores at most, when every file
/// naming the module uses it (an item used in every file naming the module whose name
/// is in the signature ranks about as a name used a few lines from the cursor).
const CO_USAGE_WEIGHT: f32 = 20.0;

/// For modules or types (each by the names it goes by: `wire`, `Option`, `Error`) and
/// their items' names: the share of the workspace's files naming one that also use each
/// item's name (0 when none does), the current file aside. Counted from the files'
/// reference counts in one pass over the workspace, by name: a use is not checked to go
/// through that module (a `map` counts for every module with a `map`).
fn co_usage(snapshot: &IndexSnapshot, from: FileId, modules: &[(Vec<&str>, Vec<&str>)]) -> Vec<Vec<f32>> {
    if modules.is_empty() {
        return Vec::new();
    }
    let module_keys: Vec<Vec<u64>> = modules.iter().map(|(names, _)| names.iter().map(|n| ReferenceCounts::key(n)).collect()).collect();
    // Item key -> (module, item) pairs.
    let mut items: HashMap<u64, Vec<(u32, u32)>> = HashMap::default();
    for (m, (_, names)) in modules.iter().enumerate() {
        for (k, name) in names.iter().enumerate() {
            items.entry(ReferenceCounts::key(name)).or_default().push((m as u32, k as u32));
        }
    }
    let mut users = vec![0u32; modules.len()];
    let mut counts: Vec<Vec<u32>> = modules.iter().map(|(_, names)| vec![0; names.len()]).collect();
    let mut naming: Vec<bool> = vec![false; modules.len()];
    for (file, entry) in snapshot.files() {
        if file == from {
            continue;
        }
        let references = entry.reference_counts();
        let mut any = false;
        for (m, keys) in module_keys.iter().enumerate() {
            naming[m] = keys.iter().any(|&key| references.get_key(key) > 0);
            any |= naming[m];
            users[m] += naming[m] as u32;
        }
        if !any {
            continue;
        }
        for key in references.keys() {
            for &(m, k) in items.get(key).into_iter().flatten() {
                if naming[m as usize] {
                    counts[m as usize][k as usize] += 1;
                }
            }
        }
    }
    users.into_iter().zip(counts).map(|(users, counts)| counts.into_iter().map(|c| if users == 0 { 0.0 } else { c as f32 / users as f32 }).collect()).collect()
}

/// A type's constructor comes with it: `Type::new(...)` is how code uses most types.
/// A Rust type's other constructors and constants (associated functions without `self`
/// that return the type, associated consts of the type: `UdpSocket::from_raw_fd`,
/// `Interest::READABLE`) come with it too, for the types among this many best candidates
/// (their signatures are read). They are filler, packed in what the budget has left,
/// except for a type the enclosing function returns (`-> Option<Interest>`): its body
/// builds one, so the few of them most used in the workspace rank with the type.
const TYPES_WITH_CONSTRUCTORS: usize = 40;
/// A returned type's constructors that rank at most (see `constructor_candidates`).
const RANKED_CONSTRUCTORS: usize = 4;

fn constructor_candidates(snapshot: &IndexSnapshot, from: FileId, out: &mut Vec<Candidate>, returned: &[&str]) {
    let mut added = Vec::new();
    for (rank, candidate) in out.iter().enumerate() {
        let Some(entry) = snapshot.file(candidate.file) else { continue };
        let symbol = &entry.light().symbols[candidate.symbol as usize];
        if !matches!(symbol.kind, SymbolKind::Struct | SymbolKind::Enum | SymbolKind::Class) {
            continue;
        }
        let light = entry.light();
        let mut push = |i: u32, filler: bool| {
            let member = &light.symbols[i as usize];
            added.push(Candidate { file: candidate.file, symbol: i, score: candidate.score * 0.6, names: vec![format!("{}::{}", symbol.name, member.name)], filler });
        };
        for i in light.symbols_named("new").chain(light.symbols_named("constructor")) {
            let method = &light.symbols[i as usize];
            if method.container.as_deref().is_some_and(|c| ends_with_segment(c, &symbol.name)) {
                push(i, false);
            }
        }
        if !light.lang.spec().associated_constructors || rank >= TYPES_WITH_CONSTRUCTORS {
            continue;
        }
        let full = entry.index();
        let in_impl = |p: u32| full.symbols[p as usize].kind == SymbolKind::Impl;
        let made: Vec<u32> = (0..full.symbols.len() as u32)
            .filter(|&i| {
                let member = &full.symbols[i as usize];
                member.name != "new"
                    && matches!(member.kind, SymbolKind::Method | SymbolKind::Const)
                    && member.parent.is_some_and(in_impl)
                    && member.container.as_deref().is_some_and(|c| ends_with_segment(c, &symbol.name))
                    && constructs(member.signature(), &symbol.name)
            })
            .collect();
        if !returned.contains(&symbol.name.as_str()) {
            for i in made {
                push(i, true);
            }
            continue;
        }
        // A returned type's constructors rank with it: the `RANKED_CONSTRUCTORS` that the
        // files naming the type use most (`co_usage`); the others (an error type's two
        // dozen) are filler.
        let names: Vec<&str> = made.iter().map(|&i| full.symbols[i as usize].name.as_str()).collect();
        let shares = co_usage(snapshot, from, &[(vec![symbol.name.as_str()], names)]).pop().unwrap_or_default();
        let mut order: Vec<usize> = (0..made.len()).collect();
        order.sort_by(|&a, &b| shares[b].total_cmp(&shares[a]).then(a.cmp(&b)));
        for (place, k) in order.into_iter().enumerate() {
            push(made[k], place >= RANKED_CONSTRUCTORS);
        }
    }
    out.extend(added);
}

/// The type names in the return type of the Rust function enclosing `offset`
/// (`Option`, `Interest` of `-> Option<Interest>`); not `Self` (the current file's type)
/// nor an associated type (`Value`, `Error` of `Result<Self::Value, V::Error>` with a
/// type parameter `V`).
fn returned_types(file: &FileIndex, offset: u32) -> Vec<&str> {
    if !file.lang.spec().returns_after_arrow {
        return Vec::new();
    }
    let Some(function) = innermost(file, offset, |k| matches!(k, SymbolKind::Function | SymbolKind::Method)) else { return Vec::new() };
    returned_type_names(file.symbols[function].signature())
}

/// The type names of a Rust signature's return type (see `returned_types`).
pub(super) fn returned_type_names(signature: &str) -> Vec<&str> {
    let Some((head, returns)) = signature.rsplit_once("->") else { return Vec::new() };
    let returns = returns.split(" where ").next().unwrap_or(returns);
    // The function's type parameters: `V` of `fn visit_map<V>(`.
    let after_name = head.split_once("fn ").map_or("", |(_, rest)| rest);
    let generics = after_name
        .find(['<', '('])
        .filter(|&at| after_name[at..].starts_with('<'))
        .map_or("", |at| &after_name[at..after_name.find('(').unwrap_or(after_name.len())]);
    let parameter = |word: &str| generics.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|g| g == word);
    let associated = |qualifier: &str| qualifier == "Self" || parameter(qualifier);
    let mut out = Vec::new();
    let mut previous: Option<&str> = None;
    let mut rest = returns;
    while let Some(start) = rest.find(|c: char| c.is_alphanumeric() || c == '_') {
        let len = rest[start..].find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len() - start);
        let word = &rest[start..start + len];
        let qualified_by = previous.filter(|_| rest[..start].trim_end().ends_with("::"));
        if word.starts_with(char::is_uppercase) && word != "Self" && !parameter(word) && !qualified_by.is_some_and(associated) {
            out.push(word);
        }
        previous = Some(word);
        rest = &rest[start + len..];
    }
    out
}

/// Whether an associated item's signature makes a value of the type: a function without
/// a `self` parameter returning `Self` or the type (also inside `Result<..>`, `&..`), a
/// constant of the type.
fn constructs(signature: &str, type_name: &str) -> bool {
    let has_word = |text: &str, word: &str| {
        text.match_indices(word).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + word.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    };
    let names_type = |text: &str| has_word(text, "Self") || has_word(text, type_name);
    if let Some(after_fn) = signature.split_once("fn ").map(|(_, rest)| rest) {
        let Some((parameters, returns)) = after_fn.rsplit_once("->") else { return false };
        !has_word(parameters, "self") && names_type(returns.split(" where ").next().unwrap_or(returns))
    } else {
        signature.contains("const ") && signature.split_once(':').is_some_and(|(_, ty)| names_type(ty.split('=').next().unwrap_or(ty)))
    }
}

/// Macros defined in the workspace are small and used everywhere in their crate.
/// Names around the cursor with their weights.
/// With `scoped` (a TS/JS module), the weights of the uses after a dot are added to its
/// `dotted` too.
fn name_weights<'a>(
    file: &'a FileIndex,
    request: &ContextRequest<'a>,
    mut scoped: Option<&mut ModuleScoped<'a>>,
    unused: &[&'a str],
) -> HashMap<&'a str, f32> {
    let cursor_line = file.line_index.line_col(request.offset).line as f32;
    let enclosing = innermost(file, request.offset, |k| matches!(k, SymbolKind::Function | SymbolKind::Method));
    let container = enclosing.and_then(|i| file.symbols[i].parent).map(|p| p as usize).or_else(|| {
        innermost(file, request.offset, |k| matches!(k, SymbolKind::Impl | SymbolKind::Class | SymbolKind::Trait | SymbolKind::Interface))
    });
    let in_range = |i: Option<usize>, start: u32| i.is_some_and(|i| file.symbols[i].range.contains_inclusive(start));
    let mut weights: HashMap<&str, f32> = HashMap::default();
    for (i, reference) in file.references.iter().enumerate() {
        let line = file.line_index.line_col(reference.range.start).line as f32;
        let distance = (line - cursor_line).abs();
        let place = if in_range(enclosing, reference.range.start) {
            3.0
        } else if in_range(container, reference.range.start) {
            1.5 / (1.0 + distance / 60.0)
        } else {
            1.0 / (1.0 + distance / 40.0)
        };
        let name = file.reference_name(reference);
        let weight = place * role_weight(reference.role);
        *weights.entry(name).or_default() += weight;
        if let Some(scoped) = scoped.as_deref_mut().filter(|s| s.after_dot[i]) {
            *scoped.dotted.entry(name).or_default() += weight;
            if let Some(q) = scoped.qualifier[i] {
                let qualifier = file.reference_name(&file.references[q as usize]);
                *scoped.qualified.entry((qualifier, name)).or_default() += weight;
            }
        }
    }
    // The enclosing function's own name and doc, and the query, name what is wanted.
    // In a TS/JS module, a word after a dot there (`Option.some` in the doc) and any word
    // of the query may mean another module's definition.
    let signature = enclosing.map(|i| &file.symbols[i]).into_iter().flat_map(|s| [Some(s.signature()), s.doc()]);
    for (text, is_query) in signature.map(|t| (t, false)).chain([(request.query, true)]) {
        let Some(text) = text else { continue };
        for word in identifiers(text) {
            *weights.entry(word).or_default() += QUERY_WEIGHT;
            let Some(scoped) = scoped.as_deref_mut() else { continue };
            let at = word.as_ptr() as usize - text.as_ptr() as usize;
            if is_query {
                *scoped.queried.entry(word).or_default() += QUERY_WEIGHT;
            }
            if let Some(before) = text[..at].trim_end().strip_suffix('.').filter(|_| !is_query) {
                // `Schema.Top` in the signature: a member of that namespace.
                let qualifier = &before[before.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_' || c == '$').len()..];
                if !qualifier.is_empty() {
                    *scoped.qualified.entry((qualifier, word)).or_default() += QUERY_WEIGHT;
                }
            }
            if is_query || text[..at].trim_end().ends_with('.') {
                *scoped.dotted.entry(word).or_default() += QUERY_WEIGHT;
            }
        }
    }
    for import in &file.imports {
        for name in &import.names {
            *weights.entry(name.local_name()).or_default() += 0.5;
        }
    }
    // What the file imports and uses nowhere is for the code at the cursor.
    for name in unused {
        *weights.entry(name).or_default() += UNUSED_IMPORT_WEIGHT;
    }
    weights
}

/// What an import that the rest of the file does not use weighs: a use in the enclosing
/// function (the code being written is what it was imported for).
const UNUSED_IMPORT_WEIGHT: f32 = 3.0;

/// The names the file's imports bring in (`use a::B`, `import { b }`, `import * as ns`)
/// that no reference outside the imports uses: the code being written at the cursor is
/// what they are for (an editor's file is otherwise checked for unused imports). Not
/// globs, re-exports (`export { a } from`, Rust's `pub use`, read from `text`) or module
/// declarations, nor a Rust trait (its methods are called without naming it).
fn unused_imports<'a>(
    snapshot: &IndexSnapshot,
    file: &'a FileIndex,
    resolved: &[(&'a Import, Option<ResolvedImport>)],
    text: Option<&str>,
) -> Vec<&'a str> {
    let Some(text) = text else { return Vec::new() };
    let re_export = |import: &Import| import.kind == ImportKind::Use && text.get(import.range.start as usize..).is_none_or(|t| t.starts_with("pub"));
    let imports: Vec<&Import> = resolved
        .iter()
        .map(|(i, _)| *i)
        .filter(|i| (matches!(i.kind, ImportKind::Use | ImportKind::Import) && !i.glob || is_namespace_import(i)) && !re_export(i))
        .collect();
    if imports.is_empty() {
        return Vec::new();
    }
    // Imports are sorted by their start.
    let ranges: Vec<crate::base::TextRange> = file.imports.iter().map(|i| i.range).collect();
    let in_import = |at: u32| {
        let after = ranges.partition_point(|r| r.start <= at);
        after > 0 && ranges[after - 1].contains_inclusive(at)
    };
    // By the file's name table: whether each name an import brings in is referenced
    // outside the imports (one pass over the references, no hashing).
    let locals: rustc_hash::FxHashSet<&str> = imports.iter().flat_map(|i| i.names.iter().map(|n| n.local_name())).collect();
    const UNUSED: u8 = 1;
    const USED: u8 = 2;
    let mut state = vec![0u8; file.names.len()];
    let mut ids: HashMap<&str, usize> = HashMap::default();
    for (id, name) in file.names.iter().enumerate() {
        if locals.contains(name.as_str()) {
            state[id] = UNUSED;
            ids.insert(name.as_str(), id);
        }
    }
    for reference in &file.references {
        let slot = &mut state[reference.name as usize];
        if *slot == UNUSED && !in_import(reference.range.start) {
            *slot = USED;
        }
    }
    let used = |local: &str| ids.get(local).is_some_and(|&id| state[id] == USED);
    let mut out = Vec::new();
    for (import, resolution) in resolved.iter().filter(|(i, _)| imports.contains(i)) {
        for name in &import.names {
            let local = name.local_name();
            if used(local) || out.contains(&local) || local == "self" || local == "_" {
                continue;
            }
            let trait_target = resolution.as_ref().and_then(|r| snapshot.file(r.file)).is_some_and(|e| {
                let light = e.light();
                light.symbols_named(&name.name).any(|i| light.symbols[i as usize].kind == SymbolKind::Trait)
            });
            if !trait_target {
                out.push(local);
            }
        }
    }
    out
}

/// `import * as ns from`.
fn is_namespace_import(import: &Import) -> bool {
    import.kind == ImportKind::Import && import.names.iter().any(|n| n.name == "*" && n.alias.is_some())
}

/// Name -> the qualifiers it is used with (`Map` of `Map::new`, `Option` of
/// `Option.some`); `Self` stands for the type of the enclosing impl, and a parameter of
/// the enclosing function for its declared type (`parser.insert()` with `parser: &mut
/// Parser` is `Parser::insert`). And the names also used without one.
fn path_qualifiers(file: &FileIndex, offset: u32) -> (HashMap<&str, Vec<&str>>, rustc_hash::FxHashSet<&str>) {
    let mut out: HashMap<&str, Vec<&str>> = HashMap::default();
    let mut qualified: Vec<u32> = Vec::new();
    let enclosing = innermost(file, offset, |k| matches!(k, SymbolKind::Function | SymbolKind::Method)).map(|i| &file.symbols[i]);
    let parameters = enclosing.map(|f| parameter_types(f.signature())).unwrap_or_default();
    let in_enclosing = |at: u32| enclosing.is_some_and(|f| f.range.contains_inclusive(at));
    for pair in file.references.windows(2) {
        let (q, n) = (&pair[0], &pair[1]);
        // `x.name` in Rust: a local's identifier right before a field or method.
        let receiver = q.role == RefRole::Other && n.range.start == q.range.end + 1 && matches!(n.role, RefRole::Call | RefRole::Member);
        if (q.role == RefRole::Path && n.range.start <= q.range.end + 2) || receiver {
            let mut qualifier = file.reference_name(q);
            if in_enclosing(q.range.start) {
                if let Some((_, ty)) = parameters.iter().find(|(name, _)| *name == qualifier) {
                    qualifier = ty;
                }
            }
            if receiver && !qualifier.starts_with(char::is_uppercase) {
                continue;
            }
            if qualifier == "Self" {
                match innermost(file, q.range.start, |k| matches!(k, SymbolKind::Impl | SymbolKind::Trait)) {
                    Some(i) => qualifier = file.symbols[i].name.as_str(),
                    None => continue,
                }
            }
            let quals = out.entry(file.reference_name(n)).or_default();
            if !quals.contains(&qualifier) {
                quals.push(qualifier);
            }
            qualified.push(n.range.start);
        }
    }
    // References are in order, and so are the qualified ones among them.
    let mut next = qualified.iter().peekable();
    let mut bare = rustc_hash::FxHashSet::default();
    for reference in &file.references {
        if next.peek().is_some_and(|&&at| at == reference.range.start) {
            next.next();
        } else {
            bare.insert(file.reference_name(reference));
        }
    }
    (out, bare)
}

/// (parameter, type name) of a function's signature: `parser: &mut Parser<'a>` gives
/// (parser, Parser), `o: ns.Opts` gives (o, Opts); parameters of other shapes are left out.
pub(super) fn parameter_types(signature: &str) -> Vec<(&str, &str)> {
    let Some(open) = signature.find('(') else { return Vec::new() };
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, open + 1);
    let mut previous = ' ';
    for (i, c) in signature[open..].char_indices().map(|(i, c)| (i + open, c)) {
        match c {
            '(' | '<' | '[' | '{' => depth += 1,
            '>' if previous == '-' || previous == '=' => {}
            ')' | '>' | ']' | '}' if depth > 0 => depth -= 1,
            _ => {}
        }
        previous = c;
        let end_of_parameter = (c == ',' && depth == 1) || (c == ')' && depth == 0);
        if end_of_parameter {
            let parameter = &signature[start..i];
            start = i + 1;
            if let Some((name, ty)) = parameter.split_once(':') {
                let name = name.trim().trim_start_matches("mut ").trim();
                let ty = ty.trim().trim_start_matches('&').trim_start();
                let ty = ty.strip_prefix("mut ").unwrap_or(ty);
                let ty = if ty.starts_with('\'') { ty.split_once(' ').map_or("", |(_, t)| t) } else { ty };
                let ty = ty.strip_prefix("dyn ").or_else(|| ty.strip_prefix("impl ")).unwrap_or(ty).trim_start();
                let path = &ty[..ty.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '.')).unwrap_or(ty.len())];
                let type_name = crate::index::last_segment(path);
                let is_identifier = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
                if is_identifier(name) && type_name.starts_with(char::is_uppercase) {
                    out.push((name, type_name));
                }
            }
            if c == ')' {
                break;
            }
        }
    }
    out
}

/// A name's definitions at most, when imports determine them.
const MAX_EXACT_PER_NAME: usize = 4;

/// The definitions a TS/JS file's imports determine for `name`: through a named import
/// (`import { name } from "./barrel"`, re-export chains followed), and, for a name used
/// as a namespace member (`Option.some`), through the namespace's module. Each with the
/// namespace it came through, `None` for a named import (a name both imported and used
/// as a member of a namespace, `Simplify` and `Struct_.Simplify`, has both); a
/// definition reached through several namespaces (`Schema.Top`, `S.Top`) is listed once
/// for each.
fn exact_definitions<'q>(
    resolver: &ModuleResolver,
    from: FileId,
    file: &FileIndex,
    name: &str,
    quals: Option<&[&'q str]>,
) -> Vec<(FileId, u32, Option<&'q str>)> {
    if !file.lang.is_js_family() {
        return Vec::new();
    }
    let mut out: Vec<(FileId, u32, Option<&'q str>)> = Vec::new();
    for &qualifier in quals.unwrap_or(&[]) {
        if let Some(module) = resolver.namespace_module(from, qualifier) {
            out.extend(resolver.exported_definitions(module, name).into_iter().map(|(f, s)| (f, s, Some(qualifier))));
        }
    }
    let named = file.imports.iter().filter(|i| i.kind != ImportKind::ReExport).find_map(|import| {
        let imported = import.names.iter().find(|n| n.name != "*" && n.local_name() == name)?;
        Some((import, imported))
    });
    if let Some((import, imported)) = named {
        if let Some(resolved) = resolver.resolve(from, import) {
            out.extend(resolver.exported_definitions(resolved.file, &imported.name).into_iter().map(|(f, s)| (f, s, None)));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Whether members defined in `def_file` under a type named `name` can be members of the
/// type the current file means by it: the type's home is the current file when it
/// defines such a type, else the file it is imported from; a member in another file
/// that defines a type of that name itself belongs to that other type (`sparse::DFA`
/// is not `dense::DFA`).
pub(super) fn same_type(snapshot: &IndexSnapshot, current: FileId, imported: &HashMap<&str, Vec<FileId>>, name: &str, def_file: FileId) -> bool {
    let defines_type = |file: FileId| {
        snapshot.file(file).is_some_and(|entry| {
            let light = entry.light();
            light.symbols_named(name).any(|i| {
                matches!(light.symbols[i as usize].kind, SymbolKind::Struct | SymbolKind::Enum | SymbolKind::Trait | SymbolKind::TypeAlias)
            })
        })
    };
    let home = if defines_type(current) { Some(current) } else { imported.get(name).and_then(|files| files.first().copied()) };
    home == Some(def_file) || !defines_type(def_file)
}

/// Whether one of a name's qualifiers names a module of the definition's path (`io` of
/// `io::Error` for `src/io.rs` or `src/io/...`).
fn qualifier_names_module(quals: &[&str], entry: &FileEntry) -> bool {
    quals.iter().any(|q| entry.path.contains(q) && entry.path.split('/').any(|segment| segment == *q || segment.strip_suffix(".rs") == Some(q)))
}

/// Tests, benchmarks and examples: code a library cannot use (Rust compiles them as
/// crates of their own; JS test files are not imported by library code).
pub(super) fn is_test_path(path: &str) -> bool {
    let mut segments = path.split('/');
    let file = segments.next_back().unwrap_or("");
    let test_dir = segments.any(|d| matches!(d, "tests" | "test" | "benches" | "bench" | "examples" | "example" | "__tests__"));
    test_dir || crate::lang::Lang::from_path(std::path::Path::new(file)).is_some_and(|lang| lang.spec().test_files.matches(file))
}

/// The definitions of `name` (outside members' noise), sorted, with their files' path
/// tests: the workspace's name table says which files define it.
fn definitions_of(snapshot: &IndexSnapshot, name: &str) -> Vec<Definition> {
    // Impl blocks and `mod x;` declarations say nothing a snippet would need.
    let wanted = |entry: &crate::index::FileEntry, symbol: &crate::index::Symbol| {
        let lines = &entry.light().line_index;
        let declaration_only =
            symbol.kind == SymbolKind::Module && lines.line_col(symbol.range.end).line == lines.line_col(symbol.range.start).line;
        symbol.kind != SymbolKind::Impl && !declaration_only
    };
    let mut out = Vec::new();
    for &file in snapshot.files_defining(name) {
        let Some(entry) = snapshot.file(file) else { continue };
        let mut flags = None;
        for i in entry.light().symbols_named(name) {
            if wanted(entry, &entry.light().symbols[i as usize]) {
                let (test, declaration) = *flags.get_or_insert_with(|| (is_test_path(&entry.path), entry.path.ends_with(".d.ts")));
                let container = entry.light().symbols[i as usize].container.as_deref().map_or(0, |c| segment_hash(crate::index::last_segment(c)));
                out.push(Definition { file, symbol: i, test, declaration, container });
            }
        }
    }
    out.sort();
    out
}

/// The macros defined in other files that the code does not name (small, and used
/// everywhere in their crate).
fn workspace_macros(snapshot: &IndexSnapshot, from: FileId, weights: &HashMap<&str, f32>) -> Vec<Candidate> {
    let mut macros = Vec::new();
    for &file in snapshot.files_with_macros() {
        let Some(entry) = snapshot.file(file).filter(|_| file != from) else { continue };
        for (i, symbol) in entry.light().symbols.iter().enumerate() {
            if symbol.kind == SymbolKind::Macro && !weights.contains_key(symbol.name.as_str()) {
                macros.push(Candidate { file, symbol: i as u32, score: 0.3, names: vec![format!("{}!", symbol.name)], filler: false });
            }
        }
    }
    macros
}

/// Adds a candidate's score to the `MAX_HITS` best.
fn keep(best: &mut BinaryHeap<Reverse<Score>>, score: f32) {
    best.push(Reverse(Score(score)));
    if best.len() > MAX_HITS {
        best.pop();
    }
}

/// Whether one of a name's qualifiers (`Map` in `Map::new`, `io` in `io::Error`) names the
/// definition's container type or its module (a file or directory of its path).
fn qualifier_matches(quals: &[&str], entry: &FileEntry, symbol: &Symbol) -> bool {
    // Called for every definition of a popular name: cheap tests first.
    let names_container = |q: &str| symbol.container.as_deref().is_some_and(|c| ends_with_segment(c, q));
    let names_module = |q: &str| {
        entry.path.contains(q) && entry.path.split('/').any(|segment| segment == q || segment.strip_suffix(".rs") == Some(q))
    };
    quals.iter().any(|q| names_container(q) || names_module(q))
}

/// The hash of a container's last segment (`b` of `a::b` or `a.b`), never 0; for
/// `Definition::container`.
pub(super) fn segment_hash(segment: &str) -> u64 {
    crate::base::content_hash(segment.as_bytes()).max(1)
}

/// Whether `name` is the last segment of `path` (`b` of `a::b` or `a.b`), for a `name`
/// without separators.
fn ends_with_segment(path: &str, name: &str) -> bool {
    path.ends_with(name) && matches!(path.as_bytes().get(path.len().wrapping_sub(name.len() + 1)), None | Some(b':' | b'.'))
}

/// Files nearer the current one (same directory, same top-level package) score higher.
fn proximity(from: &str, to: &str) -> f32 {
    let common = from.split('/').zip(to.split('/')).take_while(|(x, y)| x == y).count();
    let segments = |p: &str| p.bytes().filter(|&b| b == b'/').count() + 1;
    let depth = segments(from).max(segments(to)) - common;
    1.0 / (1.0 + 0.15 * depth as f32)
}

