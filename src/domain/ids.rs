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

/// Accepts `123` or `"123"`: exports of the old bot and hand-written scripts use both.
pub fn deserialize_u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        N(u64),
        S(String),
    }
    match Raw::deserialize(d)? {
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
}
