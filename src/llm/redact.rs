//! Secrets in text about to leave the machine are replaced by `[REDACTED:kind]` before a
//! prompt or an embedding input is sent (`llm.redact_secrets`, on by default): private
//! key blocks (PEM, OpenSSH, PGP), provider keys and tokens of well-known shapes (OpenAI
//! and Anthropic `sk-`, AWS access key ids, GitHub, GitLab, Slack, Google, Stripe, npm,
//! PyPI, Hugging Face, SendGrid, JWTs), credentials in headers (`Authorization: Bearer
//! ...`) and in URLs (`postgres://user:PASSWORD@host`: only the password goes), and values
//! assigned to names that say they are secrets (`password = "..."`, `apiKey: '...'`,
//! `AWS_SECRET_ACCESS_KEY=...`, `api_key = String::from("...")`).
//!
//! Shapes are `regex` patterns. One `RegexSet` pass over the text finds which shapes may
//! occur (each has a short trigger: `sk-`, `AKIA`, the words of a secret's name...), then
//! each of those runs its own `Regex`; both are linear in the text. (A set of the full
//! patterns was ten times slower: its automaton outgrows the lazy DFA's cache.) A few
//! shapes are checked further in code (a JWT has three parts, a name is a secret's by its
//! words, a value is not a placeholder).
//!
//! Private key blocks are found by their armour lines. A text may be a part of a longer
//! one (`redact_part`: a fill-in-the-middle prefix or suffix, an embedding chunk), cut
//! anywhere: there a BEGIN line without its END redacts to the end of the part, and an END
//! line without its BEGIN redacts from the start of the part. In a whole text (`redact`)
//! such a block redacts the key material next to its armour line, up to the first line
//! that is clearly not key material, and never the rest of the text.

use std::ops::Range;
use std::sync::OnceLock;

use regex::{Captures, Regex, RegexSet};

/// `text` with its secrets replaced, and how many were; `text` is whole (a message).
pub fn redact(text: &str) -> (String, usize) {
    redact_with(text, Extent::Whole)
}

/// `text` with its secrets replaced, and how many were; `text` is a part of a longer text,
/// cut at arbitrary points (a prefix or suffix, a chunk), so a key block may begin or end
/// outside it.
pub fn redact_part(text: &str) -> (String, usize) {
    redact_with(text, Extent::Part)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Extent {
    Whole,
    Part,
}

/// A secret found: its byte range and its kind.
type Found = (Range<usize>, &'static str);

fn redact_with(text: &str, extent: Extent) -> (String, usize) {
    let matchers = matchers();
    let mut found: Vec<Found> = Vec::new();
    let occurring = matchers.set.matches(text);
    if occurring.matched(KEY_MARKERS) {
        private_keys(text, extent, matchers, &mut found);
    }
    if occurring.matched(KEY_LINES) {
        key_material_runs(text, &mut found);
    }
    for (i, shape) in SHAPES.iter().enumerate().filter(|(i, _)| occurring.matched(SHAPES_FROM + i)) {
        for captures in matchers.shape(i).captures_iter(text) {
            if let Some(range) = (shape.secret)(text, &captures) {
                found.push((range, shape.kind));
            }
        }
    }
    if found.is_empty() {
        return (text.to_string(), 0);
    }
    // Earlier first; of two starting together, the longer; a tie goes to the shape listed
    // first (the sort is stable): specific shapes before names.
    found.sort_by_key(|(range, _)| (range.start, std::cmp::Reverse(range.end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut count = 0;
    for (range, kind) in found {
        if range.end <= at {
            continue; // inside one already replaced
        }
        let start = range.start.max(at);
        out.push_str(&text[at..start]);
        out.push_str("[REDACTED:");
        out.push_str(kind);
        out.push(']');
        at = range.end;
        count += 1;
    }
    out.push_str(&text[at..]);
    (out, count)
}

/// One shape of secret.
struct Shape {
    kind: &'static str,
    /// A short pattern that occurs wherever `pattern` matches (a literal part of it, or
    /// the words of a secret's name): the `RegexSet` of all triggers stays small and its
    /// one pass cheap, and only the shapes whose trigger occurs run their `pattern`.
    trigger: &'static str,
    pattern: &'static str,
    /// The secret's byte range in a match of the text, or `None` when the match is not
    /// one.
    secret: fn(&str, &Captures) -> Option<Range<usize>>,
}

/// The set's first pattern: a private key's armour lines (handled by `private_keys`).
const KEY_MARKERS: usize = 0;
const KEY_TRIGGER: &str = "PRIVATE KEY";
/// The second: a long run of base64, perhaps a line of key material
/// (`key_material_runs`).
const KEY_LINES: usize = 1;
const KEY_LINES_TRIGGER: &str = r"[A-Za-z0-9+/]{40}";
/// Then the shapes' triggers.
const SHAPES_FROM: usize = 2;
/// The words `name!()` looks for.
const NAME_TRIGGER: &str = r"(?i:pass|pwd|secret|token|key|credential|auth|bearer|jwt)";
const BEGIN_MARKER: &str = r"-{4,5} ?BEGIN ([A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?) ?-{4,5}";
const END_MARKER: &str = r"-{4,5} ?END ([A-Z0-9 ]{0,40}?PRIVATE KEY(?: BLOCK)?) ?-{4,5}";

/// A token starts where no token character comes before it.
macro_rules! token {
    ($body:literal) => {
        concat!(r"(?:^|[^A-Za-z0-9_-])(", $body, ")")
    };
}

/// A name that may be a secret's: it holds one of the words that say so (checked word by
/// word in `secret_name`).
macro_rules! name {
    () => {
        r"(?i:[A-Za-z0-9_.$@-]*(?:pass|pwd|secret|token|key|credential|auth|bearer|jwt)[A-Za-z0-9_.$-]*)"
    };
}

/// A quoted value: double, single or back quotes (groups `dq`, `sq`, `bq`).
macro_rules! quoted {
    () => {
        r#"(?:"(?P<dq>[^"\r\n]*)"|'(?P<sq>[^'\r\n]*)'|`(?P<bq>[^`\r\n]*)`)"#
    };
}

const SHAPES: &[Shape] = &[
    Shape { kind: "api-key", trigger: r"sk-", pattern: token!(r"sk-[A-Za-z0-9_-]{20,}"), secret: api_key },
    Shape { kind: "aws-access-key", trigger: r"AKIA|ASIA", pattern: token!(r"(?:AKIA|ASIA)[A-Z0-9]{16,}"), secret: group1 },
    Shape { kind: "github-token", trigger: r"gh[pousr]_|github_pat_", pattern: token!(r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"), secret: group1 },
    Shape { kind: "gitlab-token", trigger: r"glpat-", pattern: token!(r"glpat-[A-Za-z0-9_-]{20,}"), secret: group1 },
    Shape { kind: "slack-token", trigger: r"xox[abeprs]-", pattern: token!(r"xox[abeprs]-[A-Za-z0-9_-]{10,}"), secret: group1 },
    Shape { kind: "slack-webhook", trigger: r"hooks\.slack\.com/services/", pattern: r"(https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,})", secret: group1 },
    Shape { kind: "google-api-key", trigger: r"AIza", pattern: token!(r"AIza[A-Za-z0-9_-]{35,}"), secret: group1 },
    Shape { kind: "google-oauth-secret", trigger: r"GOCSPX-", pattern: token!(r"GOCSPX-[A-Za-z0-9_-]{28,}"), secret: group1 },
    Shape { kind: "stripe-key", trigger: r"[sr]k_(?:live|test)_", pattern: token!(r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,}"), secret: group1 },
    Shape { kind: "npm-token", trigger: r"npm_", pattern: token!(r"npm_[A-Za-z0-9]{36,}"), secret: group1 },
    Shape { kind: "pypi-token", trigger: r"pypi-AgE", pattern: token!(r"pypi-AgE[A-Za-z0-9_-]{50,}"), secret: group1 },
    Shape { kind: "huggingface-token", trigger: r"hf_", pattern: token!(r"hf_[A-Za-z0-9]{30,}"), secret: mixed_case },
    Shape { kind: "sendgrid-key", trigger: r"SG\.", pattern: token!(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"), secret: group1 },
    Shape { kind: "digitalocean-token", trigger: r"do[opr]_v1_", pattern: token!(r"do[opr]_v1_[a-f0-9]{64}"), secret: group1 },
    Shape { kind: "shopify-token", trigger: r"shp(?:at|ca|pa|ss)_", pattern: token!(r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"), secret: group1 },
    Shape { kind: "jwt", trigger: r"eyJ", pattern: token!(r"eyJ[A-Za-z0-9_.-]{20,}"), secret: jwt },
    Shape { kind: "azure-key", trigger: r"(?i:accountkey=|sharedaccesskey=)", pattern: r"(?i:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{40,}={0,2})", secret: group1 },
    Shape {
        kind: "authorization", trigger: r"(?i:authorization)",
        pattern: r#"(?:^|[^A-Za-z0-9_])(?i:(?:proxy-)?authorization)["']?[ \t]*[:=][ \t]*["']?((?i:bearer|basic|token|digest|apikey)[ \t]+)?([A-Za-z0-9._~+/=-]{8,})"#,
        secret: authorization,
    },
    Shape { kind: "authorization", trigger: r"(?i:bearer)[ \t]", pattern: r"(?-u:\b)(?i:bearer)[ \t]+([A-Za-z0-9._~+/-]{20,}=*)", secret: bearer },
    Shape { kind: "url-password", trigger: r"://", pattern: r#"[A-Za-z][A-Za-z0-9+.-]{1,30}://[^ \t\r\n:/?#@"'<>\\]*:([^ \t\r\n/?#@"'<>\\]+)@"#, secret: url_password },
    Shape { kind: "npm-token", trigger: r"_auth", pattern: r#"(?m)^[ \t]*(?:[^ \t\r\n=]*:)?_auth(?:Token)?[ \t]*=[ \t]*["']?([^ \t\r\n"']+)"#, secret: not_placeholder1 },
    // `name = "value"`, `name: 'value'`, `"name": "value"`, `name := "value"`,
    // `name => "value"`, `NAME: &str = "value"`, `name = String::from("value")`.
    Shape {
        kind: "secret-value", trigger: NAME_TRIGGER,
        pattern: concat!(
            "(?P<name>", name!(), r#")["']?[ \t]*(?P<op>:[ \t]*[&'A-Za-z0-9_<>\[\]:, .]+?[ \t]*=|=>|:=|=|:)[ \t]*"#,
            r"(?:(?:String::from|Some|Secret(?:String|Box)?::(?:new|from)|str|String|new[ \t]+String)\([ \t]*)?(?:r#*|b|f|u8?)?",
            quoted!()
        ),
        secret: quoted_assignment,
    },
    // `("name", "value")`: a call or a pair.
    Shape { kind: "secret-value", trigger: NAME_TRIGGER, pattern: concat!(r#"["'](?P<name>"#, name!(), r#")["'][ \t]*,[ \t]*"#, quoted!()), secret: quoted_pair },
    // `NAME=value`, `export NAME=value`, `name: value`, `- NAME=value` alone on a line
    // (environment files, YAML, INI).
    Shape {
        kind: "secret-value", trigger: NAME_TRIGGER,
        pattern: concat!(
            r#"(?m)^[ \t]*(?:export[ \t]+|set[ \t]+|-[ \t]+)?["']?("#,
            name!(),
            r#")["']?[ \t]*[=:][ \t]*([^ \t\r\n"'`#;,(){}\[\]<>&|]{4,})[ \t]*(?:#.*)?\r?$"#
        ),
        secret: unquoted_assignment,
    },
    // `NAME=value` anywhere (`PGPASSWORD=... psql`, `docker run -e TOKEN=...`).
    Shape {
        kind: "secret-value", trigger: r"(?:PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH)[A-Z0-9_]*=",
        pattern: r#"(?:^|[^A-Za-z0-9_$.-])([A-Z][A-Z0-9_]*(?:PASS|PWD|SECRET|TOKEN|KEY|CREDENTIAL|AUTH)[A-Z0-9_]*)=([^ \t\r\n"'`;&|()<>]{4,})"#,
        secret: env_assignment,
    },
];

struct Matchers {
    /// The triggers: the key markers', then one per shape.
    set: RegexSet,
    /// Each shape's pattern, compiled when its trigger first occurs (compiling them all
    /// would cost a process tens of milliseconds it mostly does not need).
    shapes: Vec<OnceLock<Regex>>,
    begin: Regex,
    end: Regex,
}

impl Matchers {
    fn shape(&self, i: usize) -> &Regex {
        self.shapes[i].get_or_init(|| Regex::new(SHAPES[i].pattern).expect("a valid pattern"))
    }
}

fn matchers() -> &'static Matchers {
    static MATCHERS: OnceLock<Matchers> = OnceLock::new();
    MATCHERS.get_or_init(|| {
        let triggers = [KEY_TRIGGER, KEY_LINES_TRIGGER].into_iter().chain(SHAPES.iter().map(|s| s.trigger));
        Matchers {
            set: RegexSet::new(triggers).expect("the triggers are valid patterns"),
            shapes: SHAPES.iter().map(|_| OnceLock::new()).collect(),
            begin: Regex::new(BEGIN_MARKER).expect("a valid pattern"),
            end: Regex::new(END_MARKER).expect("a valid pattern"),
        }
    })
}

fn group1(_text: &str, c: &Captures) -> Option<Range<usize>> {
    c.get(1).map(|m| m.range())
}

/// Real keys mix letters and digits; `sk-some-long-css-class-name` does not.
fn api_key(_text: &str, c: &Captures) -> Option<Range<usize>> {
    let m = c.get(1)?;
    let rest = &m.as_str()[3..];
    (rest.bytes().any(|b| b.is_ascii_digit()) && rest.bytes().any(|b| b.is_ascii_alphabetic())).then(|| m.range())
}

fn mixed_case(_text: &str, c: &Captures) -> Option<Range<usize>> {
    let m = c.get(1)?;
    let s = m.as_str();
    (s.bytes().any(|b| b.is_ascii_uppercase()) && s.bytes().any(|b| b.is_ascii_lowercase())).then(|| m.range())
}

/// header.payload.signature, each part base64url.
fn jwt(_text: &str, c: &Captures) -> Option<Range<usize>> {
    let m = c.get(1)?;
    (m.as_str().matches('.').count() == 2 && !m.as_str().ends_with('.')).then(|| m.range())
}

/// After a scheme (`Bearer`, `Basic`) anything credential-shaped; without one, a long
/// value mixing letters and digits (not `authorization: required`, nor a type).
fn authorization(_text: &str, c: &Captures) -> Option<Range<usize>> {
    let value = c.get(2)?;
    let v = value.as_str();
    let credential = v.len() >= 16 && v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic()) && !is_not_a_secret(v);
    (c.get(1).is_some() || credential).then(|| value.range())
}

fn bearer(_text: &str, c: &Captures) -> Option<Range<usize>> {
    let m = c.get(1)?;
    let v = m.as_str();
    (v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic())).then(|| m.range())
}

fn url_password(_text: &str, c: &Captures) -> Option<Range<usize>> {
    let m = c.get(1)?;
    (!is_placeholder(m.as_str())).then(|| m.range())
}

fn not_placeholder1(text: &str, c: &Captures) -> Option<Range<usize>> {
    url_password(text, c)
}

/// How strongly a name says its value is a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Secrecy {
    /// `password`, `client_secret`, `apiKey`, `AWS_SECRET_ACCESS_KEY`: any value.
    Strong,
    /// `token`, `auth`: a value that looks like a credential (no spaces).
    Weak,
}

/// Words that make a name a secret's wherever they stand (unless the last word says the
/// value is about the secret, not the secret: `password_hint`, `secret_name`).
const STRONG_WORDS: &[&str] =
    &["password", "passwd", "pwd", "passphrase", "passcode", "secret", "secrets", "apikey", "credential", "credentials", "privatekey"];
/// `<word> key` is a secret's name.
const KEY_QUALIFIERS: &[&str] =
    &["api", "access", "secret", "private", "client", "signing", "encryption", "master", "auth", "account", "app", "service", "webhook", "shared", "consumer", "license", "subscription"];
/// A last word that names a token.
const TOKEN_WORDS: &[&str] = &["token", "auth", "authorization", "bearer", "jwt"];
/// A last word that says the value describes the secret rather than being it.
const ABOUT_WORDS: &[&str] = &[
    "hint", "name", "names", "label", "labels", "id", "ids", "env", "var", "vars", "field", "fields", "type", "types", "kind", "length", "len",
    "size", "min", "max", "file", "filename", "path", "dir", "url", "uri", "endpoint", "prompt", "message", "msg", "placeholder", "required",
    "policy", "header", "title", "description", "desc", "regex", "pattern", "format", "count", "enabled", "manager", "store", "provider", "ref",
    "arn", "version", "rotation", "expires", "expiry", "ttl", "input", "error", "errors", "rule", "rules", "validator", "validation",
    "strength", "hash", "mode", "style", "class", "icon", "button", "visible", "visibility", "form", "column", "table", "text", "help",
    "reset", "changed", "at", "location", "source", "helper", "command", "cmd", "method", "scheme", "algorithm", "alg", "separator",
];

/// The words of an identifier: split at `_`, `-`, `.`, `$`, `@` and camel-case humps,
/// lowercased (`XApiKey` -> x, api, key).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let chars: Vec<char> = part.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (prev, cur) = (chars[i - 1], chars[i]);
            let next_lower = chars.get(i + 1).is_some_and(|c| c.is_ascii_lowercase());
            if cur.is_ascii_uppercase() && (prev.is_ascii_lowercase() || prev.is_ascii_digit() || (prev.is_ascii_uppercase() && next_lower)) {
                out.push(chars[start..i].iter().collect::<String>().to_ascii_lowercase());
                start = i;
            }
        }
        out.push(chars[start..].iter().collect::<String>().to_ascii_lowercase());
    }
    out
}

fn secret_name(name: &str) -> Option<Secrecy> {
    // `password2` is a password; `rusoto_credential-0.11.0` is a crate.
    if words(name).last().is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let words: Vec<String> = words(name).into_iter().map(|w| w.trim_end_matches(|c: char| c.is_ascii_digit()).to_string()).collect();
    let last = words.last()?.as_str();
    if ABOUT_WORDS.contains(&last) {
        return None;
    }
    // `dbpassword`, `mysecret`: the strong words also inside a word.
    if words.iter().any(|w| STRONG_WORDS.iter().any(|s| is_strong_word(w, s))) {
        return Some(Secrecy::Strong);
    }
    if (last == "key" || last == "keys") && words.len() >= 2 && KEY_QUALIFIERS.contains(&words[words.len() - 2].as_str()) {
        return Some(Secrecy::Strong);
    }
    TOKEN_WORDS.contains(&last).then_some(Secrecy::Weak)
}

/// `word` is the strong word `strong`, ends with it (`dbpassword`, `mysecret`) or is it
/// and a noun (`secretkey`), but not a word that merely starts with it (`secretlint`).
fn is_strong_word(word: &str, strong: &str) -> bool {
    word.ends_with(strong) || word.strip_prefix(strong).is_some_and(|rest| matches!(rest, "s" | "key" | "keys" | "token" | "value"))
}

/// Values that stand for a secret without being one: interpolations, references to the
/// environment, masks.
fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    v.is_empty()
        || v.contains("${")
        || v.contains("{{")
        || v.contains("#{")
        || v.contains("%(")
        || v.contains("{}")
        || v.contains("%s")
        || (v.starts_with('<') && v.ends_with('>'))
        || (v.starts_with('$') && v[1..].starts_with(|c: char| c.is_ascii_uppercase() || c == '_' || c == '{'))
        || (v.starts_with('%') && v.ends_with('%'))
        || v.starts_with("process.env")
        || v.starts_with("os.environ")
        || v.chars().all(|c| matches!(c, '*' | 'x' | 'X' | '.' | '-' | '_' | '•'))
}

/// `name.ext`: a short alphanumeric extension.
fn has_extension(v: &str) -> bool {
    v.rsplit_once('.').is_some_and(|(stem, ext)| !stem.is_empty() && (1..=5).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Values that are something else than a secret: a version (`^4.0.0`), the name of a
/// setting or of an environment variable (`embedding.api_key`, `OPENAI_API_KEY`), a
/// path (`config/secrets.yaml`, `serde_json::Value`), a sentence (`Enter your
/// password:`, `Chat model (llm.api_key)`).
fn is_not_a_secret(v: &str) -> bool {
    let version = v.trim_start_matches(['^', '~', '=', '>', '<', 'v']);
    let is_version = version.contains('.') && version.split(['.', '-', '+']).next().is_some_and(|major| !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()));
    let identifier = |part: &str| part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    let setting = v.contains('.') && v.split('.').all(identifier) && !v.bytes().any(|b| b.is_ascii_digit());
    let env_var = v.contains('_') && identifier(v) && v.bytes().all(|b| !b.is_ascii_lowercase());
    let file_path = v.contains('/') && !v.contains(char::is_whitespace) && !v.contains(':') && has_extension(v);
    let path = v.contains("::") || file_path;
    let sentence = v.contains(char::is_whitespace) && (v.contains(['(', ')', '[', ']', '{', '}']) || v.contains(", ") || v.ends_with(['.', ':', '?', '!']));
    is_version || setting || env_var || path || sentence
}

fn quoted_assignment(text: &str, c: &Captures) -> Option<Range<usize>> {
    let name = c.name("name")?;
    let secrecy = secret_name(name.as_str())?;
    // `SkipReason::Secret => "..."`, `TrafficSecret => b"..."`: match arms, not
    // assignments (a hash's key before `=>` is quoted, a symbol or lower-case).
    let before = &text[..name.start()];
    let arm = c.name("op").is_some_and(|op| op.as_str() == "=>")
        && (before.ends_with("::") || (name.as_str().starts_with(|c: char| c.is_ascii_uppercase()) && !before.ends_with(['"', '\'', ':'])));
    if arm {
        return None;
    }
    let value = c.name("dq").or_else(|| c.name("sq")).or_else(|| c.name("bq"))?;
    let v = value.as_str();
    if is_placeholder(v) || is_not_a_secret(v) {
        return None;
    }
    // `token = "Bearer ..."`: the credential after the scheme.
    let scheme = ["bearer ", "basic ", "token "].iter().find(|s| v.len() > s.len() && v.is_char_boundary(s.len()) && v[..s.len()].eq_ignore_ascii_case(s)).map_or(0, |s| s.len());
    let accepted = match secrecy {
        Secrecy::Strong => v.chars().count() >= 6,
        Secrecy::Weak => v.len() >= 8 && (scheme > 0 || !v.contains(char::is_whitespace)),
    };
    accepted.then(|| value.start() + scheme..value.end())
}

/// `("name", "value")`; in a list of names (`["secrets.json", ".secrets.toml"]`) the next
/// item is not a value.
fn quoted_pair(text: &str, c: &Captures) -> Option<Range<usize>> {
    let name = c.name("name")?.as_str();
    let value = c.name("dq").or_else(|| c.name("sq")).or_else(|| c.name("bq"))?.as_str();
    let file_name = |v: &str| has_extension(v) && !v.contains(char::is_whitespace);
    if file_name(name) || file_name(value) {
        return None;
    }
    quoted_assignment(text, c)
}

/// An unquoted value on its own line: in an environment file (`NAME=value`, an upper-case
/// name) anything but a reference; elsewhere (`password: value`) a value that cannot be
/// a type or a path (`password: String`, `token = self.token`): it has a digit or a
/// symbol.
fn unquoted_assignment(_text: &str, c: &Captures) -> Option<Range<usize>> {
    let name = c.get(1)?.as_str();
    let value = c.get(2)?;
    let v = value.as_str();
    secret_name(name)?;
    let lower = v.to_ascii_lowercase();
    if is_placeholder(v) || matches!(lower.as_str(), "none" | "null" | "nil" | "true" | "false" | "undefined" | "required" | "optional") {
        return None;
    }
    let path = v.contains('.') && v.split('.').all(|part| part.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    let env_style = name.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let literal = v.bytes().any(|b| b.is_ascii_digit()) || v.bytes().any(|b| b"+/=!@$%^*~-".contains(&b));
    let accepted = if env_style { !path || literal } else { v.len() >= 8 && literal && !path };
    accepted.then(|| value.range())
}

fn env_assignment(text: &str, c: &Captures) -> Option<Range<usize>> {
    unquoted_assignment(text, c)
}

// ---------------------------------------------------------------------------------------
// Private key blocks.

/// A line near a key's armour: key material (base64, perhaps quoted or commented or
/// with `\n` escapes), an armour header (`Proc-Type: ...`), a gap (blank, or only quotes
/// and punctuation), or anything else.
#[derive(Clone, Debug, PartialEq, Eq)]
enum KeyLine {
    /// The key material's byte range in the line.
    Material(Range<usize>),
    Header,
    Gap,
    Other,
}

fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

fn classify(line: &str) -> KeyLine {
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut end = bytes.len();
    let skip_space = |start: &mut usize, end: usize| {
        while *start < end && bytes[*start].is_ascii_whitespace() {
            *start += 1;
        }
    };
    skip_space(&mut start, end);
    // A comment's leader.
    for leader in ["///", "//!", "//", "#", "*", "--", ";", ">"] {
        if line[start..end].starts_with(leader) {
            start += leader.len();
            break;
        }
    }
    skip_space(&mut start, end);
    if start == end {
        return KeyLine::Gap;
    }
    let rest = &line[start..end];
    if let Some((name, _)) = rest.split_once(": ") {
        if name.len() >= 2 && name.len() <= 30 && name.starts_with(|c: char| c.is_ascii_uppercase()) && name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') {
            return KeyLine::Header;
        }
    }
    // Quotes, concatenation and escapes around the material.
    loop {
        let before = (start, end);
        while start < end && matches!(bytes[start], b'"' | b'\'' | b'`' | b'+' | b'(' | b' ' | b'\t') {
            start += 1;
        }
        while start + 1 < end && bytes[start] == b'\\' && matches!(bytes[start + 1], b'n' | b'r') {
            start += 2;
        }
        while end > start && matches!(bytes[end - 1], b'"' | b'\'' | b'`' | b',' | b';' | b'+' | b')' | b'\\' | b' ' | b'\t' | b'\r') {
            end -= 1;
        }
        while end >= start + 2 && bytes[end - 2] == b'\\' && matches!(bytes[end - 1], b'n' | b'r') {
            end -= 2;
        }
        if (start, end) == before {
            break;
        }
    }
    if start == end {
        return KeyLine::Gap;
    }
    let mut i = start;
    while i < end {
        if bytes[i] == b'\\' && i + 1 < end && matches!(bytes[i + 1], b'n' | b'r') {
            i += 2;
        } else if is_base64(bytes[i]) {
            i += 1;
        } else {
            return KeyLine::Other;
        }
    }
    KeyLine::Material(start..end)
}

/// Lines of `text` within `range`, as (start offset, line without its newline).
fn lines_in(text: &str, range: Range<usize>) -> impl DoubleEndedIterator<Item = (usize, &str)> {
    let slice = &text[range.clone()];
    let mut starts = vec![0];
    starts.extend(memchr::memchr_iter(b'\n', slice.as_bytes()).map(|i| i + 1));
    let ends: Vec<usize> = starts.iter().skip(1).map(|&s| s - 1).chain(std::iter::once(slice.len())).collect();
    starts.into_iter().zip(ends).map(move |(s, e)| (range.start + s, &text[range.start + s..range.start + e]))
}

/// The end of the base64 run (`\n` escapes inside it allowed) starting at `from`, not
/// past `to`: after its last base64 character.
fn run_forward(text: &str, from: usize, to: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut last) = (from, from);
    while i < to {
        if i + 1 < to && bytes[i] == b'\\' && matches!(bytes[i + 1], b'n' | b'r') {
            i += 2;
        } else if is_base64(bytes[i]) {
            i += 1;
            last = i;
        } else {
            break;
        }
    }
    last
}

/// The start of the base64 run ending at `to`, not before `from`.
fn run_backward(text: &str, from: usize, to: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut first) = (to, to);
    while i > from {
        if i >= from + 2 && bytes[i - 2] == b'\\' && matches!(bytes[i - 1], b'n' | b'r') {
            i -= 2;
        } else if is_base64(bytes[i - 1]) {
            i -= 1;
            first = i;
        } else {
            break;
        }
    }
    first
}

/// The end of the key material that follows a BEGIN line ending at `from`, not past
/// `limit`: the rest of that line, then lines of material and armour headers, with
/// single gaps between them.
fn material_after(text: &str, from: usize, limit: usize) -> usize {
    let line_end = text[from..limit].find('\n').map_or(limit, |i| from + i);
    let mut end = run_forward(text, from, line_end);
    if line_end == limit || classify(&text[end..line_end]) != KeyLine::Gap {
        return end;
    }
    let mut pending_gap = false;
    for (start, line) in lines_in(text, line_end + 1..limit) {
        match classify(line) {
            KeyLine::Material(range) => {
                end = start + range.end;
                pending_gap = false;
            }
            KeyLine::Header => end = start + line.len(),
            KeyLine::Gap if !pending_gap => pending_gap = true,
            _ => break,
        }
    }
    end
}

/// The start of the key material that comes before an END line starting at `to`, not
/// before `limit`.
fn material_before(text: &str, to: usize, limit: usize) -> usize {
    let line_start = text[limit..to].rfind('\n').map_or(limit, |i| limit + i + 1);
    let mut start = run_backward(text, line_start, to);
    if line_start == limit || classify(&text[line_start..start]) != KeyLine::Gap {
        return start;
    }
    let mut pending_gap = false;
    for (begin, line) in lines_in(text, limit..line_start - 1).rev() {
        match classify(line) {
            KeyLine::Material(range) => {
                start = begin + range.start;
                pending_gap = false;
            }
            KeyLine::Header => start = begin,
            KeyLine::Gap if !pending_gap => pending_gap = true,
            _ => break,
        }
    }
    start
}

fn private_keys(text: &str, extent: Extent, matchers: &Matchers, found: &mut Vec<Found>) {
    // Armour lines in order: (range, is a BEGIN).
    let mut markers: Vec<(Range<usize>, bool)> =
        matchers.begin.find_iter(text).map(|m| (m.range(), true)).chain(matchers.end.find_iter(text).map(|m| (m.range(), false))).collect();
    markers.sort_by_key(|(range, _)| range.start);
    let mut i = 0;
    while i < markers.len() {
        let (marker, begin) = markers[i].clone();
        let previous_end = if i == 0 { 0 } else { markers[i - 1].0.end };
        let next = markers.get(i + 1);
        if begin {
            match next {
                Some((end_marker, false)) => {
                    found.push((marker.start..end_marker.end, "private-key"));
                    i += 2;
                    continue;
                }
                None if extent == Extent::Part => found.push((marker.start..text.len(), "private-key")),
                _ => {
                    let limit = next.map_or(text.len(), |(r, _)| r.start);
                    found.push((marker.start..material_after(text, marker.end, limit), "private-key"));
                }
            }
        } else if i == 0 && extent == Extent::Part {
            found.push((0..marker.end, "private-key"));
        } else {
            found.push((material_before(text, marker.start, previous_end)..marker.end, "private-key"));
        }
        i += 1;
    }
}

/// Lines of key material with neither armour line in sight: the middle of a key longer
/// than a chunk (a PGP block with subkeys runs past a hundred lines), or a retrieved
/// excerpt cut on both sides of it. A run of at least this many lines of long base64
/// (letters of both cases and digits, 40 characters or more) is redacted, unless a
/// public block's armour (a certificate, a public key) is right before or after it.
const MIN_RUN_LINES: usize = 3;

fn key_material_runs(text: &str, found: &mut Vec<Found>) {
    let key_line = |core: &str| {
        let b = core.as_bytes();
        b.len() >= 40 && b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase) && b.iter().any(u8::is_ascii_digit)
    };
    let public_armour = |line: &str, word: &str| line.contains(word) && !line.contains("PRIVATE KEY");
    // The open run: (start of its material, end of its material, lines, the line before).
    let mut run: Option<(usize, usize, usize, &str)> = None;
    let mut previous = "";
    let mut close = |run: Option<(usize, usize, usize, &str)>, after: &str| {
        if let Some((start, end, lines, before)) = run {
            if lines >= MIN_RUN_LINES && !public_armour(before, "-----BEGIN ") && !public_armour(after, "-----END ") {
                found.push((start..end, "private-key"));
            }
        }
    };
    for (start, line) in lines_in(text, 0..text.len()) {
        let material = match classify(line) {
            KeyLine::Material(range) if key_line(&line[range.clone()]) => Some(range),
            _ => None,
        };
        match (material, run) {
            (Some(range), Some((first, _, lines, before))) => run = Some((first, start + range.end, lines + 1, before)),
            (Some(range), None) => run = Some((start + range.start, start + range.end, 1, previous)),
            (None, Some(_)) => {
                close(run.take(), line);
            }
            (None, None) => {}
        }
        previous = line;
    }
    close(run, "");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shapes_of_secrets_are_replaced() {
        let text = "const key = \"sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c\";\n\
                    aws = AKIAIOSFODNN7EXAMPLE\n\
                    token: ghp_0123456789abcdefghijABCDEFGHIJ012345\n\
                    let t = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U;\n\
                    password = \"hunter2hunter2\"\n";
        let (out, count) = redact(text);
        assert_eq!(count, 5, "{out}");
        assert_eq!(
            out,
            "const key = \"[REDACTED:api-key]\";\naws = [REDACTED:aws-access-key]\ntoken: [REDACTED:github-token]\n\
             let t = [REDACTED:jwt];\npassword = \"[REDACTED:secret-value]\"\n"
        );
    }

    #[test]
    fn private_key_blocks_go_whole() {
        let text = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----\nafter";
        assert_eq!(redact(text), ("before\n[REDACTED:private-key]\nafter".to_string(), 1));
        // A public key or a certificate is not a secret.
        let public = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----";
        assert_eq!(redact(public).1, 0);
    }

    #[test]
    fn ordinary_code_is_left_alone() {
        for text in [
            "let password_hint = \"ask\";",
            "const apiKey = process.env.OPENAI_API_KEY;",
            "password: \"${PASSWORD}\"",
            "class=\"sk-navigation-menu-item\"",
            "fn secret_len(secret: &str) -> usize { secret.len() }",
            "let token = tokens.next();",
            "AKIA is a prefix",
            "const secret = \"********\";",
        ] {
            assert_eq!(redact(text), (text.to_string(), 0), "{text}");
        }
    }

    const PGP: &str = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBF0pZJQBCAC7mWnC3Yq9bK1Q2sV8kXh4pPpG2d9LmQzR4tYb8vN1cXwE7aHf\nPk4Zs2LmN9qT5vYxW3cB8dE1fG6hJ0kL4mN7oP2qR5sT8uV1wX4yZ7aB0cD3eF6g\n=Xk2L\n-----END PGP PRIVATE KEY BLOCK-----";

    #[test]
    fn pgp_and_openssh_private_keys() {
        let text = format!("key:\n{PGP}\ndone");
        assert_eq!(redact(&text), ("key:\n[REDACTED:private-key]\ndone".to_string(), 1));
        let ssh = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";
        assert_eq!(redact(ssh).0, "[REDACTED:private-key]\n");
    }

    /// A key that stops: its BEGIN line and material go, the code after it stays.
    #[test]
    fn a_key_block_without_its_end_line_redacts_that_block_only() {
        let text = "/// -----BEGIN PRIVATE KEY-----\n/// MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n/// hW1dzd1Kq8Jx3nLq5mYt2ZpQ9rVbNs4Kx1\npub fn sign(data: &[u8]) -> Vec<u8> {\n    data.to_vec()\n}\n";
        let (out, count) = redact(text);
        assert_eq!(count, 1);
        assert_eq!(out, "/// [REDACTED:private-key]\npub fn sign(data: &[u8]) -> Vec<u8> {\n    data.to_vec()\n}\n");
        // In a string of a JSON file, with `\n` escapes, the END line gone.
        let json = "{\"pem\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\nBKcwggSjAgEAAoIBAQC7\\n\",\n \"client_email\": \"a@b.iam\"}";
        let (out, _) = redact(json);
        assert_eq!(out, "{\"pem\": \"[REDACTED:private-key]\\n\",\n \"client_email\": \"a@b.iam\"}");
        // An END line alone: the material above it goes.
        let tail = "fn keep() {}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7==\n-----END RSA PRIVATE KEY-----\nfn also_kept() {}";
        assert_eq!(redact(tail).0, "fn keep() {}\n[REDACTED:private-key]\nfn also_kept() {}");
    }

    /// A key cut by a fill-in-the-middle cursor or a chunk boundary: every part is
    /// redacted, nothing of the material survives in either.
    #[test]
    fn a_key_split_between_parts_is_redacted_in_each() {
        let key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkXw3Yq9bK1Q2sV8kXh4pPpG2d9LmQzR4tYb8vN1cXwoAoGCCqGSM49\nAwEHoUQDQgAE7aHfPk4Zs2LmN9qT5vYxW3cB8dE1fG6hJ0kL4mN7oP2qR5sT8uV1\nwX4yZ7aB0cD3eF6g==\n-----END EC PRIVATE KEY-----\n";
        let text = format!("fn before() {{}}\nconst KEY: &str = \"\n{key}\";\nfn after() {{}}\n");
        let material: Vec<&str> = key.lines().skip(1).take(3).collect();
        for cut in (0..=text.len()).filter(|&i| text.is_char_boundary(i)) {
            let (prefix, suffix) = text.split_at(cut);
            let (p, _) = redact_part(prefix);
            let (s, _) = redact_part(suffix);
            for line in &material {
                // A fragment of 6 or more characters of a material line must not survive.
                for piece in line.as_bytes().windows(6) {
                    let piece = std::str::from_utf8(piece).unwrap();
                    assert!(!p.contains(piece) && !s.contains(piece), "cut at {cut}: {piece:?} in\n{p}\n---\n{s}");
                }
            }
            assert!(p.starts_with("fn before() {}") || cut < 14, "{p}");
        }
        // The part mode also covers a whole block inside the part.
        assert_eq!(redact_part(&text).0, "fn before() {}\nconst KEY: &str = \"\n[REDACTED:private-key]\n\";\nfn after() {}\n");
    }

    /// A key longer than a part: a part holding only its middle lines is redacted too; a
    /// certificate's body (public) is not.
    #[test]
    fn the_middle_of_a_long_key_is_redacted_in_a_part_of_its_own() {
        let lines: Vec<String> = (0..120).map(|i| format!("lQOYBF0pZJQBCAC7mWnC3Yq9bK1Q2sV8kXh4pPpG2d9LmQzR4tYb8vN1cXwE7aHf{i:03}")).collect();
        let block = format!("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{}\n-----END PGP PRIVATE KEY BLOCK-----\n", lines.join("\n"));
        let all: Vec<&str> = block.lines().collect();
        for part in all.chunks(40) {
            let part = part.join("\n");
            let (out, _) = redact_part(&part);
            assert!(!lines.iter().any(|l| out.contains(l.as_str())), "{out}");
        }
        let certificate = format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----", lines[..5].join("\n"));
        assert_eq!(redact(&certificate).1, 0);
        // Two lines are not a run: a hash, a long identifier.
        let two = format!("{}\n{}\nfn main() {{}}", lines[0], lines[1]);
        assert_eq!(redact(&two).1, 0);
    }

    /// Samples of what is a secret (kind, the secret, the text) and what is not, from
    /// `redact_corpus.txt`.
    #[test]
    fn the_corpus_of_positive_and_negative_samples() {
        let corpus = include_str!("redact_corpus.txt");
        let unescape = |s: &str| s.replace("\\n", "\n").replace("\\t", "\t");
        let (mut positives, mut negatives) = (0, 0);
        let mut failures = Vec::new();
        for line in corpus.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                ["+", kind, secret, text] => {
                    positives += 1;
                    let text = unescape(text);
                    let (out, count) = redact(&text);
                    let tag = format!("[REDACTED:{kind}]");
                    if count == 0 || out.contains(secret) || !out.contains(&tag) {
                        failures.push(format!("missed {kind} {secret:?} in {text:?}: {out:?}"));
                    }
                }
                ["-", text] => {
                    negatives += 1;
                    let text = unescape(text);
                    let (out, count) = redact(&text);
                    if count != 0 {
                        failures.push(format!("redacted ordinary text {text:?}: {out:?}"));
                    }
                }
                _ => panic!("malformed corpus line: {line:?}"),
            }
            // A shape never matches where its trigger does not occur.
            let text = unescape(fields.last().unwrap());
            for (i, shape) in SHAPES.iter().enumerate() {
                if matchers().shape(i).is_match(&text) && !Regex::new(shape.trigger).unwrap().is_match(&text) {
                    failures.push(format!("{} matches {text:?} but its trigger {} does not", shape.kind, shape.trigger));
                }
            }
        }
        assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
        assert!(positives >= 40 && negatives >= 40, "{positives} positives, {negatives} negatives");
    }

    #[test]
    fn names_by_their_words() {
        assert_eq!(words("XApiKey"), ["x", "api", "key"]);
        assert_eq!(words("AWS_SECRET_ACCESS_KEY"), ["aws", "secret", "access", "key"]);
        assert_eq!(words("self.dbPassword"), ["self", "db", "password"]);
        assert_eq!(secret_name("clientSecret"), Some(Secrecy::Strong));
        assert_eq!(secret_name("password_hint"), None);
        assert_eq!(secret_name("csrf_token"), Some(Secrecy::Weak));
        assert_eq!(secret_name("token_type"), None);
        assert_eq!(secret_name("monkey"), None);
        assert_eq!(secret_name("SECRET_KEY_BASE"), Some(Secrecy::Strong));
    }

    proptest! {
        #[test]
        fn never_panics_and_keeps_text_without_secrets(text in ".{0,400}") {
            let (out, count) = redact(&text);
            if count == 0 {
                prop_assert_eq!(out, text.clone());
            }
            let (out, count) = redact_part(&text);
            if count == 0 {
                prop_assert_eq!(out, text);
            }
        }

        #[test]
        fn never_panics_on_near_misses(text in "(sk-|AKIA|eyJ|-----BEGIN |-----END |PRIVATE KEY-----|password=\"|://u:p@|\n|[a-z0-9._\"' =:-]){0,60}") {
            let _ = redact(&text);
            let _ = redact_part(&text);
        }
    }
}

