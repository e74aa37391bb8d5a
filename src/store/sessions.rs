//! Dashboard sessions: rotating refresh tokens, stored only as SHA-256 hashes, grouped in a
//! family per login. Rotation, reuse detection and revocation each run in one write transaction,
//! so two concurrent refreshes of one token cannot both succeed.

use chrono::{DateTime, Duration, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables, Store, StoreError};

/// One refresh token (by hash). `replaced_at` is set once it has been rotated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub family: String,
    pub username: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub replaced_at: Option<DateTime<Utc>>,
}

/// Every token rotated from one login. Revoking the family ends the session (refresh and access).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionFamily {
    pub username: String,
    pub created_at: DateTime<Utc>,
    /// When the newest token of the family expires.
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: Option<String>,
}

impl SessionFamily {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: it is now replaced by the new one.
    Rotated { username: String, family: String },
    /// The token had already been rotated: someone replayed it, so the whole family is revoked.
    Reused { family: String },
    /// Unknown, expired, or its family was revoked.
    Invalid,
}

fn missing_is_empty<T>(r: Result<T, redb::TableError>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

impl Store {
    /// Starts a session family with its first refresh token.
    pub fn create_session(
        &self,
        username: &str,
        family: &str,
        token_hash: &str,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let now = self.now();
        self.write_global(|tx| {
            prune(tx, now)?;
            let fam = SessionFamily {
                username: username.to_owned(),
                created_at: now,
                expires_at: now + ttl,
                revoked_at: None,
                revoked_reason: None,
            };
            tx.open_table(tables::SESSION_FAMILIES)?
                .insert(family, encode(&fam)?.as_slice())?;
            let tok = RefreshToken {
                family: family.to_owned(),
                username: username.to_owned(),
                issued_at: now,
                expires_at: now + ttl,
                replaced_at: None,
            };
            tx.open_table(tables::REFRESH_TOKENS)?
                .insert(token_hash, encode(&tok)?.as_slice())?;
            Ok(())
        })
    }

    /// Exchanges a current refresh token for `new_hash`; a replayed one revokes its family.
    pub fn rotate_refresh(
        &self,
        old_hash: &str,
        new_hash: &str,
        ttl: Duration,
    ) -> Result<Rotation, StoreError> {
        self.rotate_refresh_with_grace(old_hash, new_hash, ttl, Duration::zero())
    }

    /// `rotate_refresh`, except that a token rotated at most `grace` ago is exchanged once more
    /// (for a second tab that sent it at the same time) instead of counting as a replay. Its
    /// successor stays valid, and the grace runs from the first rotation, so it does not slide.
    pub fn rotate_refresh_with_grace(
        &self,
        old_hash: &str,
        new_hash: &str,
        ttl: Duration,
        grace: Duration,
    ) -> Result<Rotation, StoreError> {
        let now = self.now();
        self.write_global(|tx| {
            let mut tokens = tx.open_table(tables::REFRESH_TOKENS)?;
            let mut families = tx.open_table(tables::SESSION_FAMILIES)?;
            let Some(mut old): Option<RefreshToken> = tokens
                .get(old_hash)?
                .map(|v| decode("refresh_tokens", v.value()))
                .transpose()?
            else {
                return Ok(Rotation::Invalid);
            };
            let Some(mut fam): Option<SessionFamily> = families
                .get(old.family.as_str())?
                .map(|v| decode("session_families", v.value()))
                .transpose()?
            else {
                return Ok(Rotation::Invalid);
            };
            if fam.revoked_at.is_some() {
                return Ok(Rotation::Invalid);
            }
            let in_grace = old.replaced_at.is_some_and(|at| now - at < grace);
            if old.replaced_at.is_some() && !in_grace {
                fam.revoked_at = Some(now);
                fam.revoked_reason = Some("refresh token reused".into());
                families.insert(old.family.as_str(), encode(&fam)?.as_slice())?;
                return Ok(Rotation::Reused { family: old.family });
            }
            if now >= old.expires_at {
                return Ok(Rotation::Invalid);
            }
            if old.replaced_at.is_none() {
                old.replaced_at = Some(now);
                tokens.insert(old_hash, encode(&old)?.as_slice())?;
            }
            let new = RefreshToken {
                family: old.family.clone(),
                username: old.username.clone(),
                issued_at: now,
                expires_at: now + ttl,
                replaced_at: None,
            };
            tokens.insert(new_hash, encode(&new)?.as_slice())?;
            fam.expires_at = new.expires_at;
            families.insert(old.family.as_str(), encode(&fam)?.as_slice())?;
            Ok(Rotation::Rotated {
                username: old.username,
                family: old.family,
            })
        })
    }

    /// Ends a session family (logout). Returns false when it did not exist.
    pub fn revoke_session(&self, family: &str, reason: &str) -> Result<bool, StoreError> {
        let now = self.now();
        self.write_global(|tx| {
            let mut families = tx.open_table(tables::SESSION_FAMILIES)?;
            let Some(mut fam): Option<SessionFamily> = families
                .get(family)?
                .map(|v| decode("session_families", v.value()))
                .transpose()?
            else {
                return Ok(false);
            };
            if fam.revoked_at.is_none() {
                fam.revoked_at = Some(now);
                fam.revoked_reason = Some(reason.to_owned());
                families.insert(family, encode(&fam)?.as_slice())?;
            }
            Ok(true)
        })
    }

    /// Ends every live session of `username` (a password reset). Returns how many were live.
    pub fn revoke_sessions_of(&self, username: &str, reason: &str) -> Result<usize, StoreError> {
        let now = self.now();
        self.write_global(|tx| {
            let mut families = tx.open_table(tables::SESSION_FAMILIES)?;
            let mut ended = Vec::new();
            for row in families.iter()? {
                let (k, v) = row?;
                let fam: SessionFamily = decode("session_families", v.value())?;
                if fam.username == username && fam.revoked_at.is_none() {
                    ended.push((k.value().to_owned(), fam));
                }
            }
            for (family, mut fam) in ended.iter().cloned() {
                fam.revoked_at = Some(now);
                fam.revoked_reason = Some(reason.to_owned());
                families.insert(family.as_str(), encode(&fam)?.as_slice())?;
            }
            Ok(ended.len())
        })
    }

    /// The family a refresh token belongs to, if the token is known.
    pub fn refresh_token(&self, token_hash: &str) -> Result<Option<RefreshToken>, StoreError> {
        let tx = self.begin_read()?;
        let Some(t) = missing_is_empty(tx.open_table(tables::REFRESH_TOKENS))? else {
            return Ok(None);
        };
        let v = t.get(token_hash)?;
        v.map(|v| decode("refresh_tokens", v.value())).transpose()
    }

    pub fn session_family(&self, family: &str) -> Result<Option<SessionFamily>, StoreError> {
        let tx = self.begin_read()?;
        let Some(t) = missing_is_empty(tx.open_table(tables::SESSION_FAMILIES))? else {
            return Ok(None);
        };
        let v = t.get(family)?;
        v.map(|v| decode("session_families", v.value())).transpose()
    }
}

/// Drops expired tokens and families (kept a day past expiry so a late replay is still
/// recognised as such rather than as unknown).
fn prune(tx: &redb::WriteTransaction, now: DateTime<Utc>) -> Result<(), StoreError> {
    let horizon = now - Duration::days(1);
    let mut tokens = tx.open_table(tables::REFRESH_TOKENS)?;
    tokens.retain(|_, v| {
        decode::<RefreshToken>("refresh_tokens", v).map_or(true, |t| t.expires_at > horizon)
    })?;
    let mut families = tx.open_table(tables::SESSION_FAMILIES)?;
    families.retain(|_, v| {
        decode::<SessionFamily>("session_families", v).map_or(true, |f| f.expires_at > horizon)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn rotation_replaces_the_token_and_reuse_revokes_the_family() {
        let ts = testing::store();
        let s = &ts.store;
        s.create_session("ann", "fam1", "h1", Duration::days(7))
            .unwrap();
        let r = s.rotate_refresh("h1", "h2", Duration::days(7)).unwrap();
        assert_eq!(
            r,
            Rotation::Rotated {
                username: "ann".into(),
                family: "fam1".into()
            }
        );
        assert!(s
            .refresh_token("h1")
            .unwrap()
            .unwrap()
            .replaced_at
            .is_some());
        // Replaying h1 revokes the family, so h2 stops working too.
        assert_eq!(
            s.rotate_refresh("h1", "h3", Duration::days(7)).unwrap(),
            Rotation::Reused {
                family: "fam1".into()
            }
        );
        assert_eq!(
            s.rotate_refresh("h2", "h4", Duration::days(7)).unwrap(),
            Rotation::Invalid
        );
        assert!(!s.session_family("fam1").unwrap().unwrap().is_live(s.now()));
    }

    #[test]
    fn expired_and_unknown_tokens_are_invalid_and_revocation_ends_the_session() {
        let ts = testing::store();
        let s = &ts.store;
        s.create_session("ann", "f", "h1", Duration::days(1))
            .unwrap();
        assert_eq!(
            s.rotate_refresh("nope", "x", Duration::days(1)).unwrap(),
            Rotation::Invalid
        );
        ts.clock.advance(Duration::days(2));
        assert_eq!(
            s.rotate_refresh("h1", "h2", Duration::days(1)).unwrap(),
            Rotation::Invalid
        );
        s.create_session("ann", "g", "k1", Duration::days(1))
            .unwrap();
        assert!(s.revoke_session("g", "logout").unwrap());
        assert_eq!(
            s.rotate_refresh("k1", "k2", Duration::days(1)).unwrap(),
            Rotation::Invalid
        );
        assert!(!s.revoke_session("missing", "logout").unwrap());
    }

    #[test]
    fn a_token_replayed_within_the_grace_gets_a_sibling_and_later_revokes() {
        let ts = testing::store();
        let s = &ts.store;
        let grace = Duration::seconds(30);
        s.create_session("ann", "f", "h1", Duration::days(1))
            .unwrap();
        let rotated = Rotation::Rotated {
            username: "ann".into(),
            family: "f".into(),
        };
        assert_eq!(
            s.rotate_refresh_with_grace("h1", "h2", Duration::days(1), grace)
                .unwrap(),
            rotated
        );
        ts.clock.advance(Duration::seconds(5));
        // The second tab's refresh with h1: a token of its own; h2 still works.
        assert_eq!(
            s.rotate_refresh_with_grace("h1", "h3", Duration::days(1), grace)
                .unwrap(),
            rotated
        );
        assert_eq!(
            s.rotate_refresh_with_grace("h2", "h4", Duration::days(1), grace)
                .unwrap(),
            rotated
        );
        // Past the grace (counted from the first rotation) h1 is a replay again.
        ts.clock.advance(Duration::seconds(26));
        assert_eq!(
            s.rotate_refresh_with_grace("h1", "h5", Duration::days(1), grace)
                .unwrap(),
            Rotation::Reused { family: "f".into() }
        );
        assert!(!s.session_family("f").unwrap().unwrap().is_live(s.now()));
    }
}
