//! Secrets in text about to leave the machine: private key blocks, provider keys and
//! tokens of well-known shapes (OpenAI/Anthropic `sk-`, AWS access key ids, GitHub, Slack,
//! Google API keys, Stripe live keys, JWTs) and quoted values assigned to names that say
//! they are secrets (`password = "..."`, `apiKey: '...'`) are replaced by
//! `[REDACTED:kind]` before a prompt or an embedding input is sent (`llm.redact_secrets`,
//! on by default). Shapes are matched by hand (no regex engine): linear in the text.

/// `text` with its secrets replaced, and how many were.
pub fn redact(text: &str) -> (String, usize) {
    let mut found: Vec<(usize, usize, &'static str)> = Vec::new();
    private_keys(text, &mut found);
    tokens(text, &mut found);
    assignments(text, &mut found);
    if found.is_empty() {
        return (text.to_string(), 0);
    }
    found.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut count = 0;
    for (start, end, kind) in found {
        if start < at {
            continue; // inside one already replaced
        }
        out.push_str(&text[at..start]);
        out.push_str(&format!("[REDACTED:{kind}]"));
        at = end;
        count += 1;
    }
    out.push_str(&text[at..]);
    (out, count)
}

fn private_keys(text: &str, found: &mut Vec<(usize, usize, &'static str)>) {
    let mut from = 0;
    while let Some(i) = text[from..].find("-----BEGIN ") {
        let start = from + i;
        let header_end = match text[start + 11..].find("-----") {
            Some(j) => start + 11 + j,
            None => break,
        };
        let label = &text[start + 11..header_end];
        from = header_end + 5;
        if !label.ends_with("PRIVATE KEY") || label.len() > 40 || label.contains('\n') {
            continue;
        }
        let end_marker = format!("-----END {label}-----");
        let end = text[from..].find(&end_marker).map_or(text.len(), |j| from + j + end_marker.len());
        found.push((start, end, "private-key"));
        from = end;
    }
}

fn is_token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Well-known token shapes: (prefix, kind, minimum length of the rest, allowed rest).
const SHAPES: &[(&str, &str, usize, fn(u8) -> bool)] = &[
    ("sk-", "api-key", 20, is_token_char),
    ("AKIA", "aws-access-key", 16, is_upper_alnum),
    ("ASIA", "aws-access-key", 16, is_upper_alnum),
    ("ghp_", "github-token", 30, is_alnum),
    ("gho_", "github-token", 30, is_alnum),
    ("ghu_", "github-token", 30, is_alnum),
    ("ghs_", "github-token", 30, is_alnum),
    ("ghr_", "github-token", 30, is_alnum),
    ("github_pat_", "github-token", 40, is_word),
    ("xoxb-", "slack-token", 10, is_token_char),
    ("xoxp-", "slack-token", 10, is_token_char),
    ("xoxa-", "slack-token", 10, is_token_char),
    ("xoxs-", "slack-token", 10, is_token_char),
    ("AIza", "google-api-key", 35, is_token_char),
    ("sk_live_", "stripe-key", 20, is_alnum),
    ("rk_live_", "stripe-key", 20, is_alnum),
    ("eyJ", "jwt", 20, is_jwt_char),
];

fn is_upper_alnum(c: u8) -> bool {
    c.is_ascii_uppercase() || c.is_ascii_digit()
}

fn is_alnum(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_jwt_char(c: u8) -> bool {
    is_token_char(c) || c == b'.'
}

fn tokens(text: &str, found: &mut Vec<(usize, usize, &'static str)>) {
    let bytes = text.as_bytes();
    for &(prefix, kind, min_rest, allowed) in SHAPES {
        let mut from = 0;
        while let Some(i) = text[from..].find(prefix) {
            let start = from + i;
            from = start + prefix.len();
            // A token starts at a word boundary.
            if start > 0 && is_token_char(bytes[start - 1]) {
                continue;
            }
            let mut end = from;
            while end < bytes.len() && allowed(bytes[end]) {
                end += 1;
            }
            let rest = &text[from..end];
            let shaped = match kind {
                // header.payload.signature, each part base64url.
                "jwt" => rest.matches('.').count() == 2 && !rest.ends_with('.'),
                // Real keys mix letters and digits; `sk-some-long-css-class-name` does not.
                "api-key" => rest.bytes().any(|b| b.is_ascii_digit()) && rest.bytes().any(|b| b.is_ascii_alphabetic()),
                _ => true,
            };
            if rest.len() >= min_rest && shaped {
                found.push((start, end, kind));
                from = end;
            }
        }
    }
}

/// Names that say their value is a secret.
const SECRET_NAMES: &[&str] = &[
    "password", "passwd", "secret", "api_key", "apikey", "api-key", "access_token", "accesstoken", "auth_token", "authtoken",
    "private_key", "privatekey", "client_secret", "clientsecret", "secret_key", "secretkey",
];

/// `name = "value"`, `name: 'value'`, `"name": "value"` where the name (lowercased, the
/// last word of a dotted or camel-cased identifier counts) is a secret's: the value is
/// replaced when it is at least 8 characters and not a placeholder or an interpolation.
fn assignments(text: &str, found: &mut Vec<(usize, usize, &'static str)>) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c != b'=' && c != b':' {
            i += 1;
            continue;
        }
        // The name before the operator.
        let mut name_end = i;
        while name_end > 0 && matches!(bytes[name_end - 1], b' ' | b'\t' | b'"' | b'\'') {
            name_end -= 1;
        }
        let mut name_start = name_end;
        while name_start > 0 && (bytes[name_start - 1].is_ascii_alphanumeric() || matches!(bytes[name_start - 1], b'_' | b'-')) {
            name_start -= 1;
        }
        let name = text[name_start..name_end].to_ascii_lowercase();
        let secret_name = SECRET_NAMES.iter().any(|s| name == *s || name.ends_with(&format!("_{s}")) || name.ends_with(s) && name.len() > s.len() && s.len() >= 6);
        // The quoted value after it.
        let mut v = i + 1;
        while v < bytes.len() && matches!(bytes[v], b' ' | b'\t') {
            v += 1;
        }
        i += 1;
        if !secret_name || v >= bytes.len() || !matches!(bytes[v], b'"' | b'\'' | b'`') {
            continue;
        }
        let quote = bytes[v];
        let value_start = v + 1;
        let Some(len) = bytes[value_start..].iter().position(|&b| b == quote || b == b'\n') else { continue };
        if bytes[value_start + len] != quote {
            continue;
        }
        let value = &text[value_start..value_start + len];
        let placeholder = value.contains("${") || value.contains("{{") || value.starts_with('<') || value.starts_with("process.env") || value.chars().all(|c| c == '*' || c == 'x' || c == 'X');
        if value.len() >= 8 && !placeholder && !value.contains(' ') {
            found.push((value_start, value_start + len, "secret-value"));
        }
        i = value_start + len + 1;
    }
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

    proptest! {
        #[test]
        fn never_panics_and_keeps_text_without_secrets(text in ".{0,400}") {
            let (out, count) = redact(&text);
            if count == 0 {
                prop_assert_eq!(out, text);
            }
        }

        #[test]
        fn never_panics_on_near_misses(text in "(sk-|AKIA|eyJ|-----BEGIN |password=\"|[a-z0-9._\"' =:-]){0,60}") {
            let _ = redact(&text);
        }
    }
}
