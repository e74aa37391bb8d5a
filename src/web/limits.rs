//! Request-level guards in front of every route: the instance namespace (server id 0) is not a
//! server, every 413 speaks the JSON error shape, and non-streaming requests have a time limit.

use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// How long a non-streaming request may take before it is answered 503.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The server id of a per-server route: `/api/<id>/...`.
fn server_segment(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/")?;
    let seg = rest.split('/').next()?;
    seg.bytes().all(|b| b.is_ascii_digit()).then_some(seg)
}

/// Refuses server id 0 on every per-server route: 0 is the instance's own namespace (instance
/// settings and audit), never a Discord server.
pub async fn refuse_instance_guild(req: Request, next: Next) -> Response {
    if let Some(seg) = server_segment(req.uri().path()) {
        if !seg.is_empty() && seg.parse::<u64>() == Ok(0) {
            return ApiError::bad_request(
                "invalid_server",
                "Server id 0 is not a Discord server; use the server's id.",
            )
            .with_details(serde_json::json!({ "field": "server_id" }))
            .into_response();
        }
    }
    next.run(req).await
}

/// A 413 from an extractor's own rejection (plain text) becomes the JSON error shape.
pub async fn json_413(res: Response) -> Response {
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large.",
        )
        .into_response();
    }
    res
}

/// Answers 503 in the error shape when a request takes longer than `REQUEST_TIMEOUT`; the live
/// stream is exempt (it is meant to stay open; its response head comes at once anyway).
pub async fn request_timeout(req: Request, next: Next) -> Response {
    if req.uri().path() == "/api/stream" {
        return next.run(req).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "The request took too long and was stopped; try again.",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_segment_is_the_numeric_one_after_api() {
        assert_eq!(server_segment("/api/0/users"), Some("0"));
        assert_eq!(server_segment("/api/000"), Some("000"));
        assert_eq!(server_segment("/api/audit/0"), None);
        assert_eq!(server_segment("/healthz"), None);
    }
}
