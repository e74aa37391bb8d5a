//! Which roles can be a reward (shop items, tasks): checked when the item or task is created or
//! edited, so an admin hears about an impossible reward at once instead of members finding out
//! later. Uses what Discord told us about the server's roles; when nothing is known yet (no
//! Discord connection), only the @everyone rule applies.

use crate::domain::{DomainError, RoleId};
use crate::store::{StoreError, Tables, View};

/// Refuses a reward role nobody could give: @everyone (its id is the server's), a role managed
/// by an integration, a role this server does not have, or one at or above Coffer's highest
/// role (Discord lets a bot grant only roles below its own).
pub fn check_role_reward<T: Tables>(v: &View<'_, T>, role: RoleId) -> Result<(), StoreError> {
    let refuse = |why: String| StoreError::Refused(DomainError::invalid("role_id", why));
    if role.get() == v.guild().get() {
        return Err(refuse(
            "@everyone can't be a reward: every member has it already".into(),
        ));
    }
    let roles = v.roles()?;
    if roles.is_empty() {
        return Ok(());
    }
    let Some(info) = roles.iter().find(|r| r.id == role) else {
        return Err(refuse(format!("role {role} is not a role of this server")));
    };
    if info.managed {
        return Err(refuse(format!(
            "the role \"{}\" is managed by an integration (a bot or boosts), so nobody can give it",
            info.name
        )));
    }
    let bot_top = v.guild_info()?.and_then(|i| i.bot_top_role);
    if let Some(top) = bot_top {
        if info.position >= top {
            return Err(refuse(format!(
                "the role \"{}\" is not below Coffer's highest role, so Coffer can't give it; \
                 move Coffer's role above it in Server Settings > Roles",
                info.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::domain::shop::ItemInput;
    use crate::domain::tasks::NewTask;
    use crate::domain::{Actor, DomainError, GuildId, RoleId};
    use crate::guild::RoleInfo;
    use crate::services::Services;
    use crate::testing;

    const G: GuildId = GuildId(40);

    fn role(id: u64, name: &str, position: i64, managed: bool) -> RoleInfo {
        RoleInfo {
            id: RoleId(id),
            name: name.into(),
            position,
            color: 0,
            managed,
        }
    }

    fn item(s: &Services, name: &str, role: u64) -> Result<(), crate::Error> {
        let input: ItemInput = serde_json::from_value(serde_json::json!({
            "name": name, "price": 5, "role_id": role.to_string()
        }))
        .expect("valid input");
        s.shop
            .create_item(G, input, &Actor::System.into())
            .map(|_| ())
    }

    fn refusal(r: Result<(), crate::Error>) -> String {
        match r {
            Err(crate::Error::Domain(DomainError::Invalid { field, message })) => {
                assert_eq!(field, "role_id");
                message
            }
            other => panic!("expected a role_id refusal, got {other:?}"),
        }
    }

    #[test]
    fn impossible_reward_roles_are_refused_with_the_reason() {
        let (_ts, s) = testing::services();
        // Nothing known about the server yet: only @everyone is refused.
        assert!(refusal(item(&s, "Everyone", G.get())).contains("@everyone"));
        item(&s, "Anything", 77).unwrap();
        s.guilds
            .replace_roles(
                G,
                &[
                    role(G.get(), "@everyone", 0, false),
                    role(1, "VIP", 2, false),
                    role(2, "Booster", 1, true),
                    role(3, "Admin", 9, false),
                ],
            )
            .unwrap();
        s.guilds.set_bot_top_role(G, Some(5)).unwrap();
        assert!(refusal(item(&s, "Boost", 2)).contains("managed"));
        assert!(refusal(item(&s, "Ghost", 99)).contains("not a role of this server"));
        let above = refusal(item(&s, "Crown", 3));
        assert!(
            above.contains("\"Admin\"") && above.contains("highest role"),
            "{above}"
        );
        item(&s, "VIP pass", 1).unwrap();
        // Tasks follow the same rule, on create and on edit.
        let task = |role: u64| NewTask {
            name: format!("Task for {role}"),
            reward: 10,
            role_id: Some(RoleId(role)),
            ..NewTask::default()
        };
        assert!(s.tasks.create(G, task(3), &Actor::System.into()).is_err());
        let t = s.tasks.create(G, task(1), &Actor::System.into()).unwrap();
        let patch: crate::domain::tasks::TaskPatch =
            serde_json::from_value(serde_json::json!({"role_id": "2"})).unwrap();
        assert!(s
            .tasks
            .edit(G, t.id, &patch, &Actor::System.into())
            .is_err());
    }
}
