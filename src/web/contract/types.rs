//! The JSON types of a request body, checked against the operation's schema in the served
//! document before serde reads it: an object where the document says object (serde alone would
//! also build a struct from an array of its fields), a string where it says string, and so on,
//! at every depth. Only types: limits are the validators' (and `bodies`' table says the same).

use std::sync::OnceLock;

use serde_json::Value;

/// The served document, built once.
fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(crate::web::openapi_json)
}

/// The first field of `body` whose JSON type the request schema of `method path` does not
/// allow (`""` for the body itself); `None` when all agree or the operation has no schema.
pub fn mismatch(path: &str, method: &str, body: &Value) -> Option<String> {
    let doc = document();
    let schema =
        doc["paths"][path][method]["requestBody"]["content"]["application/json"].get("schema")?;
    check(doc, schema, body, "")
}

fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str() {
        Some(r) => doc.pointer(&r.replacen('#', "", 1)).unwrap_or(&Value::Null),
        None => s,
    }
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => true,
    }
}

/// Whether an alternative of a `oneOf`/`anyOf` is a type (rather than a rule over fields).
fn is_type_alternative(s: &Value) -> bool {
    s.get("type").is_some() || s.get("$ref").is_some()
}

fn check(doc: &Value, schema: &Value, v: &Value, at: &str) -> Option<String> {
    let schema = resolve(doc, schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema[key].as_array() {
            if !alts.is_empty() && alts.iter().all(is_type_alternative) {
                // One alternative that fits is enough; when none does, name the deepest field
                // an alternative found (an object of the right type with a wrong field inside).
                let found: Vec<Option<String>> =
                    alts.iter().map(|a| check(doc, a, v, at)).collect();
                if found.iter().any(Option::is_none) {
                    return None;
                }
                return found.into_iter().flatten().max_by_key(String::len);
            }
        }
    }
    let fits = match &schema["type"] {
        Value::String(t) => type_ok(t, v),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| type_ok(t, v)),
        _ => true,
    };
    if !fits {
        return Some(at.to_owned());
    }
    let dot = |k: &str| {
        if at.is_empty() {
            k.to_owned()
        } else {
            format!("{at}.{k}")
        }
    };
    match v {
        Value::Object(o) => o.iter().find_map(|(k, x)| {
            let p = schema["properties"].get(k)?;
            check(doc, p, x, &dot(k))
        }),
        Value::Array(a) => {
            let items = schema.get("items")?;
            a.iter()
                .enumerate()
                .find_map(|(i, x)| check(doc, items, x, &format!("{at}[{i}]")))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_of_the_wrong_json_type_are_named_at_any_depth() {
        let p = "/api/{server_id}/embeds";
        assert_eq!(
            mismatch(p, "post", &json!({"name": "x", "embed": {"title": "t"}})),
            None
        );
        assert_eq!(
            mismatch(p, "post", &json!({"name": "x", "embed": ["t"]})).as_deref(),
            Some("embed")
        );
        assert_eq!(
            mismatch(
                p,
                "post",
                &json!({"name": "x", "embed": {"fields": [["n", "v"]]}})
            )
            .as_deref(),
            Some("embed.fields[0]")
        );
        assert_eq!(
            mismatch(p, "post", &json!({"name": 5, "embed": {}})).as_deref(),
            Some("name")
        );
        let shop = "/api/{server_id}/shop";
        assert_eq!(
            mismatch(
                shop,
                "post",
                &json!({"name": "x", "price": 5, "role_id": null})
            ),
            None
        );
        assert_eq!(
            mismatch(shop, "post", &json!({"name": "x", "price": "5"})).as_deref(),
            Some("price")
        );
    }
}
