//! Pending role grants: a task or shop reward that gives a Discord role is recorded here in the
//! same transaction as the reward; the Discord side carries it out after commit and records the
//! outcome (granted, or failed with the reason).

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables, StoreError, Tables, View, WriteCtx};
use crate::domain::{RoleId, UserId};
use crate::events::EventKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantState {
    Pending,
    Granted,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RoleGrant {
    pub id: u64,
    pub user: UserId,
    pub role: RoleId,
    /// Why, e.g. `task:3` or `item:7`.
    pub reason: String,
    pub state: GrantState,
    pub error: Option<String>,
    /// Failed attempts so far (a pending grant being retried).
    #[serde(default)]
    pub attempts: u32,
    /// A pending grant is not tried before this (backoff after a server error).
    #[serde(default)]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<T: Tables> View<'_, T> {
    pub fn role_grant(&self, id: u64) -> Result<Option<RoleGrant>, StoreError> {
        let t = self.tx.open(tables::ROLE_GRANTS)?;
        let v = t.get((self.g(), id))?;
        v.map(|v| decode("role_grants", v.value())).transpose()
    }

    /// Every grant of the guild, oldest first (`pending_only` to get the work list).
    pub fn role_grants(&self, pending_only: bool) -> Result<Vec<RoleGrant>, StoreError> {
        let t = self.tx.open(tables::ROLE_GRANTS)?;
        let mut out = Vec::new();
        for row in t.range((self.g(), 0)..=(self.g(), u64::MAX))? {
            let g: RoleGrant = decode("role_grants", row?.1.value())?;
            if !pending_only || g.state == GrantState::Pending {
                out.push(g);
            }
        }
        Ok(out)
    }
}

impl WriteCtx<'_> {
    pub fn record_role_grant(
        &mut self,
        user: UserId,
        role: RoleId,
        reason: impl Into<String>,
    ) -> Result<RoleGrant, StoreError> {
        let id = self.next_id("role_grant")?;
        let g = RoleGrant {
            id,
            user,
            role,
            reason: reason.into(),
            state: GrantState::Pending,
            error: None,
            attempts: 0,
            next_attempt_at: None,
            created_at: self.now,
            updated_at: self.now,
        };
        self.put_role_grant(&g)?;
        self.emit(
            EventKind::RoleGrantRecorded,
            vec![id.to_string(), user.to_string()],
        );
        Ok(g)
    }

    /// Records what Discord said when the grant was attempted.
    pub fn finish_role_grant(
        &mut self,
        id: u64,
        outcome: Result<(), String>,
    ) -> Result<Option<RoleGrant>, StoreError> {
        let Some(mut g) = self.role_grant(id)? else {
            return Ok(None);
        };
        match outcome {
            Ok(()) => {
                g.state = GrantState::Granted;
                g.error = None;
            }
            Err(e) => {
                g.state = GrantState::Failed;
                g.error = Some(e);
            }
        }
        g.updated_at = self.now;
        self.put_role_grant(&g)?;
        self.emit(
            EventKind::RoleGrantRecorded,
            vec![id.to_string(), g.user.to_string()],
        );
        Ok(Some(g))
    }

    /// A failed attempt to try again at `at` (kept in the store, so a restart keeps the
    /// backoff).
    pub fn retry_role_grant(
        &mut self,
        id: u64,
        at: DateTime<Utc>,
        error: String,
    ) -> Result<Option<RoleGrant>, StoreError> {
        let Some(mut g) = self.role_grant(id)? else {
            return Ok(None);
        };
        if g.state != GrantState::Pending {
            return Ok(Some(g));
        }
        g.attempts = g.attempts.saturating_add(1);
        g.next_attempt_at = Some(at);
        g.error = Some(error);
        g.updated_at = self.now;
        self.put_role_grant(&g)?;
        Ok(Some(g))
    }

    pub(crate) fn put_role_grant(&self, g: &RoleGrant) -> Result<(), StoreError> {
        let key = (self.g(), g.id);
        let mut t = self.tx.open_table(tables::ROLE_GRANTS)?;
        t.insert(key, encode(g)?.as_slice())?;
        let mut due = self.tx.open_table(tables::GRANTS_DUE)?;
        if g.state == GrantState::Pending {
            due.insert(key, ())?;
        } else {
            due.remove(key)?;
        }
        Ok(())
    }
}
