//! The command line's shape (clap): global flags and every subcommand.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "coffer",
    version,
    about = "A Discord economy bot with an admin dashboard"
)]
pub(crate) struct Cli {
    /// Configuration file (default: ./config.toml if present).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Where the database lives (overrides storage.data_dir).
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Log filter: error, warn, info, debug, trace (overrides log.level; RUST_LOG wins).
    #[arg(long, global = true, value_name = "LEVEL")]
    pub(crate) log_level: Option<String>,
    /// Log lines on stderr: pretty (human-readable) or json (one object per line; overrides
    /// log.format).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub(crate) log_format: Option<LogFormatArg>,
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Run the bot and the dashboard (the default).
    Run,
    /// A sample server in a separate database (data/demo/): 100 members, a shop, tasks,
    /// announcements and a month of transactions; then the dashboard, with its URL and login.
    Demo {
        /// Create (or reuse) the demo database and exit without serving.
        #[arg(long)]
        seed_only: bool,
    },
    /// Recompute every balance from the ledger and report mismatches (exit 1 if any).
    Verify {
        /// Check only this server.
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Dashboard accounts.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Snapshot backups of the database (in storage.backup_dir).
    Backup {
        #[command(subcommand)]
        command: BackupCommand,
    },
    /// Replace the database with a backup (Coffer must be stopped). The file is verified
    /// first, and the current database is backed up before it is replaced.
    Restore {
        /// A backup file, or the name of one in the backup folder.
        file: PathBuf,
    },
    /// Everything of every server (or one) as JSON, or a server's ledger as CSV, to stdout or
    /// a file.
    Export {
        /// Only this server (required for csv when the database holds several).
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
        /// Write here instead of stdout.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Import a JSON export (Coffer stopped): everything is checked first, then imported in one
    /// transaction or not at all. A server already holding exactly this data is left alone.
    Import { file: PathBuf },
    /// Migrate one server from the Python bot Coffer replaces: its folder of JSON files (users
    /// and balances, inventory, shop items, tasks and claims, configuration, transaction log).
    /// Checked first (every problem with its file and JSON path), then imported in one
    /// transaction or not at all; running it again changes nothing.
    ImportLegacy {
        folder: PathBuf,
        /// The server id (default: the folder's name, when it is a number).
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand, Debug)]
pub(crate) enum BackupCommand {
    /// Take a consistent snapshot now (while Coffer is stopped; a running Coffer takes them
    /// with `POST /api/backups` and on its schedule).
    Create,
    /// List the snapshots, newest first.
    List,
    /// Check a snapshot: its checksum, that it opens, and the ledger of every server in it
    /// (exit 1 if anything is wrong).
    Verify {
        /// A backup file, or the name of one in the backup folder.
        file: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub(crate) enum AdminCommand {
    /// Create a dashboard account or reset its password. Reads the password from stdin
    /// (without echo on a terminal).
    SetPassword {
        username: String,
        /// Role for a new account, or a new role for an existing one.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum LogFormatArg {
    Pretty,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
pub(crate) enum RoleArg {
    Admin,
    Viewer,
}
