//! Form plumbing: the posted fields as text (parsed here so a bad value becomes a message next
//! to its field, not a bare 422), the errors by field, and the input widgets that show them.

use std::collections::BTreeMap;

use maud::{html, Markup};

use crate::web::error::ApiError;

/// A posted form's fields (the last value of each name wins; checkboxes are present or not).
#[derive(Debug, Clone, Default)]
pub struct Fields(pub BTreeMap<String, String>);

impl Fields {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Fields {
        Fields(pairs.into_iter().collect())
    }

    /// The field's text, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map(|s| s.trim()).unwrap_or("")
    }

    /// Optional text: `None` when blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).to_owned()).filter(|s| !s.is_empty())
    }

    pub fn checked(&self, name: &str) -> bool {
        matches!(self.get(name), "on" | "true" | "1" | "yes")
    }

    /// A whole number; `1,500` and `1_500` are accepted. Records an error under `name`.
    pub fn int(&self, name: &str, errors: &mut FieldErrors) -> Option<i64> {
        let raw = self.get(name);
        let cleaned: String = raw.chars().filter(|c| !matches!(c, ',' | '_')).collect();
        match cleaned.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) if raw.is_empty() => {
                errors.add(name, "Enter a number.");
                None
            }
            Err(_) => {
                errors.add(name, format!("`{raw}` is not a whole number."));
                None
            }
        }
    }

    /// Like `int`, but blank is `None` without an error.
    pub fn opt_int(&self, name: &str, errors: &mut FieldErrors) -> Option<Option<i64>> {
        if self.get(name).is_empty() {
            return Some(None);
        }
        self.int(name, errors).map(Some)
    }
}

/// Messages by field name; `_form` holds one for the whole form.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| message.into());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    /// A service refusal placed next to the field it names (`details.field`), or on the form.
    /// `rename` maps API field names to this form's names; a refusal naming no field goes
    /// next to `fallback` when given.
    pub fn from_api(e: &ApiError, rename: &[(&str, &str)], fallback: Option<&str>) -> FieldErrors {
        let mut out = FieldErrors::default();
        let field = e.details.get("field").and_then(|f| f.as_str()).map(|f| {
            rename
                .iter()
                .find(|(api, _)| *api == f)
                .map(|(_, form)| (*form).to_owned())
                .unwrap_or_else(|| f.to_owned())
        });
        out.add(
            field.as_deref().or(fallback).unwrap_or("_form"),
            e.message.clone(),
        );
        out
    }
}

/// A submitted form to show again: what was typed and what was wrong.
#[derive(Debug, Clone, Default)]
pub struct Filled {
    pub fields: Fields,
    pub errors: FieldErrors,
    /// What the last action left to say (`?done=`), on a plain visit.
    pub note: Option<String>,
    /// The list page asked for (from 1; 0 reads as 1).
    pub n: u64,
}

impl Filled {
    /// A refused form: what was typed and the errors beside the fields (answered with 422).
    pub fn new(fields: Fields, errors: FieldErrors) -> Filled {
        Filled {
            fields,
            errors,
            ..Filled::default()
        }
    }

    /// A plain visit: empty forms, the note the last action left, list page `n`.
    pub fn visit(note: Option<String>, n: Option<u64>) -> Filled {
        Filled {
            note,
            n: n.unwrap_or(1),
            ..Filled::default()
        }
    }

    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// 422 when the form was refused, else 200.
    pub fn status(&self) -> axum::http::StatusCode {
        if self.errors.is_empty() {
            axum::http::StatusCode::OK
        } else {
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        }
    }

    /// The typed value, else `default`.
    pub fn value(&self, name: &str, default: &str) -> String {
        self.fields
            .0
            .get(name)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }
}

/// The whole-form error, if any.
pub fn form_error(errors: &FieldErrors) -> Markup {
    html! {
        @if let Some(m) = errors.get("_form") {
            p.error role="alert" { (m) }
        }
    }
}

/// A labelled input with its error beside it.
pub fn input(
    label: &str,
    name: &str,
    kind: &str,
    value: &str,
    errors: &FieldErrors,
    required: bool,
) -> Markup {
    let err = errors.get(name);
    let id = format!("f-{name}");
    let err_id = format!("{id}-error");
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            input id=(id) name=(name) type=(kind) value=(value) required[required]
                aria-invalid=[err.map(|_| "true")] aria-describedby=[err.map(|_| err_id.as_str())];
            @if let Some(m) = err { span.field-error id=(err_id) { (m) } }
        }
    }
}

/// A labelled textarea with its error beside it.
pub fn textarea(label: &str, name: &str, value: &str, errors: &FieldErrors) -> Markup {
    let err = errors.get(name);
    let id = format!("f-{name}");
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            textarea id=(id) name=(name) rows="3" aria-invalid=[err.map(|_| "true")] { (value) }
            @if let Some(m) = err { span.field-error { (m) } }
        }
    }
}

/// A labelled select; `options` are (value, label).
pub fn select(
    label: &str,
    name: &str,
    options: &[(String, String)],
    current: &str,
    errors: &FieldErrors,
) -> Markup {
    let err = errors.get(name);
    let id = format!("f-{name}");
    html! {
        div.field.invalid[err.is_some()] {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @for (v, l) in options {
                    option value=(v) selected[v == current] { (l) }
                }
            }
            @if let Some(m) = err { span.field-error { (m) } }
        }
    }
}

/// A checkbox (`on` when ticked).
pub fn checkbox(label: &str, name: &str, checked: bool) -> Markup {
    html! {
        div.field.check {
            label { input type="checkbox" name=(name) checked[checked]; " " (label) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_accept_separators_and_name_the_field_when_wrong() {
        let f = Fields::from_pairs(vec![
            ("a".into(), " 1,500 ".into()),
            ("b".into(), "lots".into()),
        ]);
        let mut e = FieldErrors::default();
        assert_eq!(f.int("a", &mut e), Some(1500));
        assert_eq!(f.int("b", &mut e), None);
        assert_eq!(f.opt_int("c", &mut e), Some(None));
        assert_eq!(e.get("b"), Some("`lots` is not a whole number."));
    }

    #[test]
    fn an_api_refusal_lands_on_its_field() {
        let e: ApiError = crate::domain::DomainError::invalid("price", "must be positive").into();
        let errs = FieldErrors::from_api(&e, &[], None);
        assert!(errs
            .get("price")
            .is_some_and(|m| m.contains("must be positive")));
        let errs = FieldErrors::from_api(&e, &[("price", "cost")], None);
        assert!(errs.get("cost").is_some());
        let e = ApiError::not_found("Item 3 not found.");
        assert!(FieldErrors::from_api(&e, &[], None).get("_form").is_some());
        assert!(FieldErrors::from_api(&e, &[], Some("item"))
            .get("item")
            .is_some());
    }
}
