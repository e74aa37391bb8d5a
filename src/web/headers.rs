//! Security headers on every response: a CSP without inline script, no framing, no sniffing,
//! no referrer leaks, no caching of API answers, and HSTS when served over https.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::Response;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data: https://cdn.discordapp.com; connect-src 'self'; object-src 'none'; \
base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Whether the dashboard is served over https (then browsers are told to stay on https).
#[derive(Debug, Clone, Copy)]
pub struct Hsts(pub bool);

pub async fn security_headers(State(hsts): State<Hsts>, mut res: Response) -> Response {
    let h = res.headers_mut();
    if hsts.0 {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
