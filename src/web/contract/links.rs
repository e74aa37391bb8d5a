//! OpenAPI links from each create operation to the operations on what it created, so a
//! stateful client (and the fuzzer's stateful phase) can walk create -> read -> update ->
//! delete. A link passes the created object's id from the response body and the path's other
//! parameters from the request.

use serde_json::{json, Map, Value};

/// (create operation's path, where the new id is in its response, the id's path parameter).
const CREATES: &[(&str, &str, &str)] = &[
    ("/api/{server_id}/shop", "/id", "item_id"),
    ("/api/{server_id}/tasks", "/id", "task_id"),
    ("/api/{server_id}/announcements", "/id", "announcement_id"),
    ("/api/{server_id}/embeds", "/id", "embed_id"),
    ("/api/{server_id}/commands", "/name", "name"),
    (
        "/api/{server_id}/users/{user_id}/inventory",
        "/item_id",
        "item_id",
    ),
];

/// Links that are not "create, then the object's own paths": (from path, from method, status,
/// to path, to method, {parameter: expression}).
type Extra = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);
const EXTRA: &[Extra] = &[
    // A balance change writes a ledger entry: read it, reverse it; read the member.
    (
        "/api/{server_id}/users/{user_id}/balance",
        "put",
        "200",
        "/api/{server_id}/transactions/{transaction_id}",
        "get",
        &[
            ("server_id", "$request.path.server_id"),
            ("transaction_id", "$response.body#/transaction/id"),
        ],
    ),
    (
        "/api/{server_id}/users/{user_id}/balance",
        "put",
        "200",
        "/api/{server_id}/transactions/{transaction_id}/reverse",
        "post",
        &[
            ("server_id", "$request.path.server_id"),
            ("transaction_id", "$response.body#/transaction/id"),
        ],
    ),
    (
        "/api/{server_id}/users/{user_id}/balance",
        "put",
        "200",
        "/api/{server_id}/users/{user_id}",
        "get",
        &[
            ("server_id", "$request.path.server_id"),
            ("user_id", "$request.path.user_id"),
        ],
    ),
    // A new item can be given to a member.
    (
        "/api/{server_id}/shop",
        "post",
        "201",
        "/api/{server_id}/users/{user_id}/inventory",
        "post",
        &[("server_id", "$request.path.server_id")],
    ),
];

/// Adds the links of `CREATES` to every `201` (or `200`) response of those operations.
pub fn add(paths: &mut Map<String, Value>) {
    let templates: Vec<String> = paths.keys().cloned().collect();
    for (create, pointer, param) in CREATES {
        let prefix = format!("{create}/{{{param}}}");
        let mut links = Map::new();
        for target in templates.iter().filter(|t| t.starts_with(&prefix)) {
            let Some(item) = paths.get(target).and_then(Value::as_object) else {
                continue;
            };
            for (method, op) in item {
                let Some(op_id) = op["operationId"].as_str() else {
                    continue;
                };
                let mut parameters = Map::new();
                for p in op["parameters"].as_array().into_iter().flatten() {
                    if p["in"] != "path" {
                        continue;
                    }
                    let name = p["name"].as_str().unwrap_or_default();
                    let value = if name == *param {
                        format!("$response.body#{pointer}")
                    } else if create.contains(&format!("{{{name}}}")) {
                        format!("$request.path.{name}")
                    } else {
                        // A parameter the create operation does not know (a member): no link.
                        parameters.clear();
                        break;
                    };
                    parameters.insert(name.to_owned(), Value::String(value));
                }
                if parameters.is_empty() {
                    continue;
                }
                links.insert(
                    format!("{method}_{op_id}"),
                    json!({ "operationId": op_id, "parameters": parameters }),
                );
            }
        }
        let Some(responses) = paths
            .get_mut(*create)
            .and_then(|i| i.get_mut("post"))
            .and_then(|op| op.get_mut("responses"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        for status in ["201", "200"] {
            if let Some(r) = responses.get_mut(status).and_then(Value::as_object_mut) {
                r.insert("links".into(), Value::Object(links.clone()));
                break;
            }
        }
    }
    for (from, method, status, to, to_method, params) in EXTRA {
        let Some(op_id) = paths
            .get(*to)
            .and_then(|i| i.get(*to_method))
            .and_then(|op| op["operationId"].as_str())
            .map(str::to_owned)
        else {
            continue;
        };
        let parameters: Map<String, Value> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect();
        let link = json!({ "operationId": op_id, "parameters": parameters });
        let Some(r) = paths
            .get_mut(*from)
            .and_then(|i| i.get_mut(*method))
            .and_then(|op| op.get_mut("responses"))
            .and_then(|r| r.get_mut(*status))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let Some(links) = r
            .entry("links")
            .or_insert_with(|| json!({}))
            .as_object_mut()
        {
            links.insert(format!("{to_method}_{op_id}"), link);
        }
    }
}
