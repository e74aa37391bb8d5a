//! The accounts service: dashboard accounts (argon2id password hashes and a role) and their login
//! sessions (rotating refresh tokens, stored only as SHA-256). The web door's login and `Auth`
//! extractor call it; it knows nothing of HTTP, cookies or JWTs.

mod passwords;
mod sessions;

use std::sync::OnceLock;

use crate::error::Error;
use crate::store::Store;

pub use crate::store::admins::{AdminAccount, AdminRole};
pub use passwords::{
    hash_password, set_password, validate_username, verify_password, MIN_PASSWORD_LEN,
};
pub use sessions::{hex, random_token, rotation_grace, token_hash, NewSession, Refresh};

/// The accounts service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Accounts {
    store: Store,
    ended: tokio::sync::broadcast::Sender<SessionEnded>,
}

/// A notice that sessions ended in this process (logout, a replayed refresh token, a password
/// reset), so live streams can close at once. Sessions ended elsewhere (the CLI) are found by
/// re-checking `live_session`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnded {
    Session(String),
    AllOf(String),
}

impl SessionEnded {
    /// Whether this notice ends session `family` of `username`.
    pub fn ends(&self, family: &str, username: &str) -> bool {
        match self {
            SessionEnded::Session(f) => f == family,
            SessionEnded::AllOf(u) => u == username,
        }
    }
}

/// A fixed hash to verify against when the username is unknown, so the answer takes as long.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("coffer-dummy-password").unwrap_or_default())
}

impl Accounts {
    pub fn new(store: Store) -> Accounts {
        Accounts {
            store,
            ended: tokio::sync::broadcast::channel(64).0,
        }
    }

    /// Notices of sessions ending from now on.
    pub fn watch_ended(&self) -> tokio::sync::broadcast::Receiver<SessionEnded> {
        self.ended.subscribe()
    }

    fn notify_ended(&self, e: SessionEnded) {
        // No receiver (no open stream) is fine.
        let _ = self.ended.send(e);
    }

    /// The account named `username` (exact match), if there is one.
    pub fn account(&self, username: &str) -> Result<Option<AdminAccount>, Error> {
        Ok(self.store.admin(username)?)
    }

    /// Every dashboard account, in username order.
    pub fn list(&self) -> Result<Vec<AdminAccount>, Error> {
        Ok(self.store.admins()?)
    }

    /// Creates the account, or resets its password (keeping its role unless one is given) and
    /// ends its open sessions; see `set_password`.
    pub fn set_password(
        &self,
        username: &str,
        password: &str,
        role: Option<AdminRole>,
    ) -> Result<AdminAccount, Error> {
        let account = set_password(&self.store, username, password, role)?;
        self.notify_ended(SessionEnded::AllOf(account.username.clone()));
        Ok(account)
    }

    /// The account when `password` is its password; `None` for a wrong password or an unknown
    /// username (verified against a dummy hash then, so both answers take about as long). Does
    /// no throttling: that is the caller's.
    pub fn verify_login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<AdminAccount>, Error> {
        let account = self.store.admin(username)?;
        let hash = account
            .as_ref()
            .map_or(dummy_hash(), |a| a.password_hash.as_str());
        let ok = verify_password(hash, password);
        Ok(account.filter(|_| ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    #[test]
    fn a_login_needs_the_right_password_of_a_known_account() {
        let ts = testing::store();
        let accounts = Accounts::new(ts.store.clone());
        accounts
            .set_password("ann", "correct horse", Some(AdminRole::Viewer))
            .unwrap();
        let a = accounts
            .verify_login("ann", "correct horse")
            .unwrap()
            .unwrap();
        assert_eq!((a.username.as_str(), a.role), ("ann", AdminRole::Viewer));
        assert!(accounts
            .verify_login("ann", "wrong horse")
            .unwrap()
            .is_none());
        assert!(accounts
            .verify_login("bob", "correct horse")
            .unwrap()
            .is_none());
        assert!(accounts
            .verify_login("ANN", "correct horse")
            .unwrap()
            .is_none());
    }

    #[test]
    fn resetting_a_password_keeps_the_role_unless_one_is_given() {
        let ts = testing::store();
        let accounts = Accounts::new(ts.store.clone());
        accounts
            .set_password("ann", "first password", Some(AdminRole::Viewer))
            .unwrap();
        accounts
            .set_password("ann", "second password", None)
            .unwrap();
        let a = accounts.account("ann").unwrap().unwrap();
        assert_eq!(a.role, AdminRole::Viewer);
        assert!(accounts
            .verify_login("ann", "first password")
            .unwrap()
            .is_none());
        assert!(accounts
            .verify_login("ann", "second password")
            .unwrap()
            .is_some());
        accounts
            .set_password("bob", "bob's password", None)
            .unwrap();
        let names: Vec<String> = accounts
            .list()
            .unwrap()
            .into_iter()
            .map(|a| a.username)
            .collect();
        assert_eq!(names, ["ann", "bob"]);
        assert!(accounts.account("carol").unwrap().is_none());
    }

    /// Issue 10 point 4: a password reset left old sessions alive.
    #[test]
    fn a_password_reset_ends_every_session_of_that_account_only() {
        let ts = testing::store();
        let accounts = Accounts::new(ts.store.clone());
        accounts
            .set_password("ann", "first password", None)
            .unwrap();
        accounts
            .set_password("bob", "bob's password", None)
            .unwrap();
        let ttl = chrono::Duration::days(1);
        let (a1, a2) = (
            accounts.start_session("ann", ttl).unwrap(),
            accounts.start_session("ann", ttl).unwrap(),
        );
        let b = accounts.start_session("bob", ttl).unwrap();
        accounts
            .set_password("ann", "second password", None)
            .unwrap();
        assert!(accounts.live_session(&a1.family, "ann").unwrap().is_none());
        assert!(accounts.live_session(&a2.family, "ann").unwrap().is_none());
        assert!(accounts.live_session(&b.family, "bob").unwrap().is_some());
        assert!(matches!(
            accounts.refresh(&a1.refresh_token, ttl).unwrap(),
            Refresh::Invalid
        ));
    }
}
