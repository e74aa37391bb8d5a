//! `Idempotency-Key` over HTTP: a middleware fingerprints every request that carries the header
//! (method, path with its parameters, query, and a hash of the body) before a handler sees it,
//! and the `IdempotencyKey` extractor hands the key and that fingerprint to the handler, which
//! passes them (with the actor folded in, `api::dashboard_meta`) to the service in `OpMeta`.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::digest::{Context, SHA256};

use super::error::ApiError;
use crate::domain::op::MAX_KEY_LEN;
use crate::domain::IdemKey;

pub const HEADER: &str = "idempotency-key";

/// The largest body a keyed request may have (axum's own default limit for JSON bodies).
const MAX_BODY: usize = 2 * 1024 * 1024;

/// The hex SHA-256 of `parts`, each length-prefixed so no two lists hash alike.
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut ctx = Context::new(&SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The fingerprint of a keyed request, left in its extensions by `fingerprint_requests`.
#[derive(Debug, Clone)]
struct RequestFingerprint(String);

/// Middleware: for a request with an `Idempotency-Key`, reads the body (bounded), records the
/// request's fingerprint, and passes the request on with the same body.
pub async fn fingerprint_requests(req: Request, next: Next) -> Response {
    if !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large.",
            )
            .into_response()
        }
    };
    let target = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("");
    let body_hash = fingerprint(&[&bytes]);
    let fp = fingerprint(&[
        parts.method.as_str().as_bytes(),
        target.as_bytes(),
        body_hash.as_bytes(),
    ]);
    parts.extensions.insert(RequestFingerprint(fp));
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The optional `Idempotency-Key` header of a write, with its request's fingerprint.
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey(pub Option<IdemKey>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(v) = parts.headers.get(HEADER) else {
            return Ok(IdempotencyKey(None));
        };
        let s = v.to_str().map_err(|_| {
            ApiError::invalid_param("Idempotency-Key", "Idempotency-Key must be ASCII.")
        })?;
        if !super::contract::is_idempotency_key(s) {
            return Err(ApiError::invalid_param(
                "Idempotency-Key",
                format!(
                    "Idempotency-Key must be 1 to {MAX_KEY_LEN} printable ASCII characters, \
                     without a space at either end."
                ),
            ));
        }
        let fp = parts
            .extensions
            .get::<RequestFingerprint>()
            .map(|f| f.0.clone())
            .ok_or_else(|| {
                ApiError::internal(&"the request fingerprint is missing (middleware not installed)")
            })?;
        Ok(IdempotencyKey(Some(IdemKey::new(s, fp)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_differ_when_any_part_differs() {
        let a = fingerprint(&[b"PUT", b"/api/1/users/8/balance", b"{\"amount\":100}"]);
        assert_eq!(
            a,
            fingerprint(&[b"PUT", b"/api/1/users/8/balance", b"{\"amount\":100}"])
        );
        assert_ne!(
            a,
            fingerprint(&[b"PUT", b"/api/1/users/9/balance", b"{\"amount\":100}"])
        );
        assert_ne!(
            a,
            fingerprint(&[b"PUT", b"/api/1/users/8/balance", b"{\"amount\":999}"])
        );
        // Length prefixes: moving bytes between parts changes the hash.
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
        assert_eq!(a.len(), 64);
    }
}
