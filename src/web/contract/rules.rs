//! Rules that span fields or operations, written into the document next to the table in
//! `bodies`: which bodies may be left out, and the few rules one field alone cannot state
//! (a balance to set vs a change, an announcement's text or embed, an embed that shows nothing).

use serde_json::{json, Map, Value};

/// Operations whose body may be absent (the handler reads an empty body as the defaults).
const OPTIONAL_BODIES: &[(&str, &str)] = &[
    ("/api/{server_id}/transactions/validate", "post"),
    (
        "/api/{server_id}/transactions/{transaction_id}/reverse",
        "post",
    ),
    ("/api/{server_id}/announcements/{announcement_id}", "delete"),
    ("/api/{server_id}/announcements/task/{task_id}", "post"),
    ("/api/auth/refresh", "post"),
    ("/api/auth/logout", "post"),
];

/// Marks the body of an `OPTIONAL_BODIES` operation as not required.
pub fn optional_body(path: &str, method: &str, op: &mut Map<String, Value>) {
    if !OPTIONAL_BODIES.contains(&(path, method)) {
        return;
    }
    if let Some(body) = op.get_mut("requestBody").and_then(Value::as_object_mut) {
        body.insert("required".into(), Value::Bool(false));
    }
}

/// Text with at least one character that is not whitespace.
fn not_blank() -> Value {
    json!({ "type": "string", "pattern": "[^\\t\\n\\x0B\\x0C\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000]" })
}

/// `required` `key`, with `schema`.
fn has(key: &str, schema: Value) -> Value {
    json!({ "required": [key], "properties": { key: schema } })
}

pub fn cross_field(schemas: &mut Map<String, Value>) {
    // `set: true` sets the balance (0 and up); otherwise the amount is a change, never 0.
    if let Some(s) = schemas.get_mut("BalanceRequest") {
        s["anyOf"] = json!([
            { "required": ["set"], "properties": {
                "set": { "const": true }, "amount": { "minimum": 0 } } },
            { "properties": {
                "set": { "const": false }, "amount": { "not": { "const": 0 } } } },
        ]);
    }
    // `set` (the default) takes a stock (-1 = unlimited); `add` and `subtract` a count.
    if let Some(s) = schemas.get_mut("StockRequest") {
        s["anyOf"] = json!([
            { "properties": { "operation": { "enum": ["set", null] } } },
            { "properties": { "quantity": { "minimum": 1 } } },
        ]);
    }
    // An announcement needs text, an embed or a template to copy one from.
    if let Some(s) = schemas.get_mut("NewAnnouncement") {
        s["anyOf"] = json!([
            has("content", not_blank()),
            has("embed", json!({ "type": "object" })),
            has("embed_template", json!({ "type": "integer" })),
        ]);
    }
    // An embed must show something.
    if let Some(s) = schemas.get_mut("Embed") {
        s["anyOf"] = json!([
            has("title", not_blank()),
            has("description", not_blank()),
            has("fields", json!({ "type": "array", "minItems": 1 })),
            has("footer", json!({ "type": "object" })),
            has("author", json!({ "type": "object" })),
            has("image_url", json!({ "type": "string" })),
            has("thumbnail_url", json!({ "type": "string" })),
        ]);
    }
}
