//! Markdown split by heading (ATX and setext), with GitHub's anchors, parsed by
//! pulldown-cmark (CommonMark): front matter, fences, HTML blocks, lazy continuation lines
//! and list items are its business, not ours. Long sections are cut into parts at blank
//! lines outside code fences.

use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use super::{to_u32, Lines, Section, SectionKind};

/// A Markdown section longer than this many lines is split into parts.
const MAX_PART_LINES: usize = 120;

struct MdHeading {
    /// First line: the `#` line, or the first paragraph line of a setext heading.
    start: usize,
    level: u8,
    /// The heading's source text without its markers (`#`s, closing `#`s, underline),
    /// its lines joined with a space.
    title: String,
    /// What GitHub's slug is made of: the rendered text (links' labels, code; no images,
    /// no HTML).
    plain: String,
}

/// What a split section has in common between its parts.
struct PartTemplate<'t> {
    kind: SectionKind,
    title: &'t str,
    anchor: &'t str,
    parent: Option<usize>,
    level: u8,
}

pub(super) fn split_markdown(text: &str) -> Vec<Section> {
    let lines = Lines::new(text);
    let Scan { body_start, headings, opaque } = scan(text, &lines);
    let mut sections = Vec::new();
    let first_heading = headings.first().map_or(lines.len(), |heading| heading.start);
    if let Some(start) = (body_start..first_heading).find(|&i| !lines.is_blank(i)) {
        let end = lines.last_non_blank(start, first_heading - 1);
        let template = PartTemplate { kind: SectionKind::Preamble, title: "", anchor: "", parent: None, level: 0 };
        push_parts(&mut sections, &lines, &opaque, &template, start, end);
    }
    let mut slugger = Slugger::default();
    // Open headings: (level, index of the heading's first part).
    let mut open: Vec<(u8, usize)> = Vec::new();
    for (index, heading) in headings.iter().enumerate() {
        let next = headings.get(index + 1).map_or(lines.len(), |next| next.start);
        let end = lines.last_non_blank(heading.start, next.saturating_sub(1).max(heading.start));
        while open.last().is_some_and(|&(level, _)| level >= heading.level) {
            open.pop();
        }
        let anchor = slugger.slug(slug_of_plain(&heading.plain));
        let template = PartTemplate {
            kind: SectionKind::Heading,
            title: &heading.title,
            anchor: &anchor,
            parent: open.last().map(|&(_, section)| section),
            level: heading.level,
        };
        let first_part = sections.len();
        push_parts(&mut sections, &lines, &opaque, &template, heading.start, end);
        open.push((heading.level, first_part));
    }
    sections
}

/// What the parser says about a document's lines.
struct Scan {
    /// The first line after front matter (YAML `---` or TOML `+++`), 0 without any.
    body_start: usize,
    headings: Vec<MdHeading>,
    /// Per line: inside a fenced code block or an HTML block (never cut there).
    opaque: Vec<bool>,
}

fn options() -> Options {
    Options::ENABLE_YAML_STYLE_METADATA_BLOCKS | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS
}

fn scan(text: &str, lines: &Lines) -> Scan {
    let mut scan = Scan { body_start: 0, headings: Vec::new(), opaque: vec![false; lines.len()] };
    // Inside a heading: its level, first line, the range of its inline content and its
    // plain text; images nest (their alt text is not part of the slug).
    let mut heading: Option<(u8, usize, Option<Range<usize>>, String)> = None;
    let mut in_image = 0usize;
    let mark_opaque = |range: &Range<usize>, opaque: &mut Vec<bool>| {
        let (first, last) = (lines.line_of(range.start), lines.line_of(range.end.saturating_sub(1).max(range.start)));
        for flag in opaque.iter_mut().take(last + 1).skip(first) {
            *flag = true;
        }
    };
    for (event, range) in Parser::new_with_broken_link_callback(text, options(), Some(|_| Some(("".into(), "".into())))).into_offset_iter() {
        let ends_heading = matches!(event, Event::End(TagEnd::Heading(_)));
        if let (Some((_, _, content, plain)), false) = (heading.as_mut(), ends_heading) {
            let covered = content.get_or_insert(range.clone());
            covered.start = covered.start.min(range.start);
            covered.end = covered.end.max(range.end);
            match &event {
                Event::Start(Tag::Image { .. }) => in_image += 1,
                Event::End(TagEnd::Image) => in_image = in_image.saturating_sub(1),
                Event::Text(t) | Event::Code(t) if in_image == 0 => plain.push_str(t),
                Event::SoftBreak | Event::HardBreak => plain.push(' '),
                _ => {}
            }
        }
        match event {
            Event::Start(Tag::MetadataBlock(_)) if range.start == 0 => {
                scan.body_start = lines.line_of(range.end.saturating_sub(1)) + 1;
            }
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((level as u8, lines.line_of(range.start), None, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, start, content, plain)) = heading.take() {
                    let title = match content.and_then(|c| text.get(c)) {
                        Some(source) => source.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "),
                        None => String::new(),
                    };
                    scan.headings.push(MdHeading { start, level, title, plain });
                }
            }
            Event::Start(Tag::CodeBlock(pulldown_cmark::CodeBlockKind::Fenced(_))) | Event::Start(Tag::HtmlBlock) => mark_opaque(&range, &mut scan.opaque),
            _ => {}
        }
    }
    scan
}

/// Pushes a section, split into parts of at most [`MAX_PART_LINES`] lines at blank lines
/// outside code fences (or, failing that, inside them, or, failing that, anywhere).
fn push_parts(
    sections: &mut Vec<Section>,
    lines: &Lines,
    opaque: &[bool],
    template: &PartTemplate,
    start: usize,
    end: usize,
) {
    let is_open_blank = |i: usize| lines.is_blank(i) && !opaque.get(i).copied().unwrap_or(false);
    let mut part_start = start;
    let mut part_number = 1;
    loop {
        let (part_end, next_start) = if end + 1 - part_start <= MAX_PART_LINES {
            (end, None)
        } else {
            // A cut at blank line `b` ends the part at `b - 1`; look from the limit back.
            let window = (part_start + MAX_PART_LINES / 2..=part_start + MAX_PART_LINES).rev();
            let cut = window
                .clone()
                .find(|&b| is_open_blank(b))
                .or_else(|| window.clone().find(|&b| lines.is_blank(b)))
                .unwrap_or(part_start + MAX_PART_LINES);
            (lines.last_non_blank(part_start, cut - 1), Some(cut))
        };
        let title = match (part_number, template.title) {
            (1, title) => title.to_string(),
            (n, "") => format!("({n})"),
            (n, title) => format!("{title} ({n})"),
        };
        sections.push(Section {
            kind: template.kind,
            title,
            anchor: template.anchor.to_string(),
            names: Vec::new(),
            parent: template.parent,
            level: template.level,
            start_line: to_u32(part_start),
            end_line: to_u32(part_end),
            text: lines.slice(part_start, part_end),
            refs: Vec::new(),
        });
        let Some(cut) = next_start else { break };
        match (cut..=end).find(|&i| !lines.is_blank(i)) {
            Some(next) => part_start = next,
            None => break,
        }
        part_number += 1;
    }
}

/// GitHub's heading slug before deduplication, for a title written in Markdown: the
/// rendered text lowercased, without punctuation other than `-` and `_`, each space turned
/// into `-`.
pub fn github_slug(title: &str) -> String {
    let mut plain = String::new();
    let mut in_image = 0usize;
    for event in Parser::new_with_broken_link_callback(title, Options::empty(), Some(|_| Some(("".into(), "".into())))) {
        match event {
            Event::Start(Tag::Image { .. }) => in_image += 1,
            Event::End(TagEnd::Image) => in_image = in_image.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if in_image == 0 => plain.push_str(&t),
            Event::SoftBreak | Event::HardBreak => plain.push(' '),
            _ => {}
        }
    }
    slug_of_plain(&plain)
}

/// The slug of a heading's rendered text.
fn slug_of_plain(plain: &str) -> String {
    let plain = plain.to_lowercase();
    let mut slug = String::with_capacity(plain.len());
    for c in plain.chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            slug.push(c);
        } else if c == ' ' {
            slug.push('-');
        }
    }
    slug
}

/// Makes slugs unique the way github-slugger does: `x`, `x-1`, `x-2`, ...
#[derive(Default)]
pub(super) struct Slugger {
    occurrences: HashMap<String, usize>,
}

impl Slugger {
    pub(super) fn slug(&mut self, base: String) -> String {
        let mut slug = base.clone();
        while self.occurrences.contains_key(&slug) {
            let count = self.occurrences.entry(base.clone()).or_insert(0);
            *count += 1;
            slug = format!("{base}-{count}");
        }
        self.occurrences.insert(slug.clone(), 0);
        slug
    }
}

