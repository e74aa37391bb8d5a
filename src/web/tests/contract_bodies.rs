//! The document's body limits are the server's: for every field of `contract::bodies::FIELDS`,
//! values at, inside and past each edge (lengths, bounds, blank, padded, control characters,
//! invisible marks, words) are judged by the schema the document publishes and sent to the
//! server; the schema accepts a value exactly when the server does not refuse it naming that
//! field. A validator and the document that drift apart fail here.

use axum::http::StatusCode;
use serde_json::{json, Value};

use super::TestApp;
use crate::web::contract::bodies::{Rule, FIELDS};

const G: &str = "/api/111";

/// Where each schema's fields are tried: (operation, where in the body, a valid body).
fn target(schema: &str, ids: &Ids) -> Option<(axum::http::Method, String, &'static str, Value)> {
    use axum::http::Method as M;
    let embed = json!({ "name": "t", "embed": { "title": "x",
        "fields": [{ "name": "n", "value": "v" }], "footer": { "text": "f" },
        "author": { "name": "a" } } });
    Some(match schema {
        "ItemInput" => (
            M::POST,
            format!("{G}/shop"),
            "",
            json!({ "name": "x", "price": 5 }),
        ),
        "ItemPatch" => (M::PUT, format!("{G}/shop/{}", ids.item), "", json!({})),
        "NewTask" => (
            M::POST,
            format!("{G}/tasks"),
            "",
            json!({ "name": "x", "reward": 5 }),
        ),
        "TaskPatch" => (M::PUT, format!("{G}/tasks/{}", ids.task), "", json!({})),
        "NewAnnouncement" => (
            M::POST,
            format!("{G}/announcements"),
            "",
            json!({ "title": "x", "content": "hello", "channel": "5" }),
        ),
        "AnnouncementPatch" => (
            M::PUT,
            format!("{G}/announcements/{}", ids.announcement),
            "",
            json!({}),
        ),
        "NewEmbedTemplate" => (
            M::POST,
            format!("{G}/embeds"),
            "",
            json!({ "name": "x", "embed": { "title": "t" } }),
        ),
        "EmbedTemplatePatch" => (M::PUT, format!("{G}/embeds/{}", ids.embed), "", json!({})),
        "Embed" => (M::POST, format!("{G}/embeds"), "/embed", embed),
        "EmbedField" => (M::POST, format!("{G}/embeds"), "/embed/fields/0", embed),
        "EmbedFooter" => (M::POST, format!("{G}/embeds"), "/embed/footer", embed),
        "EmbedAuthor" => (M::POST, format!("{G}/embeds"), "/embed/author", embed),
        "CommandRequest" => (
            M::POST,
            format!("{G}/commands"),
            "",
            json!({ "name": "x", "response": "y", "overwrite": true }),
        ),
        "BalanceRequest" => (
            M::PUT,
            format!("{G}/users/5/balance"),
            "",
            json!({ "amount": 5 }),
        ),
        "CleanupRequest" => (
            M::POST,
            format!("{G}/users/cleanup"),
            "",
            json!({ "days": 30 }),
        ),
        "ArchiveRequest" => (
            M::POST,
            format!("{G}/transactions/archive"),
            "",
            json!({ "days_to_keep": 30 }),
        ),
        "ReverseRequest" | "RejectRequest" | "AnnounceTaskRequest" => return None,
        "ValidateRequest" => (M::POST, format!("{G}/transactions/validate"), "", json!({})),
        "StockRequest" => (
            M::PUT,
            format!("{G}/shop/{}/stock", ids.item),
            "",
            json!({ "quantity": 5 }),
        ),
        "InventoryChange" => (
            M::POST,
            format!("{G}/users/5/inventory"),
            "",
            json!({ "item_id": ids.item }),
        ),
        "BulkRequest" => (
            M::POST,
            format!("{G}/shop/bulk"),
            "",
            json!({ "item_ids": [ids.item], "action": "show" }),
        ),
        "BotStatusRequest" => (M::PUT, "/api/bot/status".into(), "", json!({})),
        "RuntimeSettings" => (M::PUT, "/api/settings".into(), "", json!({})),
        "GuildConfig" => (M::PUT, format!("{G}/config"), "", json!({})),
        _ => return None,
    })
}

struct Ids {
    item: u64,
    task: u64,
    announcement: u64,
    embed: u64,
}

/// Values to try for a rule: both sides of every edge it has.
fn samples(rule: Rule, item: Value) -> Vec<Value> {
    match rule {
        Rule::Int { min, max } => {
            let mut v = vec![json!(min), json!(max), json!(0), json!(1)];
            v.extend(min.checked_sub(1).map(|n| json!(n)));
            v.extend(max.checked_add(1).map(|n| json!(n)));
            v
        }
        Rule::NonZero { min, max } => {
            let mut v = vec![json!(0), json!(min), json!(max), json!(1)];
            v.extend(min.checked_sub(1).map(|n| json!(n)));
            v.extend(max.checked_add(1).map(|n| json!(n)));
            v
        }
        Rule::Words(words) => {
            let mut v: Vec<Value> = words.iter().map(|w| json!(w)).collect();
            v.extend([json!("zzz"), json!(""), json!(format!(" {}", words[0]))]);
            v
        }
        // Items the schema's own `items` accept.
        Rule::Items { min, max } => {
            let mut v = vec![
                json!(vec![item.clone(); max]),
                json!(vec![item.clone(); max + 1]),
            ];
            v.extend(min.checked_sub(1).map(|n| json!(vec![item.clone(); n])));
            v.push(json!(vec![item; min]));
            v
        }
        Rule::Id | Rule::IdFilter => ["", "5", "0", "05", " 5", "x", "99999999999999999999"]
            .map(|s| json!(s))
            .to_vec(),
        Rule::Text { max, .. } | Rule::Chars { max } | Rule::Pattern { max, .. } => {
            let max = max.min(4096);
            let mut v: Vec<Value> = [
                "",
                " ",
                "a",
                "  a  ",
                "\ta",
                "a\t",
                "a\tb",
                "a\nb",
                "a\u{0}",
                "a\u{202E}b",
                "\u{202E}",
                "a\u{85}",
                "\u{A0}a\u{A0}",
                "A-b_c",
                "help",
                "https://example.com/x.png",
                "http://",
                "https://a b",
            ]
            .map(|s| json!(s))
            .to_vec();
            for n in [max.saturating_sub(1), max, max + 1] {
                v.push(json!("x".repeat(n)));
                v.push(json!(format!(" {} ", "x".repeat(n))));
            }
            v
        }
    }
}

/// Whether `v` satisfies `schema` (the keywords the document's body schemas use).
fn valid(schema: &Value, v: &Value) -> bool {
    if let Some(alts) = schema["anyOf"].as_array() {
        if !alts.iter().any(|a| valid(a, v)) {
            return false;
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let type_ok = types.is_empty()
        || types.iter().any(|t| match *t {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "null" => v.is_null(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            "boolean" => v.is_boolean(),
            _ => true,
        });
    if !type_ok {
        return false;
    }
    if let Some(words) = schema["enum"].as_array() {
        if !words.contains(v) {
            return false;
        }
    }
    if let Some(not) = schema.get("not") {
        if valid(not, v) && !not.as_object().is_some_and(|o| o.is_empty()) {
            return false;
        }
    }
    if let Some(c) = schema.get("const") {
        if c != v {
            return false;
        }
    }
    if let Some(n) = v.as_i64() {
        let below = schema["minimum"].as_i64().is_some_and(|m| n < m);
        let above = schema["maximum"].as_i64().is_some_and(|m| n > m);
        if below || above {
            return false;
        }
    }
    if v.is_u64() && !v.is_i64() && schema["maximum"].is_number() {
        return false;
    }
    if let Some(s) = v.as_str() {
        let n = s.chars().count() as u64;
        if schema["maxLength"].as_u64().is_some_and(|m| n > m)
            || schema["minLength"].as_u64().is_some_and(|m| n < m)
        {
            return false;
        }
        if let Some(p) = schema["pattern"].as_str() {
            let re = regex::Regex::new(p).unwrap_or_else(|e| panic!("pattern {p}: {e}"));
            if !re.is_match(s) {
                return false;
            }
        }
    }
    if let Some(a) = v.as_array() {
        let n = a.len() as u64;
        if schema["maxItems"].as_u64().is_some_and(|m| n > m)
            || schema["minItems"].as_u64().is_some_and(|m| n < m)
        {
            return false;
        }
    }
    true
}

async fn create(app: &TestApp, tok: &str, path: &str, body: Value) -> u64 {
    let a = app.post(&format!("{G}{path}"), tok, body).await;
    assert!(a.status.is_success(), "{path}: {}", a.body);
    a.body["id"].as_u64().unwrap()
}

#[tokio::test]
async fn every_documented_body_limit_is_the_servers_limit() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let doc = crate::web::openapi_json();
    let ids = Ids {
        item: create(&app, &tok, "/shop", json!({ "name": "base", "price": 5 })).await,
        task: create(&app, &tok, "/tasks", json!({ "name": "base", "reward": 5 })).await,
        announcement: create(
            &app,
            &tok,
            "/announcements",
            json!({ "title": "base", "content": "x", "channel": "5", "scheduled_at": "2100-01-01T00:00:00Z" }),
        )
        .await,
        embed: create(&app, &tok, "/embeds", json!({ "name": "base", "embed": { "title": "t" } })).await,
    };
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for (schema, property, rule) in FIELDS {
        let Some((method, url, at, base)) = target(schema, &ids) else {
            continue;
        };
        let key = property.trim_end_matches("[]");
        let whole = &doc["components"]["schemas"][*schema];
        let prop = &whole["properties"][key];
        assert!(prop.is_object(), "{schema}.{key} is not in the document");
        let prop = if property.ends_with("[]") {
            &prop["items"]
        } else {
            prop
        };
        let item = match *property {
            "item_ids" => json!(ids.item),
            _ => json!({ "name": "n", "value": "v" }),
        };
        for v in samples(*rule, item) {
            let mut body = base.clone();
            let value = if property.ends_with("[]") {
                json!([v])
            } else {
                v.clone()
            };
            let Some(obj) = body.pointer_mut(at).and_then(Value::as_object_mut) else {
                panic!("{schema}: no object at {at} in {base}");
            };
            obj.insert(key.to_owned(), value.clone());
            let mut whole_value = obj.clone();
            whole_value.insert(key.to_owned(), value);
            // The property's own schema, and the schema-wide rules (anyOf) over the object.
            let expected = valid(prop, &v)
                && whole["anyOf"].as_array().is_none_or(|alts| {
                    alts.iter().any(|a| {
                        a["required"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .all(|r| r.as_str().is_some_and(|r| whole_value.contains_key(r)))
                            && a["properties"]
                                .as_object()
                                .into_iter()
                                .flatten()
                                .all(|(k, s)| whole_value.get(k).is_none_or(|x| valid(s, x)))
                    })
                });
            let a = app
                .send(method.clone(), &url, Some(&tok), Some(body.clone()), &[])
                .await;
            let field = a.body["error"]["details"]["field"].as_str().unwrap_or("");
            let refused_here = matches!(
                a.status,
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
            ) && (field == key
                || field.ends_with(&format!(".{key}"))
                || field.starts_with(&format!("{key}["))
                || (field.is_empty()
                    && a.body["error"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(key))));
            if expected == refused_here {
                mismatches.push(format!(
                    "{schema}.{key} = {v}: the document {} it, the server answered {} {}",
                    if expected { "accepts" } else { "refuses" },
                    a.status,
                    a.body
                ));
            }
            checked += 1;
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {checked}:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(checked >= 500, "only {checked} values checked");
}
