//! The server loop and request guards (issue 10 point 7): header read timeout, connection
//! cap, request timeout. Kept here: the route scan of `openapi.rs` skips test modules.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use crate::web::limits::{request_timeout, REQUEST_TIMEOUT};
use crate::web::serve::{serve, ServeLimits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

async fn start(limits: ServeLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route(
        "/",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, app, limits, async move {
        let _ = rx.await;
    }));
    (addr, tx)
}

/// Issue 10 point 7: a half-sent request stayed open forever.
#[tokio::test]
async fn a_half_sent_request_head_is_dropped_after_the_header_timeout() {
    let (addr, _stop) = start(ServeLimits {
        header_read_timeout: Duration::from_millis(300),
        ..ServeLimits::default()
    })
    .await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the connection is still open");
}

/// Issue 10 point 7: at most `max_connections` are served at once; the next waits.
#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let (addr, _stop) = start(ServeLimits {
        max_connections: 1,
        ..ServeLimits::default()
    })
    .await;
    let get = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
    first.write_all(get).await.unwrap();
    let mut buf = [0u8; 512];
    let n = first.read(&mut buf).await.unwrap();
    assert!(std::str::from_utf8(&buf[..n])
        .unwrap()
        .contains("127.0.0.1"));
    let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
    second.write_all(get).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(300), second.read(&mut buf)).await;
    assert!(
        waited.is_err(),
        "the second connection was served beside the first"
    );
    drop(first);
    let n = tokio::time::timeout(Duration::from_secs(5), second.read(&mut buf))
        .await
        .expect("served once the first closed")
        .unwrap();
    assert!(std::str::from_utf8(&buf[..n])
        .unwrap()
        .starts_with("HTTP/1.1 200"));
}

/// Issue 10 point 7: a request that takes too long is answered 503 in the error shape.
#[tokio::test(start_paused = true)]
async fn a_request_running_past_the_timeout_is_answered_503() {
    let app = axum::Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(REQUEST_TIMEOUT * 2).await;
                "late"
            }),
        )
        .layer(axum::middleware::from_fn(request_timeout));
    let res = app
        .oneshot(
            axum::http::Request::builder()
                .uri("/slow")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// Shutdown returns once open connections finish (it used to wait forever on its own handle).
#[tokio::test]
async fn serve_returns_after_shutdown_with_an_idle_connection_open() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/", get(|| async { "ok" }));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, ServeLimits::default(), async move {
        let _ = rx.await;
    }));
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    assert!(s.read(&mut buf).await.unwrap() > 0);
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve did not return")
        .unwrap()
        .unwrap();
}
