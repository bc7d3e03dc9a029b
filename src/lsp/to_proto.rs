//! Conversions from ctxls values to LSP types.

use tower_lsp_server::ls_types::{
    CompletionItemKind, Diagnostic, DiagnosticSeverity, DocumentSymbol, Location, NumberOrString, Position, Range, SymbolInformation,
    SymbolKind as LspSymbolKind, Uri,
};

use crate::base::{LineIndex, PositionEncoding, TextRange};
use crate::index::{FileIndex, SymbolKind};

pub fn position(index: &LineIndex, encoding: PositionEncoding, offset: u32) -> Position {
    let pos = index.to_encoding(index.line_col(offset), encoding);
    Position { line: pos.line, character: pos.col }
}

pub fn range(index: &LineIndex, encoding: PositionEncoding, range: TextRange) -> Range {
    Range { start: position(index, encoding, range.start), end: position(index, encoding, range.end) }
}

pub fn symbol_kind(kind: SymbolKind) -> LspSymbolKind {
    match kind {
        SymbolKind::Function => LspSymbolKind::FUNCTION,
        SymbolKind::Method => LspSymbolKind::METHOD,
        SymbolKind::Struct => LspSymbolKind::STRUCT,
        SymbolKind::Enum => LspSymbolKind::ENUM,
        SymbolKind::Variant => LspSymbolKind::ENUM_MEMBER,
        SymbolKind::Field => LspSymbolKind::FIELD,
        SymbolKind::Trait | SymbolKind::Interface => LspSymbolKind::INTERFACE,
        SymbolKind::Impl => LspSymbolKind::OBJECT,
        SymbolKind::TypeAlias => LspSymbolKind::TYPE_PARAMETER,
        SymbolKind::Const => LspSymbolKind::CONSTANT,
        SymbolKind::Static | SymbolKind::Variable => LspSymbolKind::VARIABLE,
        SymbolKind::Macro => LspSymbolKind::FUNCTION,
        SymbolKind::Module => LspSymbolKind::MODULE,
        SymbolKind::Class => LspSymbolKind::CLASS,
        SymbolKind::Namespace => LspSymbolKind::NAMESPACE,
        SymbolKind::Property => LspSymbolKind::PROPERTY,
    }
}

pub fn completion_kind(kind: SymbolKind) -> CompletionItemKind {
    match kind {
        SymbolKind::Function | SymbolKind::Macro => CompletionItemKind::FUNCTION,
        SymbolKind::Method => CompletionItemKind::METHOD,
        SymbolKind::Struct => CompletionItemKind::STRUCT,
        SymbolKind::Enum => CompletionItemKind::ENUM,
        SymbolKind::Variant => CompletionItemKind::ENUM_MEMBER,
        SymbolKind::Field => CompletionItemKind::FIELD,
        SymbolKind::Trait | SymbolKind::Interface => CompletionItemKind::INTERFACE,
        SymbolKind::Class | SymbolKind::Impl => CompletionItemKind::CLASS,
        SymbolKind::TypeAlias => CompletionItemKind::TYPE_PARAMETER,
        SymbolKind::Const => CompletionItemKind::CONSTANT,
        SymbolKind::Static | SymbolKind::Variable => CompletionItemKind::VARIABLE,
        SymbolKind::Module | SymbolKind::Namespace => CompletionItemKind::MODULE,
        SymbolKind::Property => CompletionItemKind::PROPERTY,
    }
}

/// The file's symbols as a tree, children under their parents.
#[allow(deprecated)] // `DocumentSymbol::deprecated` must still be set
pub fn document_symbols(file: &FileIndex, encoding: PositionEncoding) -> Vec<DocumentSymbol> {
    let index = &file.line_index;
    let mut nodes: Vec<Option<DocumentSymbol>> = file
        .symbols
        .iter()
        .map(|s| {
            // The selection range must lie inside the full range.
            let full = TextRange::new(s.range.start.min(s.name_range.start), s.range.end.max(s.name_range.end));
            Some(DocumentSymbol {
                name: if s.name.is_empty() { "<anonymous>".into() } else { s.name.to_string() },
                detail: Some(s.signature().to_string()).filter(|d| !d.is_empty()),
                kind: symbol_kind(s.kind),
                tags: None,
                deprecated: None,
                range: range(index, encoding, full),
                selection_range: range(index, encoding, s.name_range),
                children: None,
            })
        })
        .collect();
    // Children come after their parents in the list: attach from the end.
    for i in (0..nodes.len()).rev() {
        if let Some(parent) = file.symbols[i].parent {
            let child = nodes[i].take().expect("each node is moved once");
            let parent = nodes[parent as usize].as_mut().expect("parents precede children");
            parent.children.get_or_insert_with(Vec::new).insert(0, child);
        }
    }
    nodes.into_iter().flatten().collect()
}

#[allow(deprecated)]
pub fn symbol_information(file: &FileIndex, symbol: usize, uri: Uri, encoding: PositionEncoding) -> SymbolInformation {
    let s = &file.symbols[symbol];
    SymbolInformation {
        name: s.name.to_string(),
        kind: symbol_kind(s.kind),
        tags: None,
        deprecated: None,
        location: Location { uri, range: range(&file.line_index, encoding, s.name_range) },
        container_name: s.container.map(String::from),
    }
}

/// Flattens document symbols for clients without hierarchical support.
pub fn flat_symbols(file: &FileIndex, uri: &Uri, encoding: PositionEncoding) -> Vec<SymbolInformation> {
    (0..file.symbols.len()).map(|i| symbol_information(file, i, uri.clone(), encoding)).collect()
}

/// A requirement comment as a diagnostic (information for `act`, hint for `ask`).
pub fn requirement_diagnostic(index: &LineIndex, encoding: PositionEncoding, requirement: &crate::reqs::Requirement) -> Diagnostic {
    let (severity, code, what) = match requirement.kind {
        crate::reqs::Kind::Act => (DiagnosticSeverity::INFORMATION, "requirement", "AI requirement"),
        crate::reqs::Kind::Ask => (DiagnosticSeverity::HINT, "question", "AI question"),
    };
    Diagnostic {
        range: range(index, encoding, requirement.range),
        severity: Some(severity),
        code: Some(NumberOrString::String(code.to_string())),
        source: Some("ctxls".to_string()),
        message: format!("{what}: {}", requirement.text),
        ..Diagnostic::default()
    }
}
