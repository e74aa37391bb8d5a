//! Every redb table, keyed by guild first so no range over one guild can reach another's rows.
//! Values are JSON bytes (`codec.rs`): self-describing, so adding a field needs no migration;
//! accounts and ledger entries, the hot rows, are compact binary records (`records.rs`).

use redb::TableDefinition;

pub type Bytes = &'static [u8];

/// "schema_version" -> u64, and other process-wide counters.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// (guild, counter name) -> last id handed out. For ledger and audit ids it is only a floor,
/// read and not written: their ids follow their table's last key (`WriteCtx::next_id_after`).
pub const SEQS: TableDefinition<(u64, &str), u64> = TableDefinition::new("seqs");
/// guild -> GuildInfo.
pub const GUILDS: TableDefinition<u64, Bytes> = TableDefinition::new("guilds");
/// guild -> GuildConfig.
pub const CONFIG: TableDefinition<u64, Bytes> = TableDefinition::new("config");
/// (guild, user) -> Account (binary, `records.rs`, with the id of the member's latest entry).
pub const ACCOUNTS: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("accounts");
/// (guild, transaction id) -> Transaction (binary, `records.rs`; chained per member: no
/// by-user index table).
pub const LEDGER: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("ledger");
/// (guild, transaction id) -> Transaction: entries moved out of `ledger` by an archive run.
pub const LEDGER_ARCHIVE: TableDefinition<(u64, u64), Bytes> =
    TableDefinition::new("ledger_archive");
/// (guild, user) -> ArchiveCheckpoint: what a user's archived entries add up to, so the
/// integrity chain can start where the live ledger starts.
pub const ARCHIVE_CHECKPOINTS: TableDefinition<(u64, u64), Bytes> =
    TableDefinition::new("archive_checkpoints");
/// Instance-wide settings (not per guild): key -> JSON (bot presence, runtime settings...).
pub const INSTANCE: TableDefinition<&str, Bytes> = TableDefinition::new("instance");
/// (guild, original transaction id) -> the id of the refund that reversed it.
pub const REVERSALS: TableDefinition<(u64, u64), u64> = TableDefinition::new("reversals");
/// (guild, idempotency key) -> IdempotencyRecord.
pub const IDEMPOTENCY: TableDefinition<(u64, &str), Bytes> = TableDefinition::new("idempotency");
/// (guild, object kind, object id) -> SyncRecord: the Discord message outbox.
pub const DISCORD_SYNC: TableDefinition<(u64, &str, u64), Bytes> =
    TableDefinition::new("discord_sync");
/// (guild, object kind, object id) -> (): the `pending` sync records, so the reconciler's
/// work list is read without scanning every record (kept by `put_sync_record`).
pub const SYNC_DUE: TableDefinition<(u64, &str, u64), ()> = TableDefinition::new("sync_due");
/// (guild, grant id) -> (): pending role grants (kept by `put_role_grant`).
pub const GRANTS_DUE: TableDefinition<(u64, u64), ()> = TableDefinition::new("role_grants_due");
/// (guild, notice id) -> (): notices not sent yet (kept by `put_notice`).
pub const NOTICES_DUE: TableDefinition<(u64, u64), ()> = TableDefinition::new("notices_due");
/// (guild, audit id) -> AuditEntry.
pub const AUDIT: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("audit");
/// (guild, grant id) -> RoleGrant.
pub const ROLE_GRANTS: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("role_grants");
/// (guild, notice id) -> Notice: DMs owed to members.
pub const NOTICES: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("notices");
/// (guild, item id) -> Item.
pub const SHOP_ITEMS: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("shop_items");
/// (guild, user, item id) -> quantity held (rows at 0 are removed).
pub const INVENTORY: TableDefinition<(u64, u64, u64), u64> = TableDefinition::new("inventory");
/// (guild, user, item id) -> units ever bought (for per-user purchase limits; never decreases
/// when items are used).
pub const SHOP_PURCHASES: TableDefinition<(u64, u64, u64), u64> =
    TableDefinition::new("shop_purchases");
/// (guild, task id) -> Task.
pub const TASKS: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("tasks");
/// (guild, task id, user) -> Claim.
pub const CLAIMS: TableDefinition<(u64, u64, u64), Bytes> = TableDefinition::new("claims");
/// (guild, user, task id) -> (): a member's claims, for `/mytasks` and the per-member limit.
pub const CLAIMS_BY_USER: TableDefinition<(u64, u64, u64), ()> =
    TableDefinition::new("claims_by_user");
/// (guild, review id) -> Review: one submission and its message in the task channel.
pub const REVIEWS: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("reviews");
/// (guild, announcement id) -> Announcement.
pub const ANNOUNCEMENTS: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("announcements");
/// (guild, embed template id) -> EmbedTemplate.
pub const EMBEDS: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("embeds");
/// (guild, command name) -> CustomCommand.
pub const CUSTOM_COMMANDS: TableDefinition<(u64, &str), Bytes> =
    TableDefinition::new("custom_commands");
/// (guild, channel) -> ChannelInfo: the server's channels, for dashboard pickers.
pub const GUILD_CHANNELS: TableDefinition<(u64, u64), Bytes> =
    TableDefinition::new("guild_channels");
/// (guild, role) -> RoleInfo: the server's roles, for dashboard pickers.
pub const GUILD_ROLES: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("guild_roles");
/// (guild, user) -> MemberInfo: names and avatars of members Coffer has seen.
pub const MEMBERS: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("members");
/// (guild, log id) -> CommandLogEntry (guild 0 = direct messages).
pub const COMMAND_LOG: TableDefinition<(u64, u64), Bytes> = TableDefinition::new("command_log");
/// username -> AdminAccount (dashboard accounts are not per guild).
pub const ADMINS: TableDefinition<&str, Bytes> = TableDefinition::new("admins");

/// sha256(refresh token) as hex -> RefreshToken (dashboard sessions; never the token itself).
pub const REFRESH_TOKENS: TableDefinition<&str, Bytes> = TableDefinition::new("refresh_tokens");
/// session family id -> SessionFamily: every refresh token rotated from one login.
pub const SESSION_FAMILIES: TableDefinition<&str, Bytes> = TableDefinition::new("session_families");

/// Calls `$m!(TABLE, ...)` with every table: the one list that creating tables and copying
/// them into a backup share, so a new table cannot be left out of either.
#[macro_export]
#[doc(hidden)]
macro_rules! coffer_all_tables {
    ($m:ident) => {
        $m!(
            META,
            SEQS,
            GUILDS,
            CONFIG,
            ACCOUNTS,
            LEDGER,
            REVERSALS,
            LEDGER_ARCHIVE,
            ARCHIVE_CHECKPOINTS,
            INSTANCE,
            IDEMPOTENCY,
            DISCORD_SYNC,
            SYNC_DUE,
            GRANTS_DUE,
            NOTICES_DUE,
            AUDIT,
            ROLE_GRANTS,
            NOTICES,
            ADMINS,
            SHOP_ITEMS,
            INVENTORY,
            SHOP_PURCHASES,
            TASKS,
            CLAIMS,
            CLAIMS_BY_USER,
            REVIEWS,
            ANNOUNCEMENTS,
            EMBEDS,
            CUSTOM_COMMANDS,
            GUILD_CHANNELS,
            GUILD_ROLES,
            MEMBERS,
            REFRESH_TOKENS,
            SESSION_FAMILIES,
            COMMAND_LOG
        )
    };
}
pub use coffer_all_tables as all_tables;

/// Creates every table, so read transactions never meet a missing one.
pub(crate) fn create_all(tx: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    macro_rules! open_each {
        ($($t:ident),*) => {
            $(tx.open_table($t)?;)*
        };
    }
    all_tables!(open_each);
    Ok(())
}

/// How many tables there are (a backup copies each).
pub const COUNT: usize = {
    macro_rules! count {
        ($($t:ident),*) => {
            [$(stringify!($t)),*].len()
        };
    }
    all_tables!(count)
};
