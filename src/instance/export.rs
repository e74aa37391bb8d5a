//! The whole-instance export: one JSON document, written one server at a time so memory is
//! bounded by the largest server, not the instance. (The ledger has its own per-server export.)

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Instance;
use crate::domain::custom_command::CustomCommand;
use crate::domain::shop::Item;
use crate::domain::tasks::Task;
use crate::domain::{Account, GuildConfig, GuildId};
use crate::error::Error;
use crate::store::guilds::GuildInfo;

/// One server's part of the export.
#[derive(Debug, Clone, Serialize)]
pub struct GuildExport {
    /// The server id, as a string (JavaScript loses precision on ids as numbers).
    pub id: String,
    pub info: Option<GuildInfo>,
    pub config: GuildConfig,
    pub accounts: Vec<Account>,
    pub items: Vec<Item>,
    pub tasks: Vec<Task>,
    pub custom_commands: Vec<CustomCommand>,
}

impl Instance {
    /// One server's export, read in one snapshot.
    pub fn export_guild(&self, guild: GuildId) -> Result<GuildExport, Error> {
        self.store.read(guild, |r| {
            Ok(GuildExport {
                id: guild.to_string(),
                info: r.guild_info()?,
                config: r.guild_config()?,
                accounts: r.accounts()?,
                items: r.shop_items()?,
                tasks: r.tasks()?,
                custom_commands: r.custom_commands()?,
            })
        })
    }

    /// Writes `{version, exported_at, guilds: [GuildExport, ..]}` to `out`, servers in id order,
    /// one read each. A store failure becomes an `io::Error` carrying its message; whatever was
    /// written before it stays written (the caller streams, so it cannot take it back).
    pub fn write_export(
        &self,
        exported_at: DateTime<Utc>,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let io = |e: Error| std::io::Error::other(e.to_string());
        write!(
            out,
            "{{\"version\":{},\"exported_at\":{},\"guilds\":[",
            serde_json::json!(env!("CARGO_PKG_VERSION")),
            serde_json::json!(exported_at)
        )?;
        for (i, g) in self.guild_ids().map_err(io)?.into_iter().enumerate() {
            let doc = self.export_guild(g).map_err(io)?;
            if i > 0 {
                out.write_all(b",\n")?;
            }
            serde_json::to_writer(&mut *out, &doc)?;
        }
        out.write_all(b"]}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::UserId;
    use crate::testing;

    #[test]
    fn the_export_is_one_json_document_with_every_server() {
        let ts = testing::store();
        let inst = Instance::new(ts.store.clone());
        let mut empty = Vec::new();
        inst.write_export(ts.store.now(), &mut empty).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(doc["guilds"], serde_json::json!([]));
        assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
        for g in [7, 3] {
            ts.store
                .write(GuildId(g), |w| w.ensure_account(UserId(g)))
                .unwrap();
        }
        let mut out = Vec::new();
        inst.write_export(ts.store.now(), &mut out).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let guilds = doc["guilds"].as_array().unwrap();
        let ids: Vec<_> = guilds.iter().map(|g| g["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["3", "7"]);
        assert_eq!(guilds[1]["accounts"].as_array().unwrap().len(), 1);
        assert_eq!(
            guilds[0]["config"]["currency_name"],
            ts.store.defaults().currency_name.as_str()
        );
        assert!(guilds[0]["info"].is_null());
    }

    /// A writer that fails once `limit` bytes are in, like a client that went away.
    struct Closing(usize);

    impl Write for Closing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.len() > self.0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            self.0 -= buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_writer_error_stops_the_export_and_is_returned() {
        let ts = testing::store();
        ts.store
            .write(GuildId(1), |w| w.ensure_account(UserId(1)))
            .unwrap();
        let err = Instance::new(ts.store.clone())
            .write_export(ts.store.now(), &mut Closing(10))
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    }
}
