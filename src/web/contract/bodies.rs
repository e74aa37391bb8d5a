//! What request bodies may hold, in one table read by the document (`constrain`) and checked
//! against the server by `src/web/tests/contract_bodies.rs`. Every limit here is a constant the
//! validator itself uses, so the two cannot drift; the text patterns spell out the text rules of
//! `domain::text` (trimming, no control characters, no invisible marks).

use serde_json::{json, Map, Value};

use crate::domain::embed::limits as embed;
use crate::domain::money::MAX_AMOUNT;
use crate::domain::tasks as task;
use crate::domain::{custom_command, shop};

/// Control characters (C0, DEL, C1): `char::is_control`.
const CTRL: &str = "\\x00-\\x1F\\x7F-\\x9F";
/// The invisible marks of `domain::text::is_invisible_mark`.
const MARKS: &str =
    "\\u061C\\u200B\\u200E\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u2069\\uFEFF";
/// `char::is_whitespace` (what `str::trim` removes).
const WS: &str =
    "\\t\\n\\x0B\\x0C\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";
/// The whitespace that is not a control character.
const WS_PRINTABLE: &str = " \\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

/// A character allowed in a one-line name.
fn name_char() -> String {
    format!("[^{CTRL}{MARKS}]")
}

/// A character allowed in multi-line text (newline, carriage return and tab too).
fn text_char() -> String {
    format!("[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F{MARKS}]")
}

/// A character allowed anywhere that is not whitespace.
fn solid_char() -> String {
    format!("[^{CTRL}{MARKS}{WS_PRINTABLE}]")
}

/// How a text field is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// Trimmed first; what is kept is `min..=max` characters of one line.
    Name,
    /// Trimmed first; what is kept is at most `max` characters, newlines allowed.
    Block,
    /// Checked as sent, one line (nothing trimmed).
    RawLine,
    /// Checked as sent, newlines allowed.
    RawBlock,
}

/// One rule for one body field.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// Text of `min..=max` characters (`min` 1 means "not blank").
    Text { text: Text, min: usize, max: usize },
    /// A whole number in `min..=max`.
    Int { min: i64, max: i64 },
    /// A whole number in `min..=max`, not 0.
    NonZero { min: i64, max: i64 },
    /// Exactly one of these words.
    Words(&'static [&'static str]),
    /// A string matching `pattern()`, at most `max` characters, none of the words `not`.
    Pattern {
        pattern: fn() -> String,
        max: usize,
        not: &'static [&'static str],
    },
    /// An array of `min..=max` items (each as its own schema says).
    Items { min: usize, max: usize },
    /// Any text of at most `max` characters.
    Chars { max: usize },
    /// An id (`ID_PATTERN`).
    Id,
    /// An id, or empty for none (`ID_FILTER_PATTERN`).
    IdFilter,
}

impl Rule {
    /// The JSON Schema of a value this rule accepts.
    pub fn schema(self) -> Value {
        match self {
            Rule::Text { text, min, max } => text_schema(text, min, max),
            Rule::Int { min, max } => json!({ "type": "integer", "minimum": min, "maximum": max }),
            Rule::NonZero { min, max } => json!({
                "type": "integer", "minimum": min, "maximum": max, "not": { "const": 0 }
            }),
            Rule::Words(words) => json!({ "type": "string", "enum": words }),
            Rule::Pattern { pattern, max, not } => {
                // usize::MAX: the pattern bounds the length itself (around trimmed space).
                let mut s = json!({ "type": "string", "pattern": pattern() });
                if max != usize::MAX {
                    s["maxLength"] = json!(max);
                }
                if !not.is_empty() {
                    s["not"] = json!({ "enum": not });
                }
                s
            }
            Rule::Items { min, max } => {
                json!({ "type": "array", "minItems": min, "maxItems": max })
            }
            Rule::Chars { max } => json!({ "type": "string", "maxLength": max }),
            Rule::Id => json!({ "type": "string", "pattern": super::ID_PATTERN }),
            Rule::IdFilter => json!({ "type": "string", "pattern": super::ID_FILTER_PATTERN }),
        }
    }
}

fn text_schema(text: Text, min: usize, max: usize) -> Value {
    let solid = solid_char();
    let (inner, trimmed) = match text {
        Text::Name => (name_char(), true),
        Text::Block => (text_char(), true),
        Text::RawLine => (name_char(), false),
        Text::RawBlock => (text_char(), false),
    };
    if trimmed {
        // Leading and trailing whitespace goes; the kept part starts and ends with a solid
        // character and holds at most `max` of them.
        let kept = match max {
            0 => String::new(),
            1 => solid.clone(),
            _ => format!("{solid}(?:{inner}{{0,{}}}{solid})?", max - 2),
        };
        let kept = if min == 0 {
            format!("(?:{kept})?")
        } else {
            kept
        };
        return json!({ "type": "string", "pattern": format!("^[{WS}]*{kept}[{WS}]*$") });
    }
    let pattern = if min == 0 {
        format!("^{inner}*$")
    } else {
        format!("^{inner}*{solid}{inner}*$")
    };
    json!({ "type": "string", "minLength": min, "maxLength": max, "pattern": pattern })
}

/// A custom command name as `parse_command_name` takes it (trimmed, lower-cased).
fn command_name() -> String {
    format!(
        "^[{WS}]*[a-zA-Z0-9_-]{{1,{}}}[{WS}]*$",
        custom_command::NAME_MAX
    )
}

/// The bot's activity text: trimmed, then at most `MAX_ACTIVITY_CHARS` without control
/// characters (invisible marks allowed).
fn activity_text() -> String {
    let max = crate::instance::MAX_ACTIVITY_CHARS;
    let solid = format!("[^{CTRL}{WS_PRINTABLE}]");
    format!(
        "^[{WS}]*(?:{solid}(?:[^{CTRL}]{{0,{}}}{solid})?)?[{WS}]*$",
        max - 2
    )
}

/// An absolute http(s) URL as `embed::validate_url` takes it: a host, no whitespace.
fn url() -> String {
    format!("^[hH][tT][tT][pP][sS]?://[^/?#{CTRL}{MARKS}{WS_PRINTABLE}][^{CTRL}{MARKS}{WS_PRINTABLE}]*$")
}

const fn name(min: usize, max: usize) -> Rule {
    Rule::Text {
        text: Text::Name,
        min,
        max,
    }
}

const fn block(max: usize) -> Rule {
    Rule::Text {
        text: Text::Block,
        min: 0,
        max,
    }
}

const fn raw_line(min: usize, max: usize) -> Rule {
    Rule::Text {
        text: Text::RawLine,
        min,
        max,
    }
}

const fn raw_block(min: usize, max: usize) -> Rule {
    Rule::Text {
        text: Text::RawBlock,
        min,
        max,
    }
}

const U32: i64 = u32::MAX as i64;
const URL: Rule = Rule::Pattern {
    pattern: url,
    max: embed::URL,
    not: &[],
};

/// The bot's presence statuses and activity kinds (`instance::BotPresence::validate`).
pub use crate::instance::{ACTIVITY_KINDS, PRESENCE_STATUSES};

/// (schema, property, rule): every body field with a limit. `a.b` is not used; nested objects
/// have their own schema (`Embed`, `EmbedField`, ...). `field[]` is the items of an array.
pub const FIELDS: &[(&str, &str, Rule)] = &[
    ("ItemInput", "name", name(1, shop::MAX_NAME_CHARS)),
    (
        "ItemInput",
        "description",
        block(shop::MAX_DESCRIPTION_CHARS),
    ),
    ("ItemInput", "emoji", block(shop::MAX_EMOJI_CHARS)),
    (
        "ItemInput",
        "price",
        Rule::Int {
            min: 1,
            max: MAX_AMOUNT,
        },
    ),
    ("ItemInput", "category", name(0, shop::MAX_CATEGORY_CHARS)),
    (
        "ItemInput",
        "stock",
        Rule::Int {
            min: -1,
            max: shop::MAX_STOCK as i64,
        },
    ),
    ("ItemInput", "max_per_user", Rule::Int { min: 1, max: U32 }),
    (
        "ItemInput",
        "use_message",
        block(shop::MAX_USE_MESSAGE_CHARS),
    ),
    ("ItemPatch", "name", name(1, shop::MAX_NAME_CHARS)),
    (
        "ItemPatch",
        "description",
        block(shop::MAX_DESCRIPTION_CHARS),
    ),
    ("ItemPatch", "emoji", block(shop::MAX_EMOJI_CHARS)),
    (
        "ItemPatch",
        "price",
        Rule::Int {
            min: 1,
            max: MAX_AMOUNT,
        },
    ),
    ("ItemPatch", "category", name(0, shop::MAX_CATEGORY_CHARS)),
    (
        "ItemPatch",
        "stock",
        Rule::Int {
            min: -1,
            max: shop::MAX_STOCK as i64,
        },
    ),
    ("ItemPatch", "max_per_user", Rule::Int { min: 1, max: U32 }),
    (
        "ItemPatch",
        "use_message",
        block(shop::MAX_USE_MESSAGE_CHARS),
    ),
    ("NewTask", "name", name(1, task::MAX_NAME_CHARS)),
    ("NewTask", "description", block(task::MAX_DESCRIPTION_CHARS)),
    (
        "NewTask",
        "reward",
        Rule::Int {
            min: 1,
            max: MAX_AMOUNT,
        },
    ),
    (
        "NewTask",
        "duration_hours",
        Rule::Int {
            min: 1,
            max: task::MAX_DURATION_HOURS as i64,
        },
    ),
    (
        "NewTask",
        "max_claims",
        Rule::NonZero {
            min: -1,
            max: task::MAX_CLAIMS,
        },
    ),
    ("NewTask", "category", name(0, task::MAX_CATEGORY_CHARS)),
    ("NewTask", "role_name", name(0, task::MAX_NAME_CHARS)),
    ("TaskPatch", "name", name(1, task::MAX_NAME_CHARS)),
    (
        "TaskPatch",
        "description",
        block(task::MAX_DESCRIPTION_CHARS),
    ),
    (
        "TaskPatch",
        "reward",
        Rule::Int {
            min: 1,
            max: MAX_AMOUNT,
        },
    ),
    (
        "TaskPatch",
        "duration_hours",
        Rule::Int {
            min: 1,
            max: task::MAX_DURATION_HOURS as i64,
        },
    ),
    (
        "TaskPatch",
        "max_claims",
        Rule::NonZero {
            min: -1,
            max: task::MAX_CLAIMS,
        },
    ),
    ("TaskPatch", "category", name(0, task::MAX_CATEGORY_CHARS)),
    ("TaskPatch", "role_name", name(0, task::MAX_NAME_CHARS)),
    (
        "RejectRequest",
        "reason",
        Rule::Text {
            text: Text::Block,
            min: 1,
            max: task::MAX_REASON_CHARS,
        },
    ),
    ("NewAnnouncement", "title", name(1, embed::TITLE)),
    ("NewAnnouncement", "content", raw_block(0, embed::CONTENT)),
    (
        "NewAnnouncement",
        "embed_template",
        Rule::Int {
            min: 1,
            max: i64::MAX,
        },
    ),
    ("AnnouncementPatch", "title", name(1, embed::TITLE)),
    ("AnnouncementPatch", "content", raw_block(0, embed::CONTENT)),
    ("Embed", "title", raw_block(0, embed::TITLE)),
    ("Embed", "description", raw_block(0, embed::DESCRIPTION)),
    ("Embed", "url", URL),
    (
        "Embed",
        "color",
        Rule::Int {
            min: 0,
            max: embed::COLOR as i64,
        },
    ),
    (
        "Embed",
        "fields",
        Rule::Items {
            min: 0,
            max: embed::FIELDS,
        },
    ),
    ("Embed", "image_url", URL),
    ("Embed", "thumbnail_url", URL),
    ("EmbedField", "name", raw_block(1, embed::FIELD_NAME)),
    ("EmbedField", "value", raw_block(1, embed::FIELD_VALUE)),
    ("EmbedFooter", "text", raw_block(1, embed::FOOTER)),
    ("EmbedFooter", "icon_url", URL),
    ("EmbedAuthor", "name", raw_block(1, embed::AUTHOR)),
    ("EmbedAuthor", "url", URL),
    ("EmbedAuthor", "icon_url", URL),
    (
        "NewEmbedTemplate",
        "name",
        name(1, crate::domain::embed::MAX_TEMPLATE_NAME_CHARS),
    ),
    (
        "EmbedTemplatePatch",
        "name",
        name(1, crate::domain::embed::MAX_TEMPLATE_NAME_CHARS),
    ),
    (
        "CommandRequest",
        "name",
        Rule::Pattern {
            pattern: command_name,
            max: usize::MAX,
            not: &custom_command::BUILT_IN_COMMANDS,
        },
    ),
    ("CommandRequest", "response", raw_block(1, embed::CONTENT)),
    (
        "BalanceRequest",
        "amount",
        Rule::Int {
            min: -MAX_AMOUNT,
            max: MAX_AMOUNT,
        },
    ),
    (
        "BalanceRequest",
        "reason",
        block(crate::economy::MAX_REASON_CHARS),
    ),
    (
        "CleanupRequest",
        "days",
        Rule::Int {
            min: 1,
            max: crate::economy::MAX_DAYS as i64,
        },
    ),
    (
        "ArchiveRequest",
        "days_to_keep",
        Rule::Int {
            min: 1,
            max: crate::economy::MAX_DAYS as i64,
        },
    ),
    (
        "ReverseRequest",
        "reason",
        block(crate::economy::MAX_REASON_CHARS),
    ),
    ("AnnounceTaskRequest", "channel", Rule::Id),
    ("ValidateRequest", "user_id", Rule::IdFilter),
    (
        "StockRequest",
        "quantity",
        Rule::Int {
            min: -1,
            max: shop::MAX_STOCK as i64,
        },
    ),
    (
        "InventoryChange",
        "quantity",
        Rule::Int {
            min: 1,
            max: shop::MAX_STOCK as i64,
        },
    ),
    (
        "InventoryChange",
        "item_id",
        Rule::Int {
            min: 1,
            max: i64::MAX,
        },
    ),
    (
        "BulkRequest",
        "action",
        Rule::Words(&["show", "hide", "activate", "deactivate"]),
    ),
    (
        "BulkRequest",
        "item_ids",
        Rule::Items {
            min: 1,
            max: crate::shop::MAX_BULK,
        },
    ),
    (
        "BulkRequest",
        "item_ids[]",
        Rule::Int {
            min: 1,
            max: i64::MAX,
        },
    ),
    ("BotStatusRequest", "status", Rule::Words(PRESENCE_STATUSES)),
    (
        "BotStatusRequest",
        "activity_type",
        Rule::Words(ACTIVITY_KINDS),
    ),
    (
        "BotStatusRequest",
        "text",
        Rule::Pattern {
            pattern: activity_text,
            max: usize::MAX,
            not: &[],
        },
    ),
    (
        "RuntimeSettings",
        "dashboard_notice",
        Rule::Chars {
            max: crate::instance::MAX_NOTICE_CHARS,
        },
    ),
    (
        "RuntimeSettings",
        "log_buffer_level",
        Rule::Words(crate::web::contract::LevelWord::WORDS),
    ),
    (
        "GuildConfig",
        "currency_name",
        raw_line(1, crate::domain::guild_config::MAX_CURRENCY_NAME_CHARS),
    ),
    (
        "GuildConfig",
        "currency_symbol",
        raw_line(1, crate::domain::guild_config::MAX_CURRENCY_SYMBOL_CHARS),
    ),
    (
        "GuildConfig",
        "daily_amount",
        Rule::Int {
            min: 0,
            max: MAX_AMOUNT,
        },
    ),
    (
        "GuildConfig",
        "daily_cooldown_hours",
        Rule::Int {
            min: 1,
            max: crate::domain::guild_config::MAX_COOLDOWN_HOURS as i64,
        },
    ),
    (
        "GuildConfig",
        "starting_balance",
        Rule::Int {
            min: 0,
            max: MAX_AMOUNT,
        },
    ),
    (
        "GuildConfig",
        "max_transfer",
        Rule::Int {
            min: 1,
            max: MAX_AMOUNT,
        },
    ),
    (
        "GuildConfig",
        "max_transfer_per_day",
        Rule::Int {
            min: 1,
            max: MAX_AMOUNT,
        },
    ),
    (
        "GuildConfig",
        "min_account_age_hours",
        Rule::Int {
            min: 0,
            max: crate::domain::guild_config::MAX_ACCOUNT_AGE_HOURS as i64,
        },
    ),
    (
        "GuildConfig",
        "transfer_tax_percent",
        Rule::Int { min: 0, max: 100 },
    ),
    (
        "GuildConfig",
        "rate_limit_per_minute",
        Rule::Int {
            min: 0,
            max: crate::domain::guild_config::MAX_RATE_LIMIT_PER_MINUTE as i64,
        },
    ),
    (
        "GuildConfig",
        "max_tasks_per_user",
        Rule::Int {
            min: 1,
            max: crate::domain::guild_config::MAX_TASKS_PER_USER as i64,
        },
    ),
];

/// Fields a body must have although its type gives them a default (the default is refused).
const REQUIRED: &[(&str, &[&str])] = &[
    ("NewTask", &["name", "reward"]),
    ("NewAnnouncement", &["title"]),
    ("NewEmbedTemplate", &["name", "embed"]),
    ("BulkRequest", &["item_ids", "action"]),
    ("RejectRequest", &["reason"]),
];

/// Schemas whose every unknown key the server refuses.
const CLOSED: &[&str] = &[
    "RuntimeSettings",
    "EmbedField",
    "EmbedFooter",
    "EmbedAuthor",
];

/// Writes the table into the document's schemas, keeping each property's nullability,
/// description and default.
pub fn constrain(schemas: &mut Map<String, Value>) {
    for (schema, property, rule) in FIELDS {
        let Some(props) = schemas
            .get_mut(*schema)
            .and_then(|s| s.get_mut("properties"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let (key, items) = match property.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (*property, false),
        };
        let Some(prop) = props.get_mut(key) else {
            continue;
        };
        if items {
            prop["items"] = rule.schema();
            continue;
        }
        if let (Rule::Items { .. }, Some(p)) = (rule, prop.as_object_mut()) {
            // Keep what the items are; add the count.
            if let Some(bounds) = rule.schema().as_object() {
                p.extend(bounds.clone());
            }
            continue;
        }
        *prop = with_nullability(prop, rule.schema());
    }
    for (schema, fields) in REQUIRED {
        if let Some(s) = schemas.get_mut(*schema) {
            s["required"] = json!(fields);
        }
    }
    for schema in CLOSED {
        if let Some(s) = schemas.get_mut(*schema).and_then(Value::as_object_mut) {
            s.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
}

/// `new`, nullable if `old` was, with `old`'s description and default.
fn with_nullability(old: &Value, mut new: Value) -> Value {
    let nullable = match &old["type"] {
        Value::Array(ts) => ts.iter().any(|t| t == "null"),
        _ => old["oneOf"]
            .as_array()
            .is_some_and(|alts| alts.iter().any(|a| a["type"] == "null")),
    };
    if nullable {
        // A pattern or bound only applies to values of its own type, so null stays valid; an
        // enum lists every value, so it lists null too.
        let t = new["type"].clone();
        new["type"] = json!([t, "null"]);
        if let Some(words) = new.get_mut("enum").and_then(Value::as_array_mut) {
            words.push(Value::Null);
        }
    }
    for key in ["description", "default"] {
        if let Some(v) = old.get(key) {
            new[key] = v.clone();
        }
    }
    new
}
