//! Per-guild settings. Field names follow the old bot's server configuration where they overlap
//! (`currency_name`, `admin_roles`, `task_channel_id`, ...) so existing scripts keep working.

use serde::{Deserialize, Serialize};

use super::error::DomainError;
use super::ids::{ChannelId, RoleId};
use super::money::MAX_AMOUNT;

/// When `/daily` becomes available again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DailyReset {
    /// `daily_cooldown_hours` after the last claim.
    #[default]
    Rolling,
    /// Once per UTC calendar day; the next claim opens at 00:00 UTC.
    UtcMidnight,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Features {
    pub currency: bool,
    pub shop: bool,
    pub tasks: bool,
    pub announcements: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            currency: true,
            shop: true,
            tasks: true,
            announcements: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct GuildConfig {
    pub currency_name: String,
    pub currency_symbol: String,
    pub daily_amount: i64,
    pub daily_cooldown_hours: u32,
    pub daily_reset: DailyReset,
    pub starting_balance: i64,
    /// Largest single `/give`; `None` = no limit beyond the global maximum.
    pub max_transfer: Option<i64>,
    /// Most a member may send in 24 hours; `None` = no limit.
    pub max_transfer_per_day: Option<i64>,
    /// Accounts younger than this cannot send money (an anti-alt rule); 0 = off.
    pub min_account_age_hours: u32,
    /// Percent of each transfer burned, paid by the sender on top of the amount.
    pub transfer_tax_percent: u32,
    /// Balance-changing user operations per minute per member; 0 = no limit.
    pub rate_limit_per_minute: u32,
    pub admin_roles: Vec<RoleId>,
    pub moderator_roles: Vec<RoleId>,
    pub log_channel: Option<ChannelId>,
    pub welcome_channel: Option<ChannelId>,
    pub task_channel_id: Option<ChannelId>,
    pub shop_channel_id: Option<ChannelId>,
    pub announcement_channel_id: Option<ChannelId>,
    pub features: Features,
    pub allow_user_tasks: bool,
    pub max_tasks_per_user: u32,
    pub require_proof: bool,
    pub auto_expire_enabled: bool,
}

impl Default for GuildConfig {
    fn default() -> Self {
        GuildConfig {
            currency_name: "coins".into(),
            currency_symbol: "🪙".into(),
            daily_amount: 100,
            daily_cooldown_hours: 24,
            daily_reset: DailyReset::Rolling,
            starting_balance: 0,
            max_transfer: None,
            max_transfer_per_day: None,
            min_account_age_hours: 0,
            transfer_tax_percent: 0,
            rate_limit_per_minute: 5,
            admin_roles: Vec::new(),
            moderator_roles: Vec::new(),
            log_channel: None,
            welcome_channel: None,
            task_channel_id: None,
            shop_channel_id: None,
            announcement_channel_id: None,
            features: Features::default(),
            allow_user_tasks: true,
            max_tasks_per_user: 10,
            require_proof: true,
            auto_expire_enabled: true,
        }
    }
}

/// The longest currency name.
pub const MAX_CURRENCY_NAME_CHARS: usize = 32;
/// The longest currency symbol.
pub const MAX_CURRENCY_SYMBOL_CHARS: usize = 8;
/// The longest daily cooldown: 31 days.
pub const MAX_COOLDOWN_HOURS: u32 = 24 * 31;
/// The oldest a minimum account age may be: one year.
pub const MAX_ACCOUNT_AGE_HOURS: u32 = 24 * 365;
/// The highest per-member rate limit.
pub const MAX_RATE_LIMIT_PER_MINUTE: u32 = 10_000;
/// The most open tasks a member may hold.
pub const MAX_TASKS_PER_USER: u32 = 1000;

impl GuildConfig {
    /// Checks every value; the error names the field.
    pub fn validate(&self) -> Result<(), DomainError> {
        let name_len = self.currency_name.chars().count();
        if !(1..=MAX_CURRENCY_NAME_CHARS).contains(&name_len)
            || self.currency_name.trim().is_empty()
        {
            return Err(DomainError::invalid(
                "currency_name",
                format!("must be 1 to {MAX_CURRENCY_NAME_CHARS} characters"),
            ));
        }
        super::text::check_name("currency_name", &self.currency_name)?;
        let sym_len = self.currency_symbol.chars().count();
        if !(1..=MAX_CURRENCY_SYMBOL_CHARS).contains(&sym_len)
            || self.currency_symbol.trim().is_empty()
        {
            return Err(DomainError::invalid(
                "currency_symbol",
                format!("must be 1 to {MAX_CURRENCY_SYMBOL_CHARS} characters"),
            ));
        }
        super::text::check_name("currency_symbol", &self.currency_symbol)?;
        if !(0..=MAX_AMOUNT).contains(&self.daily_amount) {
            return Err(DomainError::invalid(
                "daily_amount",
                format!("must be between 0 and {MAX_AMOUNT}"),
            ));
        }
        if !(1..=MAX_COOLDOWN_HOURS).contains(&self.daily_cooldown_hours) {
            return Err(DomainError::invalid(
                "daily_cooldown_hours",
                format!("must be between 1 and {MAX_COOLDOWN_HOURS} hours"),
            ));
        }
        if !(0..=MAX_AMOUNT).contains(&self.starting_balance) {
            return Err(DomainError::invalid(
                "starting_balance",
                format!("must be between 0 and {MAX_AMOUNT}"),
            ));
        }
        for (field, v) in [
            ("max_transfer", self.max_transfer),
            ("max_transfer_per_day", self.max_transfer_per_day),
        ] {
            if let Some(v) = v {
                if !(1..=MAX_AMOUNT).contains(&v) {
                    return Err(DomainError::invalid(
                        field,
                        format!("must be between 1 and {MAX_AMOUNT}, or null for no limit"),
                    ));
                }
            }
        }
        if self.min_account_age_hours > MAX_ACCOUNT_AGE_HOURS {
            return Err(DomainError::invalid(
                "min_account_age_hours",
                format!("must be at most {MAX_ACCOUNT_AGE_HOURS}"),
            ));
        }
        if self.transfer_tax_percent > 100 {
            return Err(DomainError::invalid(
                "transfer_tax_percent",
                "must be between 0 and 100",
            ));
        }
        if self.rate_limit_per_minute > MAX_RATE_LIMIT_PER_MINUTE {
            return Err(DomainError::invalid(
                "rate_limit_per_minute",
                format!("must be between 0 (no limit) and {MAX_RATE_LIMIT_PER_MINUTE}"),
            ));
        }
        if !(1..=MAX_TASKS_PER_USER).contains(&self.max_tasks_per_user) {
            return Err(DomainError::invalid(
                "max_tasks_per_user",
                format!("must be between 1 and {MAX_TASKS_PER_USER}"),
            ));
        }
        Ok(())
    }

    /// "120 coins" style, used in replies.
    pub fn fmt_amount(&self, amount: i64) -> String {
        format!(
            "{} {} {}",
            self.currency_symbol,
            super::money::group_thousands(amount),
            self.currency_name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        GuildConfig::default().validate().unwrap();
    }

    #[test]
    fn validation_names_the_bad_field() {
        let mut c = GuildConfig {
            transfer_tax_percent: 101,
            ..GuildConfig::default()
        };
        let err = c.validate().unwrap_err();
        assert!(
            err.to_string().starts_with("transfer_tax_percent:"),
            "{err}"
        );
        c.transfer_tax_percent = 0;
        c.daily_cooldown_hours = 0;
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("daily_cooldown_hours"));
        c.daily_cooldown_hours = 24;
        c.currency_name = String::new();
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("currency_name"));
        c.currency_name = "gems".into();
        c.max_transfer = Some(0);
        assert!(c
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("max_transfer"));
    }

    #[test]
    fn unknown_fields_are_refused_when_deserializing() {
        let err = serde_json::from_str::<GuildConfig>(r#"{"currency_nam": "x"}"#).unwrap_err();
        assert!(err.to_string().contains("currency_nam"), "{err}");
        let ok: GuildConfig = serde_json::from_str(r#"{"currency_name": "gems"}"#).unwrap();
        assert_eq!(ok.currency_name, "gems");
        assert_eq!(ok.daily_amount, 100);
    }
}
