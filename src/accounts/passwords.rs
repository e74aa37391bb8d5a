//! Passwords of dashboard accounts: argon2id hashing and the set-password rule shared by
//! `coffer admin set-password`, the `ADMIN_USERNAME`/`ADMIN_PASSWORD` bootstrap and the service.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
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

/// The largest argon2 memory a stored hash may ask a check for (256 MiB, in 1 KiB blocks).
const MAX_VERIFY_BLOCKS: usize = 256 * 1024;

/// Whether `password` matches the PHC string `hash`; a malformed hash matches nothing. The
/// check's working memory (~19 MiB) is freed when it ends: the binary sets glibc to give
/// allocations that large back to the system at once (`tune_allocator` in main.rs), so a burst
/// of checks leaves nothing behind; at most `HASH_SLOTS` checks run at once. Compares in
/// constant time.
pub fn verify_password(hash: &str, password: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Some(expected) = parsed.hash else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        argon2::Algorithm::try_from(parsed.algorithm),
        argon2::Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from) {
        None => argon2::Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let mut salt_buf = [0u8; 64];
    let Some(Ok(salt)) = parsed.salt.map(|s| s.decode_b64(&mut salt_buf)) else {
        return false;
    };
    let blocks = params.block_count();
    if blocks > MAX_VERIFY_BLOCKS {
        return false;
    }
    let mut out = vec![0u8; expected.len()];
    let argon = Argon2::new(algorithm, version, params);
    let mut memory = vec![argon2::Block::default(); blocks];
    let computed =
        argon.hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory);
    computed.is_ok() && constant_time_eq(&out, expected.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
