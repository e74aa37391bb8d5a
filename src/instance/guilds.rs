//! The servers an instance holds: which there are, a summary of each for the dashboard's server
//! list, and the defaults a new server starts with. Read-only.

use super::Instance;
use crate::domain::{GuildConfig, GuildId};
use crate::error::Error;
use crate::store::guilds::GuildInfo;

/// A server with stored state, as the dashboard's server list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuildSummary {
    pub id: GuildId,
    /// What Discord told us; all empty until it has.
    pub info: GuildInfo,
    /// Accounts held in the server, active or not.
    pub accounts: u64,
}

impl Instance {
    /// Every server with any stored state (info, settings or accounts), in id order.
    pub fn guild_ids(&self) -> Result<Vec<GuildId>, Error> {
        Ok(self.store.guild_ids()?)
    }

    /// How many servers `guild_ids` lists.
    pub fn guild_count(&self) -> Result<u64, Error> {
        Ok(self.guild_ids()?.len() as u64)
    }

    /// A summary of every server in `guild_ids`, in id order; each read in one snapshot.
    pub fn guilds(&self) -> Result<Vec<GuildSummary>, Error> {
        let mut out = Vec::new();
        for id in self.guild_ids()? {
            let (info, accounts) = self.store.read(id, |r| {
                Ok::<_, Error>((r.guild_info()?, r.accounts()?.len() as u64))
            })?;
            out.push(GuildSummary {
                id,
                info: info.unwrap_or_default(),
                accounts,
            });
        }
        Ok(out)
    }

    /// The settings a server starts with (from the config file), until an admin changes them.
    pub fn guild_defaults(&self) -> &GuildConfig {
        self.store.defaults()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
    use crate::guild::{GuildProfile, Guilds};
    use crate::testing;

    #[test]
    fn every_server_is_listed_with_its_info_and_account_count() {
        let ts = testing::store();
        let inst = Instance::new(ts.store.clone());
        assert!(inst.guilds().unwrap().is_empty());
        for u in [1, 2] {
            ts.store
                .write(GuildId(20), |w| w.ensure_account(UserId(u)))
                .unwrap();
        }
        Guilds::new(ts.store.clone())
            .upsert_info(
                GuildId(10),
                GuildProfile {
                    name: "Ten".into(),
                    member_count: 4,
                    ..Default::default()
                },
            )
            .unwrap();
        let list = inst.guilds().unwrap();
        let rows: Vec<_> = list
            .iter()
            .map(|g| (g.id, g.info.name.as_str(), g.accounts))
            .collect();
        assert_eq!(rows, [(GuildId(10), "Ten", 0), (GuildId(20), "", 2)]);
        assert_eq!(inst.guild_count().unwrap(), 2);
        assert_eq!(inst.guild_ids().unwrap(), [GuildId(10), GuildId(20)]);
        assert_eq!(inst.guild_defaults(), ts.store.defaults());
    }
}
