//! Passwords of dashboard accounts: argon2id hashing and the set-password rule shared by
//! `coffer admin set-password`, the `ADMIN_USERNAME`/`ADMIN_PASSWORD` bootstrap and the service.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;

use crate::domain::DomainError;
use crate::error::Error;
use crate::store::admins::{AdminAccount, AdminRole};
use crate::store::{Store, StoreError};

pub const MIN_PASSWORD_LEN: usize = 8;

/// 1 to 32 characters: ASCII letters, digits, `_`, `-` or `.`.
pub fn validate_username(username: &str) -> Result<(), DomainError> {
    let ok = (1..=32).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "username",
            "must be 1 to 32 characters: letters, digits, '_', '-' or '.'",
        ))
    }
}

/// An argon2id PHC string of `password` with a fresh salt; refuses passwords shorter than
/// `MIN_PASSWORD_LEN` characters.
pub fn hash_password(password: &str) -> Result<String, Error> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(DomainError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        )
        .into());
    }
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| {
            Error::Store(StoreError::Invariant(format!(
                "password hashing failed: {e}"
            )))
        })
}

/// Whether `password` matches the PHC string `hash`; a malformed hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates the account, or resets its password (keeping its role unless one is given) and ends
/// every open session of it: whoever knew the old password must not stay logged in.
pub fn set_password(
    store: &Store,
    username: &str,
    password: &str,
    role: Option<AdminRole>,
) -> Result<AdminAccount, Error> {
    validate_username(username)?;
    let hash = hash_password(password)?;
    let now = store.now();
    let existed = store.admin(username)?.is_some();
    let account = match store.admin(username)? {
        Some(mut existing) => {
            existing.password_hash = hash;
            existing.password_changed_at = now;
            if let Some(r) = role {
                existing.role = r;
            }
            existing
        }
        None => AdminAccount {
            username: username.to_owned(),
            password_hash: hash,
            role: role.unwrap_or(AdminRole::Admin),
            created_at: now,
            password_changed_at: now,
        },
    };
    store.put_admin(&account)?;
    if existed {
        let ended = store.revoke_sessions_of(username, "password reset")?;
        if ended > 0 {
            tracing::info!(
                username,
                sessions = ended,
                "password reset; the account's sessions were ended"
            );
        }
    }
    Ok(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_are_salted() {
        let a = hash_password("correct horse").unwrap();
        let b = hash_password("correct horse").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("$argon2id$"));
        assert!(verify_password(&a, "correct horse"));
        assert!(!verify_password(&a, "wrong horse"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn short_passwords_and_odd_usernames_are_refused() {
        assert!(hash_password("short").is_err());
        assert!(validate_username("ok_name-1.x").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("has space").is_err());
    }
}
