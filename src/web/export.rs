//! Streaming ledger export (CSV or JSON). A blocking thread scans the ledger and hands chunks of
//! about 32 KiB through a bounded channel to the response body, so memory stays flat however many
//! rows there are, and a client that goes away stops the scan. CSV text cells that a spreadsheet
//! would run as a formula (`= + - @`, tab, CR) are prefixed with `'`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use utoipa::IntoParams;

use super::api::transactions::TxQuery;
use super::api::TransactionView;
use super::auth::Auth;
use super::error::{ApiError, ApiResult, ErrorBody, Path, Query};
use super::WebState;
use crate::domain::{GuildId, Transaction};
use crate::economy::{Economy, TxFilter};
use crate::instance::export::LedgerCsvCells;

const CHUNK: usize = 32 * 1024;
/// Chunks in flight between the scanning thread and the socket.
pub const CHANNEL_CHUNKS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// csv (default) or json.
    #[param(inline)]
    pub format: Option<crate::web::contract::FormatWord>,
}

pub use crate::instance::export::neutralise;

type Chunk = Result<Bytes, std::io::Error>;

/// An `io::Write` that ships full chunks down the channel (blocking when it is full).
struct ChunkSink {
    buf: Vec<u8>,
    tx: mpsc::Sender<Chunk>,
}

impl ChunkSink {
    fn ship(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK + 1024),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

impl Write for ChunkSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.ship()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Scans on a blocking thread; the returned body yields the export as it is produced. The counter
/// says how many rows the producer has written so far.
pub fn export_body(
    economy: Economy,
    guild: GuildId,
    filter: TxFilter,
    format: Format,
) -> (Body, Arc<AtomicU64>) {
    let (tx, rx) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    let rows = Arc::new(AtomicU64::new(0));
    let counter = rows.clone();
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _g = span.enter();
        let err_tx = tx.clone();
        let sink = ChunkSink {
            buf: Vec::with_capacity(CHUNK + 1024),
            tx,
        };
        let result = match format {
            Format::Csv => produce_csv(&economy, guild, &filter, sink, &counter),
            Format::Json => produce_json(&economy, guild, &filter, sink, &counter),
        };
        if let Err(e) = result {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                tracing::error!(error = %e, "export failed");
                // Ends the body with an error, so the client sees a broken transfer, not a
                // silently short file.
                let _ = err_tx.blocking_send(Err(e));
            }
        }
    });
    (Body::from_stream(ReceiverStream::new(rx)), rows)
}

/// Streams whatever `produce` writes (on a blocking thread, through the same bounded channel
/// as the ledger export), for other large JSON downloads.
pub fn stream_body(
    produce: impl FnOnce(&mut dyn Write) -> std::io::Result<()> + Send + 'static,
) -> Body {
    let (tx, rx) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _g = span.enter();
        let err_tx = tx.clone();
        let mut sink = ChunkSink {
            buf: Vec::with_capacity(CHUNK + 1024),
            tx,
        };
        let result = produce(&mut sink).and_then(|()| sink.ship());
        if let Err(e) = result {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                tracing::error!(error = %e, "export failed");
                let _ = err_tx.blocking_send(Err(e));
            }
        }
    });
    Body::from_stream(ReceiverStream::new(rx))
}

fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

fn scan(
    economy: &Economy,
    guild: GuildId,
    filter: &TxFilter,
    mut row: impl FnMut(&Transaction) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut failure = None;
    economy
        .for_each_transaction(guild, filter, |t| match row(t) {
            Ok(()) => Ok(true),
            Err(e) => {
                failure = Some(e);
                Ok(false)
            }
        })
        .map_err(io_err)?;
    failure.map_or(Ok(()), Err)
}

fn produce_csv(
    economy: &Economy,
    guild: GuildId,
    filter: &TxFilter,
    mut sink: ChunkSink,
    rows: &AtomicU64,
) -> std::io::Result<()> {
    sink.buf
        .extend_from_slice(crate::instance::export::ledger_csv_header(false).as_bytes());
    let mut cells = LedgerCsvCells::default();
    scan(economy, guild, filter, |t| {
        cells.write_line(t, &mut sink.buf);
        if sink.buf.len() >= CHUNK {
            sink.ship()?;
        }
        rows.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })?;
    sink.ship()
}

fn produce_json(
    economy: &Economy,
    guild: GuildId,
    filter: &TxFilter,
    mut sink: ChunkSink,
    rows: &AtomicU64,
) -> std::io::Result<()> {
    sink.write_all(b"[")?;
    let mut first = true;
    scan(economy, guild, filter, |t| {
        if !first {
            sink.write_all(b",\n")?;
        }
        first = false;
        serde_json::to_writer(&mut sink, &TransactionView::from(t.clone())).map_err(io_err)?;
        rows.fetch_add(1, Ordering::Relaxed);
        Ok(())
    })?;
    sink.write_all(b"]\n")?;
    sink.ship()
}

/// Downloads the server's ledger (same filters as the list; all rows unless `limit` is given),
/// streamed as it is read.
#[utoipa::path(get, path = "/api/{server_id}/transactions/export", tag = "transactions",
    params(("server_id" = String, Path), TxQuery, FormatQuery),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The export file: CSV, or with `format=json` a JSON array",
            content((String = "text/csv"), (Vec<crate::web::api::TransactionView> = "application/json"))),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn export_transactions(
    State(s): State<WebState>,
    _auth: Auth,
    Path(guild): Path<GuildId>,
    Query(q): Query<TxQuery>,
    Query(f): Query<FormatQuery>,
) -> ApiResult<Response> {
    let format = match f.format.map_or("csv", |w| w.as_str()) {
        "csv" => Format::Csv,
        "json" => Format::Json,
        _ => {
            return Err(ApiError::invalid_param(
                "format",
                "format must be csv or json",
            ))
        }
    };
    let filter = q.to_filter(0)?;
    let (body, _) = export_body(s.services.economy.clone(), guild, filter, format);
    let stamp = s.services.now().format("%Y%m%d-%H%M%S");
    let (ext, mime) = match format {
        Format::Csv => ("csv", "text/csv; charset=utf-8"),
        Format::Json => ("json", "application/json"),
    };
    let disposition = format!("attachment; filename=\"transactions-{guild}-{stamp}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_plain_ones_kept() {
        for bad in ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise(bad), format!("'{bad}"));
        }
        assert_eq!(neutralise("Daily reward"), "Daily reward");
        assert_eq!(neutralise(""), "");
    }
}
