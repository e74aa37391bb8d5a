//! Our own id newtypes. Serenity's ids never travel past `discord/`; these do.
//! They serialize as strings in JSON (Discord snowflakes overflow JavaScript numbers), and the
//! OpenAPI document says so (`type: string`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! snowflake {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, utoipa::ToSchema)]
        #[schema(value_type = String, example = "123456789012345678")]
        pub struct $name(pub u64);

        impl $name {
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse::<u64>().map($name)
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                $name(v)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                deserialize_u64_or_string(d).map($name)
            }
        }
    };
}

snowflake!(
    /// A Discord server.
    GuildId
);
snowflake!(
    /// A Discord user.
    UserId
);
snowflake!(
    /// A Discord channel.
    ChannelId
);
snowflake!(
    /// A Discord role.
    RoleId
);
snowflake!(
    /// A Discord message.
    MessageId
);

thread_local! {
    static STRICT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` (a synchronous parse) with ids read strictly, as the API document declares them: a
/// string of 1 to 19 digits with no leading zero, nothing else (no number, no padding, no `0`).
/// The web door parses request bodies this way; stored rows and imports keep the lenient form.
pub fn strictly<T>(f: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            STRICT.with(|s| s.set(self.0));
        }
    }
    let _reset = Reset(STRICT.with(|s| s.replace(true)));
    f()
}

/// Whether `s` is an id as the API writes one: 1 to 19 digits, no leading zero.
pub fn is_strict_id(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=19).contains(&b.len()) && b[0] != b'0' && b.iter().all(u8::is_ascii_digit)
}

/// Accepts `123` or `"123"`: exports of the old bot and hand-written scripts use both (inside
/// `strictly`, only the API's string form).
pub fn deserialize_u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(u64),
        S(String),
    }
    let raw = Raw::deserialize(d)?;
    if STRICT.with(|s| s.get()) {
        return match raw {
            Raw::S(s) if is_strict_id(&s) => s
                .parse::<u64>()
                .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a valid id"))),
            Raw::S(s) => Err(serde::de::Error::custom(format!(
                "`{s}` is not an id (a string of 1 to 19 digits, no leading zero)"
            ))),
            Raw::N(n) => Err(serde::de::Error::custom(format!(
                "{n} is not an id: write ids as strings (\"{n}\")"
            ))),
        };
    }
    match raw {
        Raw::N(n) => Ok(n),
        Raw::S(s) => s
            .trim()
            .parse::<u64>()
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a valid id"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_serialize_as_strings_and_read_both_forms() {
        let g = GuildId(959947059480379463);
        assert_eq!(serde_json::to_string(&g).unwrap(), "\"959947059480379463\"");
        let a: GuildId = serde_json::from_str("\"959947059480379463\"").unwrap();
        let b: GuildId = serde_json::from_str("959947059480379463").unwrap();
        assert_eq!(a, g);
        assert_eq!(b, g);
        assert!(serde_json::from_str::<GuildId>("\"abc\"").is_err());
        assert!(serde_json::from_str::<GuildId>("-1").is_err());
    }

    #[test]
    fn strictly_ids_are_only_strings_of_digits_without_a_leading_zero() {
        let parse = |j: &str| strictly(|| serde_json::from_str::<RoleId>(j));
        assert_eq!(parse("\"42\"").unwrap(), RoleId(42));
        for bad in [
            "42",
            "\"0\"",
            "\" 42\"",
            "\"042\"",
            "\"\"",
            "\"12345678901234567890\"",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        // Outside `strictly`, both forms still read (stored rows, imports).
        assert_eq!(serde_json::from_str::<RoleId>("42").unwrap(), RoleId(42));
    }
}
