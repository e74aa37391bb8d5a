//! Archiving old ledger entries: they move to the archive table with per-user checkpoints in
//! one write, so balances, the `balance == sum(ledger)` invariant and validation are unchanged,
//! and the entries stay exportable. Archived entries can't be reversed.

use super::Economy;
use crate::domain::OpMeta;
use crate::domain::{DomainError, GuildId};
use crate::error::Error;
use crate::store::archive::ArchiveReport;

/// The longest retention an archive request may name (100 years).
pub const MAX_DAYS_TO_KEEP: u32 = super::queries::MAX_DAYS;

impl Economy {
    /// Archives entries older than `days_to_keep` days (at least 1, so the last day's entries,
    /// which transfer limits read, always stay live). Audited as `transactions.archive`.
    pub fn archive(
        &self,
        guild: GuildId,
        days_to_keep: u32,
        meta: &OpMeta,
    ) -> Result<ArchiveReport, Error> {
        let actor = &meta.actor;
        if !(1..=MAX_DAYS_TO_KEEP).contains(&days_to_keep) {
            return Err(DomainError::invalid(
                "days_to_keep",
                format!("must be between 1 and {MAX_DAYS_TO_KEEP}"),
            )
            .into());
        }
        self.store
            .write_once(guild, meta.key(), "ledger.archive", |w| {
                let cutoff = super::queries::days_before(w.now, days_to_keep, 1, "days_to_keep")?;
                let report = w.archive_ledger_before(cutoff)?;
                if report.archived > 0 {
                    w.audit(
                        actor,
                        "transactions.archive",
                        "ledger",
                        None,
                        serde_json::to_value(&report).ok(),
                    )?;
                }
                Ok(report)
            })
    }
}

#[cfg(test)]
mod tests;
