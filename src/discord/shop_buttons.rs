//! The shop's persistent buttons. A custom id carries guild-independent data only
//! (`shop:buy:<item id>`); the guild always comes from the interaction, so a forged or stale id
//! can at most name an item of the clicker's own guild, and the shop service refuses the rest.

use super::components::{ComponentCtx, ComponentReply, ComponentRoute};
use super::reply::Reply;
use super::{render, BotError};
use crate::domain::DomainError;
use crate::error::Error;
use crate::services::blocking;

/// The route prefix of every shop button.
pub const PREFIX: &str = "shop";

/// What a shop button asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShopButton {
    /// Buy one unit of the item with this id.
    Buy(u64),
}

impl ShopButton {
    /// The full custom id (`shop:buy:42`).
    pub fn custom_id(self) -> String {
        match self {
            ShopButton::Buy(id) => format!("{PREFIX}:buy:{id}"),
        }
    }

    /// Reads the part after `shop:` (`buy:42`); anything else is `None`.
    pub fn parse(arg: &str) -> Option<ShopButton> {
        let (action, rest) = arg.split_once(':')?;
        match action {
            // Only plain digits: `u64::from_str` would also accept a leading `+`.
            "buy" if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) => {
                rest.parse().ok().map(ShopButton::Buy)
            }
            _ => None,
        }
    }
}

/// The shop's component routes.
pub fn route() -> ComponentRoute {
    ComponentRoute {
        prefix: PREFIX,
        handler: |ctx| Box::pin(handle(ctx)),
        updates_message: false,
    }
}

const STALE: &str = "This button is no longer active.";

async fn handle(ctx: ComponentCtx<'_>) -> Result<ComponentReply, BotError> {
    let Some(ShopButton::Buy(item)) = ShopButton::parse(ctx.arg) else {
        return Err(DomainError::Refused(STALE.into()).into());
    };
    let Some(guild) = ctx.guild else {
        return Err(DomainError::Refused("The shop works only in a server.".into()).into());
    };
    let (user, meta) = (ctx.user, ctx.op_meta());
    let s = ctx.data.services()?;
    let s2 = s.clone();
    let (out, cfg) = blocking(move || {
        let out = match s.shop.purchase(guild, user, item, 1, &meta) {
            // Another guild's id, a deleted item, or a made-up number: all look alike.
            Err(Error::Domain(DomainError::NotFound(_))) => {
                return Err(DomainError::Refused(super::commands::shop::GONE.into()).into())
            }
            other => other?,
        };
        Ok((out, s.guilds.config(guild)?))
    })
    .await?;
    let grant = settled_grant(&s2, guild, &out).await?;
    let reply = render::purchase(&cfg, &out, grant.as_ref());
    Ok(ComponentReply::Message(Reply {
        ephemeral: true,
        ..reply
    }))
}

/// The purchase's role grant once the sync worker has tried it (or after a few seconds, still
/// pending), so the reply says what really happened. The interaction is deferred meanwhile.
pub async fn settled_grant(
    s: &crate::services::Services,
    guild: crate::domain::GuildId,
    out: &crate::shop::PurchaseOutcome,
) -> Result<Option<crate::guild::RoleGrant>, Error> {
    let Some(id) = out.role_grant else {
        return Ok(None);
    };
    let kinds = [crate::events::EventKind::RoleGrantRecorded];
    s.settle(guild, &kinds, SETTLE_WITHIN, move |s| {
        let grant = s.guilds.role_grant(guild, id)?;
        let settled = grant
            .as_ref()
            .is_none_or(|g| g.state != crate::guild::GrantState::Pending);
        Ok((settled, grant))
    })
    .await
}

/// How long a reply waits for the sync worker before saying the work is still under way.
pub const SETTLE_WITHIN: std::time::Duration = std::time::Duration::from_secs(4);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::components::split_custom_id;

    #[test]
    fn a_buy_custom_id_round_trips_through_the_router_split() {
        let id = ShopButton::Buy(42).custom_id();
        assert_eq!(id, "shop:buy:42");
        let (prefix, arg) = split_custom_id(&id);
        assert_eq!(prefix, PREFIX);
        assert_eq!(ShopButton::parse(arg), Some(ShopButton::Buy(42)));
        assert!(ShopButton::Buy(u64::MAX).custom_id().len() <= 100);
    }

    #[test]
    fn malformed_or_unknown_custom_ids_are_refused() {
        for bad in [
            "",
            "buy",
            "buy:",
            "buy:x",
            "buy:-1",
            "buy:+4",
            "buy:4:5",
            "buy: 4",
            "sell:4",
            "buy:99999999999999999999",
        ] {
            assert_eq!(ShopButton::parse(bad), None, "{bad:?}");
        }
    }
}
