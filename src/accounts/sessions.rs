//! Login sessions: a session is a family of refresh tokens, one per rotation. Raw tokens leave
//! this module once, to the caller; the store keeps only their SHA-256. A replayed (already
//! rotated) token ends the whole session.

use chrono::Duration;
use rand::RngCore;

use super::{Accounts, AdminAccount};
use crate::error::Error;
use crate::store::sessions::Rotation;

/// 32 random bytes (OS RNG) as lowercase hex.
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex(&b)
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the store keeps for a refresh token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, token.as_bytes()).as_ref())
}

/// How long after its rotation a refresh token may still be exchanged (two tabs refreshing at
/// once share one cookie: the slower one sends the token the faster one just used).
pub fn rotation_grace() -> Duration {
    Duration::seconds(30)
}

/// A session just started.
pub struct NewSession {
    /// The session id: every rotated refresh token and every access token of this login
    /// belongs to it, and ending it ends them all.
    pub family: String,
    /// The first refresh token, raw. This is its only copy: the store keeps its hash.
    pub refresh_token: String,
}

/// What presenting a refresh token led to.
pub enum Refresh {
    /// The token was current: it is used up, and `refresh_token` (raw) replaces it.
    Rotated {
        account: AdminAccount,
        family: String,
        refresh_token: String,
    },
    /// The token had already been used: someone replayed it, so the session is now ended.
    Reused { family: String },
    /// Unknown, expired, its session ended, or its account no longer exists.
    Invalid,
}

impl Accounts {
    /// Starts a session for `username` whose first refresh token is good for `ttl`. Does not
    /// check the account: call it after `verify_login`.
    pub fn start_session(&self, username: &str, ttl: Duration) -> Result<NewSession, Error> {
        let (family, refresh_token) = (random_token(), random_token());
        self.store
            .create_session(username, &family, &token_hash(&refresh_token), ttl)?;
        Ok(NewSession {
            family,
            refresh_token,
        })
    }

    /// Exchanges a current refresh token for a new one good for `ttl` (one write). A replayed
    /// token ends its session, unless it was rotated within `rotation_grace()`: two tabs
    /// refreshing at once each get a token.
    pub fn refresh(&self, refresh_token: &str, ttl: Duration) -> Result<Refresh, Error> {
        let new = random_token();
        let rotation = self.store.rotate_refresh_with_grace(
            &token_hash(refresh_token),
            &token_hash(&new),
            ttl,
            rotation_grace(),
        )?;
        Ok(match rotation {
            Rotation::Rotated { username, family } => match self.store.admin(&username)? {
                Some(account) => Refresh::Rotated {
                    account,
                    family,
                    refresh_token: new,
                },
                None => Refresh::Invalid,
            },
            Rotation::Reused { family } => {
                self.notify_ended(super::SessionEnded::Session(family.clone()));
                Refresh::Reused { family }
            }
            Rotation::Invalid => Refresh::Invalid,
        })
    }

    /// The session (id, username) a refresh token (raw) belongs to, if the token is known,
    /// whether or not it is still current.
    pub fn session_of(&self, refresh_token: &str) -> Result<Option<(String, String)>, Error> {
        Ok(self
            .store
            .refresh_token(&token_hash(refresh_token))?
            .map(|t| (t.family, t.username)))
    }

    /// Ends session `family` (its refresh tokens and every access token it issued), recording
    /// `reason`. False when there is no such session; ending an ended one changes nothing.
    pub fn end_session(&self, family: &str, reason: &str) -> Result<bool, Error> {
        let found = self.store.revoke_session(family, reason)?;
        self.notify_ended(super::SessionEnded::Session(family.to_owned()));
        Ok(found)
    }

    /// The account behind an access token's session: `Some` only when session `family` is live
    /// now (not ended, not expired), belongs to `username`, and that account still exists. The
    /// account is read fresh, so a demotion counts at once.
    pub fn live_session(
        &self,
        family: &str,
        username: &str,
    ) -> Result<Option<AdminAccount>, Error> {
        let session = self.store.session_family(family)?;
        let account = self.store.admin(username)?;
        let now = self.store.now();
        Ok(match (session, account) {
            (Some(s), Some(a)) if s.is_live(now) && s.username == a.username => Some(a),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn accounts() -> (testing::TestStore, Accounts) {
        let ts = testing::store();
        let accounts = Accounts::new(ts.store.clone());
        accounts
            .set_password("ann", "ann's password", None)
            .unwrap();
        accounts
            .set_password("bob", "bob's password", None)
            .unwrap();
        (ts, accounts)
    }

    #[test]
    fn refresh_tokens_are_stored_as_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(random_token().len(), 64);
        assert_ne!(random_token(), random_token());
    }

    #[test]
    fn a_started_session_is_live_for_its_owner_only() {
        let (ts, accounts) = accounts();
        let s = accounts.start_session("ann", Duration::days(1)).unwrap();
        assert!(ts.store.refresh_token(&s.refresh_token).unwrap().is_none());
        assert_eq!(
            accounts.session_of(&s.refresh_token).unwrap(),
            Some((s.family.clone(), "ann".to_owned()))
        );
        let a = accounts.live_session(&s.family, "ann").unwrap().unwrap();
        assert_eq!(a.username, "ann");
        assert!(accounts.live_session(&s.family, "bob").unwrap().is_none());
        assert!(accounts.live_session(&s.family, "carol").unwrap().is_none());
        assert!(accounts.live_session("no-such", "ann").unwrap().is_none());
        ts.clock.advance(Duration::days(1));
        assert!(accounts.live_session(&s.family, "ann").unwrap().is_none());
    }

    #[test]
    fn refreshing_rotates_once_and_a_replay_ends_the_session() {
        let (ts, accounts) = accounts();
        let s = accounts.start_session("ann", Duration::days(1)).unwrap();
        let Refresh::Rotated {
            account,
            family,
            refresh_token: next,
        } = accounts
            .refresh(&s.refresh_token, Duration::days(1))
            .unwrap()
        else {
            panic!("the first refresh rotates");
        };
        assert_eq!(
            (account.username.as_str(), family.as_str()),
            ("ann", s.family.as_str())
        );
        assert_ne!(next, s.refresh_token);
        // Past the two-tab grace, presenting the used token again is a replay.
        ts.clock.advance(rotation_grace() + Duration::seconds(1));
        match accounts
            .refresh(&s.refresh_token, Duration::days(1))
            .unwrap()
        {
            Refresh::Reused { family } => assert_eq!(family, s.family),
            _ => panic!("a replay is reported as reuse"),
        }
        assert!(matches!(
            accounts.refresh(&next, Duration::days(1)).unwrap(),
            Refresh::Invalid
        ));
        assert!(accounts.live_session(&s.family, "ann").unwrap().is_none());
        assert!(matches!(
            accounts.refresh("never issued", Duration::days(1)).unwrap(),
            Refresh::Invalid
        ));
    }

    #[test]
    fn ending_a_session_stops_it_and_its_tokens() {
        let (_ts, accounts) = accounts();
        let s = accounts.start_session("ann", Duration::days(1)).unwrap();
        let other = accounts.start_session("ann", Duration::days(1)).unwrap();
        assert!(accounts.end_session(&s.family, "logout").unwrap());
        assert!(accounts.end_session(&s.family, "logout").unwrap());
        assert!(!accounts.end_session("no-such", "logout").unwrap());
        assert!(accounts.live_session(&s.family, "ann").unwrap().is_none());
        assert!(matches!(
            accounts
                .refresh(&s.refresh_token, Duration::days(1))
                .unwrap(),
            Refresh::Invalid
        ));
        assert!(accounts
            .live_session(&other.family, "ann")
            .unwrap()
            .is_some());
    }
}
