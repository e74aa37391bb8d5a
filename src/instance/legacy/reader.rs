//! Reading values out of the old bot's JSON: numbers (also as strings), ids, text, flags and
//! timestamps, each problem or accepted deviation recorded with its file and JSON path.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::{Map, Value};

/// Where a value came from, for messages: `currency.json: $.users.42.balance`.
pub(super) struct Reader {
    pub(super) file: String,
    pub(super) problems: Vec<String>,
    pub(super) notes: Vec<String>,
}

impl Reader {
    pub(super) fn problem(&mut self, path: &str, what: impl std::fmt::Display) {
        self.problems.push(format!("{}: {path}: {what}", self.file));
    }

    pub(super) fn note(&mut self, path: &str, what: impl std::fmt::Display) {
        self.notes.push(format!("{}: {path}: {what}", self.file));
    }

    /// An integer; a numeric string is accepted with a note. `None` (and a problem when
    /// `required`) when absent or null.
    pub(super) fn int(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<i64> {
        let p = format!("{path}.{key}");
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.problem(&p, "missing");
                }
                None
            }
            Some(Value::Number(n)) => match n.as_i64() {
                Some(v) => Some(v),
                None => match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.abs() < 9e15 => Some(f as i64),
                    _ => {
                        self.problem(&p, format!("{n} is not a whole number"));
                        None
                    }
                },
            },
            Some(Value::String(s)) => match s.trim().parse::<i64>() {
                Ok(v) => {
                    self.note(
                        &p,
                        format!("number stored as a string (\"{s}\"), read as {v}"),
                    );
                    Some(v)
                }
                Err(_) => {
                    self.problem(&p, format!("\"{s}\" is not a number"));
                    None
                }
            },
            Some(other) => {
                self.problem(&p, format!("expected a number, found {other}"));
                None
            }
        }
    }

    pub(super) fn id(&mut self, v: Option<&Value>, path: &str) -> Option<u64> {
        let parsed = match v {
            Some(Value::String(s)) => s.trim().parse::<u64>().ok(),
            Some(Value::Number(n)) => n.as_u64(),
            None | Some(Value::Null) => return None,
            _ => None,
        };
        match parsed {
            Some(0) | None => {
                self.problem(
                    path,
                    format!("{} is not a Discord id", v.unwrap_or(&Value::Null)),
                );
                None
            }
            Some(id) => Some(id),
        }
    }

    pub(super) fn text(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("expected text, found {other}"),
                );
                None
            }
        }
    }

    pub(super) fn flag(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        default: bool,
    ) -> bool {
        match obj.get(key) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "false" => {
                self.note(&format!("{path}.{key}"), "boolean stored as a string");
                s == "true"
            }
            Some(other) => {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("expected true or false, found {other}"),
                );
                default
            }
        }
    }

    /// ISO 8601 with or without an offset (naive = UTC).
    pub(super) fn time(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<DateTime<Utc>> {
        let s = match obj.get(key) {
            None | Some(Value::Null) => return None,
            Some(Value::String(s)) => s.trim(),
            Some(other) => {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("expected a timestamp, found {other}"),
                );
                return None;
            }
        };
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(t.with_timezone(&Utc));
        }
        for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
                return Some(Utc.from_utc_datetime(&t));
            }
        }
        self.problem(
            &format!("{path}.{key}"),
            format!("\"{s}\" is not an ISO 8601 timestamp"),
        );
        None
    }

    pub(super) fn ids(&mut self, obj: &Map<String, Value>, key: &str, path: &str) -> Vec<u64> {
        match obj.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .filter_map(|(i, v)| self.id(Some(v), &format!("{path}.{key}[{i}]")))
                .collect(),
            Some(other) => {
                self.problem(
                    &format!("{path}.{key}"),
                    format!("expected a list of ids, found {other}"),
                );
                Vec::new()
            }
        }
    }
}

/// When nothing in the files says when something happened.
pub(super) fn epoch() -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH
}
