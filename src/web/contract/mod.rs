//! The API contract: what `/api/openapi.json` promises on top of the handlers' own annotations,
//! filled in from the same constants the server enforces, so the document and the server cannot
//! drift:
//! - every `{..._id}` path parameter is a Discord-style id (`ID_PATTERN`), and the server refuses
//!   any other segment with 400 before a handler runs (`check_path_ids`);
//! - every operation lists the error statuses the shared layers can answer (bad input, login,
//!   role, unknown id, body limits, idempotency, rate limits, timeouts), with the error schema;
//! - create operations link to the operations on what they created, so a stateful client can walk
//!   create -> read -> update -> delete.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::error::ApiError;

pub mod bodies;
mod links;
mod rules;
pub mod types;

/// An id in a path: 1 to 19 digits, no leading zero (every Discord snowflake, every Coffer id).
pub const ID_PATTERN: &str = "^[1-9][0-9]{0,18}$";

/// Refuses a numeric object id below 1 (the document's minimum) with 400 naming `field`, before
/// a lookup would answer 404 for it.
pub fn positive_id(field: &str, id: u64) -> Result<u64, ApiError> {
    if id == 0 {
        return Err(ApiError::invalid_param(
            field,
            format!("{field} must be an id (1 or more)"),
        ));
    }
    Ok(id)
}

/// Whether `s` matches `ID_PATTERN`.
pub fn is_id(s: &str) -> bool {
    crate::domain::ids::is_strict_id(s)
}

/// A member filter in a query: an id, or blank for none (`api::parse_user` after the blank check).
pub const ID_FILTER_PATTERN: &str = "^(|[1-9][0-9]{0,18})$";

/// The schema of a query parameter that means the same wherever it appears, by name.
fn query_rule(name: &str) -> Option<Value> {
    let kind = crate::domain::TxKind::ALL.map(|k| k.as_str()).join("|");
    let ws =
        "[\\t\\n\\x0B\\x0C\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]";
    Some(match name {
        "user_id" | "user" => json!({ "type": "string", "pattern": ID_FILTER_PATTERN }),
        "server_id" | "guild" => json!({ "type": "string", "pattern": ID_PATTERN }),
        // A user id prefix, trimmed.
        "search" => json!({ "type": "string", "pattern": format!("^{ws}*[0-9]*{ws}*$") }),
        // Kinds, comma separated; each trimmed, blank ones skipped.
        "type" => json!({ "type": "string",
            "pattern": format!("^{ws}*(?:(?:{kind}){ws}*)?(?:,{ws}*(?:(?:{kind}){ws}*)?)*$") }),
        "start_date" | "end_date" => json!({ "anyOf": [
            { "type": "string", "format": "date" },
            { "type": "string", "format": "date-time" },
            { "type": "string", "pattern": format!("^{ws}*$") },
        ] }),
        _ => return None,
    })
}

/// The instance's own audit log is server `0`: the one path where 0 is an id.
pub const ID_OR_ZERO_PATTERN: &str = "^(0|[1-9][0-9]{0,18})$";
const ZERO_ALLOWED: &str = "/api/audit/{server_id}";

/// An `Idempotency-Key`: printable ASCII, no space at either end, at most `MAX_KEY_LEN` long.
pub fn idempotency_key_pattern() -> String {
    format!(
        "^[!-~]([ -~]{{0,{}}}[!-~])?$",
        crate::domain::op::MAX_KEY_LEN - 2
    )
}

/// Whether `s` matches `idempotency_key_pattern()`.
pub fn is_idempotency_key(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=crate::domain::op::MAX_KEY_LEN).contains(&b.len())
        && b.iter().all(|c| (b' '..=b'~').contains(c))
        && b[0] != b' '
        && b[b.len() - 1] != b' '
}

/// Whether a path template's parameter is an id.
fn is_id_param(name: &str) -> bool {
    name.ends_with("_id")
}

/// The id rule of one path parameter: (pattern, check).
fn id_rule(template: &str) -> (&'static str, fn(&str) -> bool) {
    if template == ZERO_ALLOWED {
        (ID_OR_ZERO_PATTERN, |s| s == "0" || is_id(s))
    } else {
        (ID_PATTERN, is_id)
    }
}

/// Refuses a request whose `{..._id}` path segment is not an id, as the document says.
pub async fn check_path_ids(path: Option<MatchedPath>, req: Request, next: Next) -> Response {
    if let Some(template) = path {
        let actual = req.uri().path();
        let (_, valid) = id_rule(template.as_str());
        for (t, a) in template.as_str().split('/').zip(actual.split('/')) {
            let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
                continue;
            };
            if is_id_param(name) && !valid(a) {
                return ApiError::bad_request(
                    "invalid_path",
                    format!("{name} must be an id: 1 to 19 digits, no leading zero"),
                )
                .with_details(json!({ "field": name }))
                .into_response();
            }
        }
    }
    next.run(req).await
}

const WRITES: [&str; 4] = ["post", "put", "patch", "delete"];

/// Fills in the document (see the module comment).
pub fn complete(doc: &mut Value) {
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        bodies::constrain(schemas);
        rules::cross_field(schemas);
        for id in ["GuildId", "UserId", "ChannelId", "RoleId", "MessageId"] {
            schemas.insert(
                id.into(),
                json!({ "type": "string", "pattern": ID_PATTERN, "example": "123456789012345678" }),
            );
        }
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if let Some(op) = op.as_object_mut() {
                id_parameters(path, op);
                rules::optional_body(path, method, op);
                error_responses(path, method, op);
            }
        }
    }
    links::add(paths);
}

fn id_parameters(path: &str, op: &mut Map<String, Value>) {
    let (pattern, _) = id_rule(path);
    let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
        return;
    };
    for p in params {
        let is_path = p["in"] == "path";
        let name = p["name"].as_str().unwrap_or_default().to_owned();
        if is_path && is_id_param(&name) {
            p["schema"] = json!({ "type": "string", "pattern": pattern });
        }
        if is_path && name == "name" && path.starts_with("/api/backups/") {
            p["schema"] = json!({ "type": "string", "pattern": crate::backup::NAME_PATTERN });
        }
        if is_path && name == "kind" {
            p["schema"] = json!({ "type": "string", "enum": SyncKindWord::WORDS });
        }
        if p["in"] == "query" {
            if let Some(schema) = query_rule(&name) {
                p["schema"] = schema;
            }
            // Custom commands belong to one server: its id is required.
            if name == "server_id" {
                p["required"] = Value::Bool(true);
            }
        }
        if p["in"] == "header" && name.eq_ignore_ascii_case("idempotency-key") {
            p["schema"] = json!({
                "type": "string",
                "minLength": 1,
                "maxLength": crate::domain::op::MAX_KEY_LEN,
                "pattern": idempotency_key_pattern(),
            });
        }
    }
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
    })
}

/// The statuses the shared layers answer, added where the operation can meet them.
fn error_responses(path: &str, method: &str, op: &mut Map<String, Value>) {
    let secured = op
        .get("security")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty());
    let write = WRITES.contains(&method);
    let has_input = op.get("requestBody").is_some()
        || op
            .get("parameters")
            .and_then(Value::as_array)
            .is_some_and(|p| !p.is_empty());
    let has_body = op.get("requestBody").is_some();
    let keyed = op
        .get("parameters")
        .and_then(Value::as_array)
        .is_some_and(|ps| {
            ps.iter().any(|p| {
                p["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case("idempotency-key"))
            })
        });
    let names_object = path.contains('{');
    let mut add: Vec<(&str, &str)> = vec![
        (
            "500",
            "Internal error (the error shape; nothing was changed)",
        ),
        (
            "503",
            "The request took too long and was stopped (`timeout`)",
        ),
    ];
    if has_input || names_object {
        add.push((
            "400",
            "Invalid input: a path, query or body value out of its range",
        ));
    }
    if secured {
        add.push(("401", "Not logged in, or the token expired"));
    }
    if secured && write {
        add.push((
            "403",
            "The account's role may not do this, or the CSRF token is missing",
        ));
    }
    if names_object {
        add.push(("404", "No such server object"));
    }
    if write {
        add.push((
            "409",
            "Refused by the current state (an Idempotency-Key still in flight, a conflict)",
        ));
        add.push(("429", "Rate limited; see Retry-After"));
    }
    if keyed && !has_body {
        add.push((
            "422",
            "The Idempotency-Key was already used for a different request (`idempotency_key_reused`)",
        ));
    }
    if has_body {
        add.push(("413", "The body is larger than the limit"));
        add.push(("415", "The body is not `application/json`"));
        add.push((
            "422",
            "Well-formed but refused (a rule of the economy, a reused Idempotency-Key)",
        ));
    }
    let responses = op
        .entry("responses")
        .or_insert_with(|| json!({}))
        .as_object_mut();
    if let Some(responses) = responses {
        for (status, description) in add {
            responses
                .entry(status.to_owned())
                .or_insert_with(|| error(description));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_what_the_pattern_says() {
        for ok in ["1", "123456789012345678", "9999999999999999999"] {
            assert!(is_id(ok), "{ok}");
        }
        for bad in [
            "",
            "0",
            "012",
            "+1",
            " 1",
            "1 ",
            "abc",
            "12a",
            "10000000000000000000",
            "-1",
        ] {
            assert!(!is_id(bad), "{bad:?}");
        }
        assert_eq!(ID_PATTERN, "^[1-9][0-9]{0,18}$");
    }

    #[test]
    fn ranged_and_words_parse_exactly_what_their_schemas_declare() {
        use utoipa::PartialSchema;
        type Limit = Ranged<1, 500>;
        let parse = |s: &str| serde_json::from_value::<Limit>(json!(s)).map(Limit::get);
        assert_eq!(parse("1").ok(), Some(1));
        assert_eq!(parse("500").ok(), Some(500));
        for bad in ["0", "501", "", "+5", " 5", "-1", "18446744073709551616"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let schema = serde_json::to_value(Limit::schema()).unwrap();
        assert_eq!(
            (schema["minimum"].as_u64(), schema["maximum"].as_u64()),
            (Some(1), Some(500))
        );

        type Status = TaskStatusWord;
        let word = |s: &str| serde_json::from_value::<Status>(json!(s)).map(|w| w.as_str());
        assert_eq!(word("closed").ok(), Some("closed"));
        for bad in ["", "Closed", " closed", "open"] {
            let e = word(bad).unwrap_err().to_string();
            assert!(e.contains("must be active, closed or expired"), "{e}");
        }
        let schema = serde_json::to_value(Status::schema()).unwrap();
        assert_eq!(schema["enum"], json!(["active", "closed", "expired"]));
    }

    #[test]
    fn idempotency_keys_are_what_the_pattern_says() {
        let max = crate::domain::op::MAX_KEY_LEN;
        assert_eq!(
            idempotency_key_pattern(),
            format!("^[!-~]([ -~]{{0,{}}}[!-~])?$", max - 2)
        );
        for ok in ["a", "order 42", "k-1_2.3", &"x".repeat(max)] {
            assert!(is_idempotency_key(ok), "{ok}");
        }
        for bad in ["", " a", "a ", "a\tb", "é", &"x".repeat(max + 1)] {
            assert!(!is_idempotency_key(bad), "{bad:?}");
        }
    }
}

/// A whole number the server takes only within `MIN..=MAX` (a page size, an offset): the query
/// parser refuses anything else with 400, and the document declares the same bounds, from the
/// same two constants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ranged<const MIN: u64, const MAX: u64>(pub u64);

impl<const MIN: u64, const MAX: u64> Ranged<MIN, MAX> {
    pub fn get(self) -> u64 {
        self.0
    }
}

impl<'de, const MIN: u64, const MAX: u64> serde::Deserialize<'de> for Ranged<MIN, MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Query strings arrive as text; JSON bodies may send a number.
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        let out_of_range = || serde::de::Error::custom(format!("must be {MIN} to {MAX}"));
        let n = match Raw::deserialize(d)? {
            Raw::N(n) => n,
            Raw::S(s) => {
                let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                if !digits {
                    return Err(out_of_range());
                }
                s.parse::<u64>().map_err(|_| out_of_range())?
            }
        };
        if (MIN..=MAX).contains(&n) {
            Ok(Ranged(n))
        } else {
            Err(out_of_range())
        }
    }
}

impl<const MIN: u64, const MAX: u64> utoipa::PartialSchema for Ranged<MIN, MAX> {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(MIN))
            .maximum(Some(MAX))
            .into()
    }
}

impl<const MIN: u64, const MAX: u64> utoipa::ToSchema for Ranged<MIN, MAX> {}

/// The largest offset or page number a list takes (far past any real list).
pub const MAX_OFFSET: u64 = 1_000_000_000;
/// An offset into a list.
pub type Offset = Ranged<0, MAX_OFFSET>;
/// A page number, from 1.
pub type PageNo = Ranged<1, MAX_OFFSET>;

/// "a, b or c".
fn listed(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Query parameters that take one word of a list: each type's parser takes exactly one of its
/// words (as written) and refuses anything else with 400 naming the parameter ("must be a, b or
/// c"); its schema is a string `enum` of the same words.
macro_rules! words {
    ($($(#[$doc:meta])* $name:ident = [$($w:literal),+ $(,)?];)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(&'static str);

        impl $name {
            pub const WORDS: &'static [&'static str] = &[$($w),+];
            pub fn as_str(self) -> &'static str {
                self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                Self::WORDS
                    .iter()
                    .find(|w| **w == s)
                    .map(|w| $name(w))
                    .ok_or_else(|| format!("must be {}", listed(Self::WORDS)))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some(Self::WORDS.iter().copied()))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

words! {
    /// A task's status.
    TaskStatusWord = ["active", "closed", "expired"];
    /// A role grant's state.
    GrantStateWord = ["pending", "granted", "failed"];
    /// What a sync record is for.
    SyncKindWord = ["task", "shop_item", "announcement", "embed", "review"];
    /// A sync record's state.
    SyncStateWord = ["pending", "synced", "orphaned", "failed"];
    /// The ledger's orders.
    TxSortWord = ["newest", "oldest", "amount_desc", "amount_asc", "desc", "asc", "newest_first", "oldest_first"];
    /// The member list's sort keys.
    UserSortWord = ["balance", "total_earned", "user_id", "last_active"];
    /// Ascending or descending.
    OrderWord = ["asc", "desc"];
    /// Log levels, least severe first.
    LevelWord = ["trace", "debug", "info", "warn", "error"];
    /// Download formats.
    FormatWord = ["csv", "json"];
    /// Statistics periods (the old bot's names too; empty is all).
    PeriodWord = ["day", "week", "month", "all", "daily", "weekly", "monthly", "24h", "7d", "30d", ""];
}
