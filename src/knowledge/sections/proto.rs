//! Protocol buffers split by top-level message, enum and service, after a preamble of
//! `syntax`/`package`/`import`/`option` lines; nested types and rpcs are named.

use super::tokens::{TokenKind, TokenText};
use super::{dedupe, Section, SectionKind};

const PROTO_SCALARS: [&str; 15] = [
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
    "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
];
const PROTO_PREAMBLE: [&str; 5] = ["syntax", "edition", "package", "import", "option"];

pub(super) fn split_proto(text: &str) -> Vec<Section> {
    let source = TokenText::new(text);
    let significant: Vec<usize> = (0..source.tokens.len())
        .filter(|&t| source.kind(t) != Some(TokenKind::Comment))
        .collect();
    let mut sections = Vec::new();
    // The preamble so far: (first token, last token), before any definition.
    let mut preamble: Option<(usize, usize)> = None;
    let mut seen_definition = false;
    let mut floor = 0;
    let mut position = 0;
    while position < significant.len() {
        let end = proto_statement_end(&source, &significant, position);
        let (first_token, last_token) = (significant[position], significant[end]);
        let keyword = source.str(first_token);
        let is_definition = matches!(keyword, "message" | "enum" | "service")
            && significant
                .get(position + 1)
                .is_some_and(|&t| source.kind(t) == Some(TokenKind::Name));
        if is_definition {
            let first = source.leading_trivia(first_token, floor);
            let words: Vec<&str> = significant[position + 2..=end.max(position + 1)]
                .iter()
                .map(|&t| source.str(t))
                .collect();
            let name = source.str(significant[position + 1]);
            sections.push(proto_section(
                &source, keyword, name, &words, first, last_token,
            ));
            seen_definition = true;
        } else if PROTO_PREAMBLE.contains(&keyword) && !seen_definition {
            let first = preamble.map_or_else(
                || source.leading_trivia(first_token, floor),
                |(first, _)| first,
            );
            preamble = Some((first, last_token));
        }
        floor = last_token + 1;
        position = end + 1;
    }
    if let Some((first, last)) = preamble {
        let (start_line, end_line, text) = source.section(first, last);
        sections.insert(
            0,
            Section {
                kind: SectionKind::Preamble,
                title: String::new(),
                anchor: String::new(),
                names: Vec::new(),
                parent: None,
                level: 0,
                start_line,
                end_line,
                text,
                refs: Vec::new(),
            },
        );
    }
    sections
}

/// The position (in `significant`) of the last token of the top-level statement starting at
/// `position`: its `;`, or the `}` closing its block, or the last token.
fn proto_statement_end(source: &TokenText, significant: &[usize], position: usize) -> usize {
    let mut depth = 0usize;
    for (offset, &token) in significant.iter().enumerate().skip(position) {
        match source.str(token) {
            ";" if depth == 0 => return offset,
            "{" => depth += 1,
            "}" => {
                if depth <= 1 {
                    return offset;
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    significant.len().saturating_sub(1).max(position)
}

fn proto_section(
    source: &TokenText,
    keyword: &str,
    name: &str,
    body: &[&str],
    first: usize,
    last: usize,
) -> Section {
    let facts = proto_body(body);
    let (start_line, end_line, text) = source.section(first, last);
    let mut names = vec![name.to_string()];
    names.extend(facts.nested);
    names.extend(facts.rpcs);
    let names = dedupe(names, &[]);
    Section {
        kind: match keyword {
            "service" => SectionKind::Service,
            "enum" => SectionKind::Enum,
            _ => SectionKind::Message,
        },
        title: format!("{keyword} {name}"),
        anchor: name.to_string(),
        refs: dedupe(facts.types, &names),
        names,
        parent: None,
        level: 0,
        start_line,
        end_line,
        text,
    }
}

#[derive(Default)]
struct ProtoBody {
    nested: Vec<String>,
    rpcs: Vec<String>,
    types: Vec<String>,
}

/// Names and type uses inside a definition's body, statement by statement.
fn proto_body(words: &[&str]) -> ProtoBody {
    let mut facts = ProtoBody::default();
    let mut statement: Vec<&str> = Vec::new();
    for &word in words {
        match word {
            ";" | "{" | "}" => {
                proto_statement(&statement, word == "{", &mut facts);
                statement.clear();
            }
            _ => statement.push(word),
        }
    }
    proto_statement(&statement, false, &mut facts);
    facts
}

fn proto_statement(statement: &[&str], opens_block: bool, facts: &mut ProtoBody) {
    let word = |i: usize| statement.get(i).copied().unwrap_or("");
    let is_ident =
        |w: &str| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '.');
    let mut use_type = |w: &str| {
        let last = w.rsplit('.').next().unwrap_or("");
        if is_ident(w) && !last.is_empty() && !PROTO_SCALARS.contains(&last) {
            facts.types.push(last.to_string());
        }
    };
    match word(0) {
        "" => {}
        "message" | "enum" if opens_block && is_ident(word(1)) => {
            facts.nested.push(word(1).to_string())
        }
        "rpc" => {
            if is_ident(word(1)) {
                facts.rpcs.push(word(1).to_string());
            }
            for (i, &w) in statement.iter().enumerate() {
                if w == "(" {
                    let skip_stream = word(i + 1) == "stream" && is_ident(word(i + 2));
                    use_type(word(i + 1 + usize::from(skip_stream)));
                }
            }
        }
        "map" => {
            use_type(word(2));
            use_type(word(4));
        }
        "repeated" | "optional" | "required" if word(1) != "group" => {
            if is_ident(word(2)) && word(3) == "=" {
                use_type(word(1));
            }
        }
        "option" | "reserved" | "extensions" | "oneof" | "extend" | "message" | "enum"
        | "service" | "group" | "syntax" | "package" | "import" => {}
        first => {
            if is_ident(word(1)) && word(2) == "=" {
                use_type(first);
            }
        }
    }
}
