//! `GET /metrics`: the Prometheus text exposition of `crate::metrics`, plus the values read
//! from the store at scrape time (sync records by state). No login: scrapers rarely carry one,
//! and nothing in it names a member or a server.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::WebState;

pub async fn metrics(State(s): State<WebState>) -> Response {
    let services = s.services.clone();
    let sync_states = crate::services::blocking(move || services.guilds.sync_state_counts())
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "metrics: could not count sync records");
            Vec::new()
        });
    let text = crate::metrics::global().render(&crate::metrics::Scraped { sync_states });
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
