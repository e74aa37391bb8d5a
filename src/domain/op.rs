//! Who asks for an operation, through which door, and under which idempotency key. A key is
//! explicit: the door builds it (a Discord interaction id, an HTTP `Idempotency-Key` header) with
//! a fingerprint of the request's canonical input, and it travels in `OpMeta` into the one write
//! transaction that records it (`Store::write_once`).

use serde::{Deserialize, Serialize};

use super::{Actor, DomainError, Source, UserId};

/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 200;

/// How long a key's record is kept: a repeat within this window replays the first answer;
/// older records are pruned (after that the key is free again).
pub const KEEP_KEYS_HOURS: i64 = 24;

/// An idempotency key and the fingerprint of the input it was first sent with. The same key
/// with the same fingerprint replays the first answer; with another fingerprint it is refused
/// (`DomainError::IdempotencyKeyReused`) and nothing changes. Keys are per guild.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdemKey {
    key: String,
    fingerprint: String,
}

impl IdemKey {
    /// A key of 1 to `MAX_KEY_LEN` bytes; `fingerprint` is opaque to the store (a hash of the
    /// request, or a short description of a Discord interaction's input).
    pub fn new(
        key: impl Into<String>,
        fingerprint: impl Into<String>,
    ) -> Result<Self, DomainError> {
        let key = key.into();
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(DomainError::invalid(
                "idempotency_key",
                format!("must be 1 to {MAX_KEY_LEN} characters"),
            ));
        }
        Ok(IdemKey {
            key,
            fingerprint: fingerprint.into(),
        })
    }

    /// The key of a Discord interaction (its id is unique, and Discord redelivers the same
    /// interaction with the same input); `input` names what was asked (command and options, or
    /// a component's custom id).
    pub fn interaction(id: u64, input: impl Into<String>) -> Self {
        IdemKey {
            key: format!("interaction:{id}"),
            fingerprint: input.into(),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// The same key with another fingerprint (a door folding more of the request in).
    pub fn with_fingerprint(self, fingerprint: impl Into<String>) -> Self {
        IdemKey {
            fingerprint: fingerprint.into(),
            ..self
        }
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// Who asks, through which door, and the optional idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpMeta {
    pub actor: Actor,
    pub source: Source,
    pub idempotency_key: Option<IdemKey>,
}

impl OpMeta {
    pub fn new(actor: Actor, source: Source) -> OpMeta {
        OpMeta {
            actor,
            source,
            idempotency_key: None,
        }
    }

    pub fn user(user: UserId, source: Source) -> OpMeta {
        OpMeta::new(Actor::User(user), source)
    }

    pub fn system() -> OpMeta {
        OpMeta::new(Actor::System, Source::System)
    }

    pub fn with_key(mut self, key: IdemKey) -> OpMeta {
        self.idempotency_key = Some(key);
        self
    }

    /// The key, if any (what `Store::write_once` takes).
    pub fn key(&self) -> Option<&IdemKey> {
        self.idempotency_key.as_ref()
    }
}

/// An actor's operation with no idempotency key, through the door its kind implies.
impl From<Actor> for OpMeta {
    fn from(actor: Actor) -> Self {
        let source = match &actor {
            Actor::System => Source::System,
            Actor::User(_) => Source::DiscordCommand,
            Actor::Dashboard(_) => Source::Dashboard,
            Actor::Cli => Source::Cli,
        };
        OpMeta::new(actor, source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_in_length() {
        assert!(IdemKey::new("", "f").is_err());
        assert!(IdemKey::new("k".repeat(MAX_KEY_LEN + 1), "f").is_err());
        let k = IdemKey::new("k".repeat(MAX_KEY_LEN), "f").unwrap();
        assert_eq!(k.key().len(), MAX_KEY_LEN);
    }

    #[test]
    fn an_interaction_key_names_the_interaction() {
        let k = IdemKey::interaction(42, "component:task:claim:1");
        assert_eq!(k.key(), "interaction:42");
        assert_eq!(k.fingerprint(), "component:task:claim:1");
    }
}
