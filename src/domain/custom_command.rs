//! Custom commands: a per-guild name -> canned response with `{user}`, `{server}`, `{balance}`
//! and `{currency}` placeholders. Pure rules only (name checks, rendering); storage is store/custom.rs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::embed::{limits, truncate_chars};
use super::error::DomainError;
use super::Actor;

/// Names Coffer's own commands use; a custom command may not shadow them.
pub const BUILT_IN_COMMANDS: [&str; 14] = [
    "balance",
    "daily",
    "give",
    "leaderboard",
    "history",
    "shop",
    "buy",
    "inventory",
    "use",
    "tasks",
    "claim",
    "task_submit",
    "mytasks",
    "admin",
];

pub const NAME_MAX: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CustomCommand {
    pub name: String,
    pub response: String,
    pub created_by: Actor,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Trims and lower-cases `name`, then checks it: 1 to 32 of `a-z`, `0-9`, `-`, `_`, and not a
/// built-in command.
pub fn parse_command_name(name: &str) -> Result<String, DomainError> {
    let n = name.trim().to_lowercase();
    if n.is_empty() || n.chars().count() > NAME_MAX {
        return Err(DomainError::invalid(
            "name",
            format!("must be 1 to {NAME_MAX} characters"),
        ));
    }
    if let Some(bad) = n
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_'))
    {
        return Err(DomainError::invalid(
            "name",
            format!("may only use lowercase letters, digits, - and _ (not `{bad}`)"),
        ));
    }
    if BUILT_IN_COMMANDS.contains(&n.as_str()) {
        return Err(DomainError::invalid(
            "name",
            format!("`{n}` is one of Coffer's own commands; pick another name"),
        ));
    }
    Ok(n)
}

/// 1 to 2000 characters (what a Discord message can hold).
pub fn validate_response(response: &str) -> Result<(), DomainError> {
    let n = response.chars().count();
    if response.trim().is_empty() || n > limits::CONTENT {
        return Err(DomainError::invalid(
            "response",
            format!("must be 1 to {} characters (it has {n})", limits::CONTENT),
        ));
    }
    super::text::check_text("response", response)?;
    Ok(())
}

/// What the placeholders become for one use of a command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderContext {
    /// Usually a mention, `<@123>`.
    pub user: String,
    pub server: String,
    /// Already formatted, e.g. `1,250`.
    pub balance: String,
    pub currency: String,
}

/// Replaces `{user}`, `{server}`, `{balance}` and `{currency}` in one pass (so a placeholder
/// inside a substituted value is left alone); unknown `{...}` stay as written. The result is
/// cut to 2000 characters.
pub fn render(response: &str, ctx: &RenderContext) -> String {
    let mut out = String::with_capacity(response.len());
    let mut rest = response;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let value = [
            ("{user}", &ctx.user),
            ("{server}", &ctx.server),
            ("{balance}", &ctx.balance),
            ("{currency}", &ctx.currency),
        ]
        .into_iter()
        .find(|(p, _)| tail.starts_with(p));
        match value {
            Some((p, v)) => {
                out.push_str(v);
                rest = &tail[p.len()..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    truncate_chars(&out, limits::CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_lowercased_and_checked() {
        assert_eq!(parse_command_name(" Rules ").unwrap(), "rules");
        assert_eq!(parse_command_name("faq_2-b").unwrap(), "faq_2-b");
        assert_eq!(parse_command_name(&"a".repeat(32)).unwrap().len(), 32);
        for bad in ["", "   ", &"a".repeat(33), "hi there", "héllo", "a!", "a.b"] {
            let e = parse_command_name(bad).unwrap_err();
            assert!(e.to_string().starts_with("name:"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn built_in_command_names_are_refused() {
        for b in BUILT_IN_COMMANDS {
            let e = parse_command_name(b).unwrap_err();
            assert!(e.to_string().contains("own commands"), "{b}: {e}");
        }
        assert!(parse_command_name("Balance").is_err());
        assert!(parse_command_name("balances").is_ok());
    }

    #[test]
    fn responses_are_1_to_2000_characters() {
        validate_response("x").unwrap();
        validate_response(&"é".repeat(2000)).unwrap();
        assert!(validate_response(&"é".repeat(2001)).is_err());
        let e = validate_response(" ").unwrap_err();
        assert!(e.to_string().starts_with("response:"), "{e}");
    }

    fn ctx() -> RenderContext {
        RenderContext {
            user: "<@1>".into(),
            server: "Cafe".into(),
            balance: "1,250".into(),
            currency: "coins".into(),
        }
    }

    #[test]
    fn render_substitutes_every_placeholder() {
        assert_eq!(
            render(
                "Hi {user}, welcome to {server}! You have {balance} {currency}. {user}",
                &ctx()
            ),
            "Hi <@1>, welcome to Cafe! You have 1,250 coins. <@1>"
        );
    }

    #[test]
    fn render_leaves_unknown_braces_and_does_not_resubstitute() {
        let c = RenderContext {
            user: "{balance}".into(),
            ..ctx()
        };
        assert_eq!(render("{user} {nope} {", &c), "{balance} {nope} {");
        assert_eq!(render("{{user}}", &ctx()), "{<@1>}");
        assert_eq!(render("no placeholders", &ctx()), "no placeholders");
    }

    #[test]
    fn render_cuts_the_result_to_a_discord_message() {
        let c = RenderContext {
            user: "u".repeat(1500),
            ..ctx()
        };
        let out = render("{user}{user}", &c);
        assert_eq!(out.chars().count(), 2000);
        assert!(out.ends_with('…'));
    }
}
