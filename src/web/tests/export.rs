//! Streaming export: 100,000 rows with flat memory, formula neutralisation, filters, JSON.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::http::StatusCode;
use http_body_util::BodyExt;

use super::{TestApp, G, G2};
use crate::domain::{Money, TxKind, UserId};
use crate::economy::TxFilter;
use crate::store::accounts::NewEntry;
use crate::web::export::{export_body, Format, CHANNEL_CHUNKS};

fn seed(app: &TestApp, g: crate::domain::GuildId, rows: &[(u64, &str)]) {
    app.ts
        .store
        .write(g, |w| -> Result<(), crate::Error> {
            for (user, desc) in rows {
                w.append_entry(NewEntry::new(
                    UserId(*user),
                    Money::new(1),
                    TxKind::AdminAdd,
                    *desc,
                ))?;
            }
            Ok(())
        })
        .unwrap();
}

#[tokio::test]
async fn a_100k_row_csv_streams_before_the_producer_finishes_and_holds_few_chunks() {
    let app = TestApp::new();
    let rows: Vec<(u64, &str)> = (0..100_000u64)
        .map(|i| (i % 500 + 1, "Bulk entry"))
        .collect();
    seed(&app, G, &rows);
    let (mut body, produced) = export_body(
        app.services.economy.clone(),
        G,
        TxFilter::default(),
        Format::Csv,
    );
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(first.starts_with(b"id,timestamp,user_id,type,amount"));
    // Wait until the producer has really run and filled the bounded channel (chunks of about
    // 400 rows), so the check below cannot pass just because it had not started yet.
    let filled = CHANNEL_CHUNKS as u64 * 200;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while produced.load(Ordering::Relaxed) < filled {
        assert!(
            std::time::Instant::now() < deadline,
            "the producer never ran"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Then it is blocked on the channel: it cannot run ahead of the reader by more than the
    // channel's chunks, let alone finish.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ahead = produced.load(Ordering::Relaxed);
    assert!(
        ahead < 100_000,
        "the producer finished before the body was read"
    );
    assert!(
        ahead < (CHANNEL_CHUNKS as u64 + 3) * 400,
        "ran ahead by {ahead} rows"
    );
    let mut lines = first.iter().filter(|b| **b == b'\n').count();
    let mut biggest = first.len();
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        biggest = biggest.max(data.len());
        lines += data.iter().filter(|b| **b == b'\n').count();
    }
    assert_eq!(lines, 100_001, "header + every row");
    assert_eq!(produced.load(Ordering::Relaxed), 100_000);
    assert!(biggest < 64 * 1024, "a chunk of {biggest} bytes");
}

#[tokio::test]
async fn csv_export_neutralises_formulas_respects_filters_and_names_the_file() {
    let app = TestApp::new();
    let evil = [
        "=HYPERLINK(\"http://x\")",
        "+SUM(1)",
        "-1+1",
        "@cmd",
        "\tTab",
        "\rCR",
        "plain",
    ];
    seed(&app, G, &evil.iter().map(|d| (1, *d)).collect::<Vec<_>>());
    seed(&app, G, &[(2, "=other user")]);
    seed(&app, G2, &[(1, "=other guild")]);
    let tok = app.login("viewer").await;
    let a = app
        .get(
            &format!("/api/{}/transactions/export?user_id=1&sort=oldest", G.0),
            &tok,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let disp = a.headers["content-disposition"].to_str().unwrap();
    assert!(
        disp.starts_with("attachment; filename=\"transactions-111-") && disp.ends_with(".csv\""),
        "{disp}"
    );
    let text = a.body.as_str().unwrap().to_owned();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let descs: Vec<String> = r.records().map(|rec| rec.unwrap()[7].to_owned()).collect();
    let want: Vec<String> = evil
        .iter()
        .map(|d| {
            if *d == "plain" {
                d.to_string()
            } else {
                format!("'{d}")
            }
        })
        .collect();
    assert_eq!(descs, want);
    let a = app
        .get(
            &format!("/api/{}/transactions/export?type=daily", G.0),
            &tok,
        )
        .await;
    assert_eq!(a.body.as_str().unwrap().lines().count(), 1, "header only");
    let a = app
        .get(
            &format!("/api/{}/transactions/export?format=xml", G.0),
            &tok,
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn json_export_is_an_array_of_the_filtered_transactions() {
    let app = TestApp::new();
    seed(&app, G, &[(1, "a"), (2, "b"), (1, "c")]);
    let tok = app.login("viewer").await;
    let a = app
        .get(
            &format!("/api/{}/transactions/export?format=json&user_id=1", G.0),
            &tok,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    let items = a.body.as_array().expect("a JSON array");
    let descs: Vec<_> = items
        .iter()
        .map(|t| t["description"].as_str().unwrap())
        .collect();
    assert_eq!(descs, ["c", "a"]);
}
