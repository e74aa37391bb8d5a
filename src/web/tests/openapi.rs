//! The OpenAPI document: served, 3.1, with schemas and auth schemes, and complete: no route exists
//! that it lacks.

use axum::http::{Method, StatusCode};

use super::TestApp;

/// Routes deliberately outside the document.
const UNDOCUMENTED: [&str; 4] = ["/", "/healthz", "/metrics", "/api/openapi.json"];

#[tokio::test]
async fn the_document_is_served_with_schemas_and_security_schemes() {
    let app = TestApp::new();
    let a = app
        .send(Method::GET, "/api/openapi.json", None, None, &[])
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["cookie"]["in"],
        "cookie"
    );
    for schema in [
        "TransactionView",
        "AccountView",
        "ErrorBody",
        "LoginRequest",
        "TokenResponse",
        "BalanceRequest",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    let put = &doc["paths"]["/api/{server_id}/users/{user_id}/balance"]["put"];
    assert!(put["requestBody"].is_object());
    assert!(put["security"].is_array());
}

/// Every route registered anywhere in `src/web/` must be in the document: routes go through
/// `OpenApiRouter::routes(routes!(..))`, and a plain `.route("..")` outside the list above fails
/// here. Every documented path must also answer (not 404).
#[tokio::test]
async fn no_route_exists_that_the_document_lacks() {
    let doc = crate::web::openapi();
    let documented: Vec<String> = doc.paths.paths.keys().cloned().collect();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                if p.file_name().unwrap() != "tests" {
                    stack.push(p);
                }
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            // The dashboard pages (HTML) are deliberately outside the API document, and never
            // under `/api`.
            let is_page = p.components().any(|c| c.as_os_str() == "pages");
            for (i, _) in text.match_indices(".route(") {
                let rest = &text[i + 7..];
                let path = rest.trim_start().trim_start_matches('"');
                let path = &path[..path.find('"').unwrap_or(0)];
                if is_page {
                    assert!(
                        !path.starts_with("/api"),
                        "{}: page route {path} under /api",
                        p.display()
                    );
                    continue;
                }
                assert!(
                    UNDOCUMENTED.contains(&path) || documented.iter().any(|d| d == path),
                    "{}: `.route(\"{path}\")` is not in the OpenAPI document; register it with routes!()",
                    p.display()
                );
            }
            // Every handler annotated with a path must be registered (and so be in the document).
            for (i, _) in text.match_indices("#[utoipa::path(") {
                let rest = &text[i..];
                let Some(p0) = rest.find("path = \"") else {
                    continue;
                };
                let path = &rest[p0 + 8..];
                let path = &path[..path.find('"').unwrap()];
                assert!(
                    documented.iter().any(|d| d == path),
                    "{path} is annotated but not registered"
                );
            }
        }
    }
    let app = TestApp::new();
    let tok = app.login("admin").await;
    for (path, item) in &doc.paths.paths {
        let concrete = concrete_path(path);
        for (method, present) in [
            (Method::GET, item.get.is_some()),
            (Method::POST, item.post.is_some()),
            (Method::PUT, item.put.is_some()),
            (Method::DELETE, item.delete.is_some()),
        ] {
            if !present || concrete == "/api/stream" {
                continue;
            }
            let a = app
                .send(method.clone(), &concrete, Some(&tok), None, &[])
                .await;
            assert_ne!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            if a.status == StatusCode::NOT_FOUND {
                assert_ne!(
                    a.body["error"]["message"], "No such endpoint.",
                    "{method} {path} is not routed"
                );
            }
        }
    }
}

/// The path with every `{param}` replaced by `1`.
fn concrete_path(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push('1');
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// The schema a `$ref` (or an inline schema) stands for in `doc`.
fn resolve<'a>(doc: &'a serde_json::Value, s: &'a serde_json::Value) -> &'a serde_json::Value {
    match s["$ref"].as_str() {
        Some(r) => {
            let name = r.trim_start_matches("#/components/schemas/");
            &doc["components"]["schemas"][name]
        }
        None => s,
    }
}

/// The `type` of a property: its own, or that of the schema it references (`["x", "null"]` for
/// nullable ones).
fn type_of(doc: &serde_json::Value, prop: &serde_json::Value) -> String {
    let p = match prop["oneOf"].as_array() {
        Some(alts) => alts.iter().find(|a| a["type"] != "null").unwrap_or(prop),
        None => prop,
    };
    let s = resolve(doc, p);
    match &s["type"] {
        serde_json::Value::Array(ts) => ts
            .iter()
            .find(|t| *t != "null")
            .and_then(|t| t.as_str())
            .unwrap_or("")
            .to_owned(),
        t => t.as_str().unwrap_or("").to_owned(),
    }
}

#[test]
fn domain_types_have_real_schemas_with_string_ids_and_integer_money() {
    let doc = crate::web::openapi_json();
    let schemas = &doc["components"]["schemas"];
    for (schema, props) in [
        ("Item", &["price", "stock", "role_id", "created_at"][..]),
        ("ItemInput", &["name", "price", "stock"][..]),
        (
            "Task",
            &["reward", "max_claims", "status", "created_by"][..],
        ),
        ("NewTask", &["name", "reward"][..]),
        ("Claim", &["task_id", "user", "status", "deadline"][..]),
        ("GuildConfig", &["currency_name", "features"][..]),
        ("Announcement", &["title", "channel"][..]),
        ("EmbedTemplate", &["name", "embed"][..]),
        ("CustomCommand", &["name", "response"][..]),
        ("SyncRecord", &["kind", "state", "message_id"][..]),
        ("RoleGrant", &["user", "role", "state"][..]),
        ("AuditView", &["action", "before", "after"][..]),
        ("CommandLogView", &["command", "outcome", "duration_ms"][..]),
    ] {
        let s = &schemas[schema];
        assert_eq!(s["type"], "object", "{schema} missing: {s}");
        for p in props {
            assert!(s["properties"][p].is_object(), "{schema}.{p} missing: {s}");
        }
    }
    let item = &schemas["Item"]["properties"];
    assert_eq!(
        type_of(&doc, &item["price"]),
        "integer",
        "{}",
        item["price"]
    );
    assert_eq!(
        type_of(&doc, &item["stock"]),
        "integer",
        "{}",
        item["stock"]
    );
    assert_eq!(
        type_of(&doc, &item["role_id"]),
        "string",
        "{}",
        item["role_id"]
    );
    let claim = &schemas["Claim"]["properties"];
    assert_eq!(type_of(&doc, &claim["user"]), "string", "{}", claim["user"]);
    let task = &schemas["Task"]["properties"];
    assert_eq!(type_of(&doc, &task["reward"]), "integer");
    assert_eq!(type_of(&doc, &task["max_claims"]), "integer");
}

#[test]
fn writes_reference_request_and_response_schemas() {
    let doc = crate::web::openapi_json();
    let body_schema = |path: &str, method: &str| {
        doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path} has no request body schema"))
            .to_owned()
    };
    assert_eq!(
        body_schema("/api/{server_id}/shop", "post"),
        "#/components/schemas/ItemInput"
    );
    assert_eq!(
        body_schema("/api/{server_id}/shop/{item_id}", "put"),
        "#/components/schemas/ItemPatch"
    );
    assert_eq!(
        body_schema("/api/{server_id}/tasks", "post"),
        "#/components/schemas/NewTask"
    );
    let created = &doc["paths"]["/api/{server_id}/tasks"]["post"]["responses"]["201"]["content"]
        ["application/json"]["schema"]["$ref"];
    assert_eq!(created, "#/components/schemas/Task");
    let listed = &doc["paths"]["/api/{server_id}/shop"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    assert_eq!(
        listed["items"]["$ref"], "#/components/schemas/Item",
        "{listed}"
    );
}

#[tokio::test]
async fn the_root_page_is_the_dashboard_behind_the_login_form() {
    let app = TestApp::new();
    let a = app
        .send(axum::http::Method::GET, "/", None, None, &[])
        .await;
    assert_eq!(a.status, axum::http::StatusCode::SEE_OTHER);
    assert_eq!(a.headers["location"], "/login?next=/");
    assert!(a.headers["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
}

/// The document's bounds are the server's: for every query parameter with a declared minimum or
/// maximum, one past the bound is refused with 400 naming the parameter, and the bound itself is
/// not refused as invalid; a word-valued one takes each listed word and refuses another. A validator and the document that drift apart fail here.
#[tokio::test]
async fn every_documented_query_bound_is_the_servers_bound() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let doc = crate::web::openapi_json();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method != "get" || path.contains("stream") {
                continue;
            }
            let url = path
                .replace("{server_id}", "111")
                .replace("{name}", "x")
                .split('/')
                .map(|seg| if seg.starts_with('{') { "1" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] != "query" {
                    continue;
                }
                let name = p["name"].as_str().unwrap();
                let schema = &p["schema"];
                if let Some(words) = schema["enum"].as_array() {
                    let refused = app.get(&format!("{url}?{name}=zzz"), &tok).await;
                    assert_eq!(
                        (
                            refused.status,
                            refused.body["error"]["details"]["field"].as_str()
                        ),
                        (StatusCode::BAD_REQUEST, Some(name)),
                        "{path} {name}=zzz should be refused: {}",
                        refused.body
                    );
                    for w in words {
                        let w = w.as_str().unwrap();
                        let taken = app.get(&format!("{url}?{name}={w}"), &tok).await;
                        assert!(
                            taken.body["error"]["details"]["field"].as_str() != Some(name),
                            "{path} {name}={w} is one of the document's words but refused: {}",
                            taken.body
                        );
                    }
                    checked += 1;
                }
                for (bound, outside) in [("maximum", 1i64), ("minimum", -1)] {
                    let Some(b) = schema[bound].as_i64() else {
                        continue;
                    };
                    let refused = app
                        .get(&format!("{url}?{name}={}", b + outside), &tok)
                        .await;
                    assert_eq!(
                        (
                            refused.status,
                            refused.body["error"]["details"]["field"].as_str()
                        ),
                        (StatusCode::BAD_REQUEST, Some(name)),
                        "{path} {name}={} should be refused: {}",
                        b + outside,
                        refused.body
                    );
                    let taken = app.get(&format!("{url}?{name}={b}"), &tok).await;
                    assert!(
                        taken.body["error"]["details"]["field"].as_str() != Some(name),
                        "{path} {name}={b} is in the document's range but refused: {}",
                        taken.body
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} bounds checked");
}

/// The document's query patterns are the server's: for every query parameter with a `pattern`
/// (ids, id filters, search prefixes, kind lists), a value is refused naming the parameter
/// exactly when the pattern does not match it.
#[tokio::test]
async fn every_documented_query_pattern_is_the_servers_rule() {
    let app = TestApp::new();
    let tok = app.login("admin").await;
    let doc = crate::web::openapi_json();
    let samples = [
        "",
        " ",
        "5",
        "05",
        "0",
        " 5",
        "5 ",
        "abc",
        "12345",
        "1 2",
        "daily",
        "daily,refund",
        " daily , refund ",
        "daily,,refund",
        "daily,x",
        "Daily",
        "99999999999999999999",
    ];
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method != "get" || path.contains("stream") {
                continue;
            }
            let url = path
                .replace("{server_id}", "111")
                .split('/')
                .map(|seg| if seg.starts_with('{') { "1" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            for p in op["parameters"].as_array().into_iter().flatten() {
                let Some(pattern) = p["schema"]["pattern"].as_str() else {
                    continue;
                };
                if p["in"] != "query" {
                    continue;
                }
                let name = p["name"].as_str().unwrap();
                let re = regex::Regex::new(pattern).unwrap();
                for v in samples {
                    let mut q = format!("{name}={}", urlencode(v));
                    if name != "server_id" && url == "/api/commands" {
                        q.push_str("&server_id=111");
                    }
                    let a = app.get(&format!("{url}?{q}"), &tok).await;
                    let refused = a.status == StatusCode::BAD_REQUEST
                        && a.body["error"]["details"]["field"].as_str() == Some(name);
                    assert_eq!(
                        re.is_match(v),
                        !refused,
                        "{path} {name}={v:?}: pattern {pattern}, server {} {}",
                        a.status,
                        a.body
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 100, "only {checked} values checked");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
