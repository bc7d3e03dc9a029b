//! Project instructions in prompts: what a team wrote once for every request (conventions,
//! API design, decisions), from `.ctxls/instructions.md` files (one in a subdirectory
//! applies to the files under it) and the files teams already keep for assistants
//! (`AGENTS.md`, `.github/copilot-instructions.md`). The most specific come first and the
//! whole stays within a token budget: a file that does not fit is cut at a line, with a
//! note, and the rest are left out.

use crate::llm::{Message, Prompt};

/// One instructions file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instructions {
    /// Relative to the workspace root.
    pub path: String,
    pub text: String,
}

/// The instructions as one section, most specific first, within `budget` tokens.
pub fn render(files: &[Instructions], budget: usize, count_tokens: &dyn Fn(&str) -> usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for file in files.iter().filter(|f| !f.text.trim().is_empty()) {
        let header = format!("From {}:\n", file.path);
        let body = file.text.trim();
        let whole = count_tokens(&header) + count_tokens(body);
        if used + whole <= budget {
            out.push_str(&header);
            out.push_str(body);
            out.push_str("\n\n");
            used += whole;
            continue;
        }
        // The part that fits, whole lines, then nothing more.
        let mut kept = String::new();
        let mut kept_tokens = count_tokens(&header);
        for line in body.lines() {
            let cost = count_tokens(line) + 1;
            if used + kept_tokens + cost > budget {
                break;
            }
            kept.push_str(line);
            kept.push('\n');
            kept_tokens += cost;
        }
        if !kept.trim().is_empty() {
            out.push_str(&header);
            out.push_str(&kept);
            out.push_str(&format!("[... the rest of {} is left out]\n\n", file.path));
        }
        break;
    }
    out.trim_end().to_string()
}

/// `prompt` with the instructions added to its system message (a chat prompt gains one
/// when it has none; other prompts are returned as they are).
pub fn apply(prompt: crate::llm::Prompt, instructions: &str) -> Prompt {
    if instructions.trim().is_empty() {
        return prompt;
    }
    let section = format!("Project instructions (follow them):\n\n{instructions}");
    match prompt {
        Prompt::Chat(mut messages) => {
            match messages.iter_mut().find(|m| m.role == crate::llm::Role::System) {
                Some(system) => {
                    system.content.push_str("\n\n");
                    system.content.push_str(&section);
                }
                None => messages.insert(0, Message::system(section)),
            }
            Prompt::Chat(messages)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> usize {
        text.split_whitespace().count()
    }

    #[test]
    fn most_specific_first_within_the_budget() {
        let files = [
            Instructions { path: "web/.ctxls/instructions.md".into(), text: "Use fetch, never axios.\n".into() },
            Instructions { path: "AGENTS.md".into(), text: "Write tests.\nKeep functions short.\nNo unsafe.\n".into() },
            Instructions { path: ".github/copilot-instructions.md".into(), text: "Never shown.\n".into() },
        ];
        assert_eq!(render(&files, 100, &words), "From web/.ctxls/instructions.md:\nUse fetch, never axios.\n\nFrom AGENTS.md:\nWrite tests.\nKeep functions short.\nNo unsafe.\n\nFrom .github/copilot-instructions.md:\nNever shown.");
        // 6 words for the first file; the second is cut at a line.
        assert_eq!(
            render(&files, 13, &words),
            "From web/.ctxls/instructions.md:\nUse fetch, never axios.\n\nFrom AGENTS.md:\nWrite tests.\n[... the rest of AGENTS.md is left out]"
        );
    }

    #[test]
    fn instructions_join_the_system_message() {
        let prompt = Prompt::Chat(vec![Message::system("Be brief."), Message::user("Q")]);
        let Prompt::Chat(messages) = apply(prompt, "From AGENTS.md:\nWrite tests.") else { panic!() };
        assert_eq!(messages[0].content, "Be brief.\n\nProject instructions (follow them):\n\nFrom AGENTS.md:\nWrite tests.");
        let Prompt::Chat(messages) = apply(Prompt::Chat(vec![Message::user("Q")]), "X") else { panic!() };
        assert_eq!(messages[0].role, crate::llm::Role::System);
        assert_eq!(apply(Prompt::Raw("r".into()), "X"), Prompt::Raw("r".into()));
    }
}
