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
pub use sessions::{hex, random_token, token_hash, NewSession, Refresh};

/// The accounts service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Accounts {
    store: Store,
}

/// A fixed hash to verify against when the username is unknown, so the answer takes as long.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| hash_password("coffer-dummy-password").unwrap_or_default())
}

impl Accounts {
    pub fn new(store: Store) -> Accounts {
        Accounts { store }
    }

    /// The account named `username` (exact match), if there is one.
    pub fn account(&self, username: &str) -> Result<Option<AdminAccount>, Error> {
        Ok(self.store.admin(username)?)
    }

    /// Every dashboard account, in username order.
    pub fn list(&self) -> Result<Vec<AdminAccount>, Error> {
        Ok(self.store.admins()?)
    }

    /// Creates the account, or resets its password (keeping its role unless one is given); see
    /// `set_password`. Sessions already open stay open.
    pub fn set_password(
        &self,
        username: &str,
        password: &str,
        role: Option<AdminRole>,
    ) -> Result<AdminAccount, Error> {
        set_password(&self.store, username, password, role)
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
}
