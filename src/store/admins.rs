//! Dashboard accounts (not per guild). Only password hashes are stored, never passwords.

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{decode, encode, tables, Store, StoreError, Tables};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    /// Everything.
    Admin,
    /// Read only.
    Viewer,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminAccount {
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub role: AdminRole,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
}

impl std::fmt::Debug for AdminAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAccount")
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .finish()
    }
}

impl Store {
    pub fn admin(&self, username: &str) -> Result<Option<AdminAccount>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open(tables::ADMINS)?;
        let v = t.get(username)?;
        v.map(|v| decode("admins", v.value())).transpose()
    }

    pub fn admins(&self) -> Result<Vec<AdminAccount>, StoreError> {
        let tx = self.begin_read()?;
        let t = tx.open(tables::ADMINS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            out.push(decode("admins", row?.1.value())?);
        }
        Ok(out)
    }

    pub fn put_admin(&self, account: &AdminAccount) -> Result<(), StoreError> {
        self.write_global(|tx| {
            let mut t = tx.open_table(tables::ADMINS)?;
            t.insert(account.username.as_str(), encode(account)?.as_slice())?;
            Ok(())
        })
    }
}
