//! `config.toml` + environment -> a validated `Config`. Env overrides: `COFFER_<SECTION>__<KEY>`
//! for any key, plus `DISCORD_TOKEN`, `DISCORD_API_BASE`, `PORT`, `JWT_SECRET_KEY`,
//! `ADMIN_USERNAME`, `ADMIN_PASSWORD`. Every error names the key and where it came from.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::domain::{GuildConfig, GuildId};

mod ipnet;
pub use ipnet::IpNet;

/// A secret from the environment: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The shortest `JWT_SECRET_KEY` accepted: an HS256 key must not be guessable offline.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    web: RawWeb,
    discord: RawDiscord,
    storage: RawStorage,
    log: RawLog,
    events: RawEvents,
    auth: RawAuth,
    defaults: GuildConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawWeb {
    bind: SocketAddr,
    public_url: String,
    trusted_proxies: Vec<String>,
}

impl Default for RawWeb {
    fn default() -> Self {
        RawWeb {
            bind: SocketAddr::from(([127, 0, 0, 1], 5000)),
            public_url: String::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawDiscord {
    api_base: String,
    dev_guild: u64,
    members_intent: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawStorage {
    data_dir: PathBuf,
    backup_dir: PathBuf,
    backup_every_hours: u32,
    backup_keep_last: usize,
    backup_keep_daily_days: u32,
    cache_mib: u64,
}

impl Default for RawStorage {
    fn default() -> Self {
        RawStorage {
            data_dir: PathBuf::from("data"),
            backup_dir: PathBuf::from("backups"),
            backup_every_hours: 24,
            backup_keep_last: 7,
            backup_keep_daily_days: 30,
            cache_mib: crate::store::DEFAULT_CACHE_MIB,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLog {
    level: String,
    format: String,
}

impl Default for RawLog {
    fn default() -> Self {
        RawLog {
            level: "info".into(),
            format: "pretty".into(),
        }
    }
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (colours on a terminal).
    #[default]
    Pretty,
    /// One JSON object per line (for log collectors).
    Json,
}

impl LogFormat {
    pub fn parse(s: &str) -> Option<LogFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "pretty" => Some(LogFormat::Pretty),
            "json" => Some(LogFormat::Json),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawEvents {
    replay_buffer: usize,
}

impl Default for RawEvents {
    fn default() -> Self {
        RawEvents {
            replay_buffer: 1024,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawAuth {
    access_token_minutes: u32,
    refresh_token_days: u32,
}

impl Default for RawAuth {
    fn default() -> Self {
        RawAuth {
            access_token_minutes: 15,
            refresh_token_days: 7,
        }
    }
}

#[derive(Debug, Clone)]
pub struct WebConfig {
    pub bind: SocketAddr,
    /// The dashboard's public address; when it is https, cookies are marked Secure (and get
    /// `__Host-` names) and responses carry HSTS.
    pub public_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR blocks). Empty:
    /// the client address is always the TCP peer.
    pub trusted_proxies: Vec<IpNet>,
    /// `PORT` was set (a hosted deploy, listening on every interface).
    pub port_from_env: bool,
}

impl WebConfig {
    /// Whether the public URL is https (cookies Secure, HSTS on).
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

#[derive(Debug, Clone)]
pub struct DiscordConfig {
    pub token: Option<Secret>,
    /// A Discord-compatible REST base URL (a proxy, or the fake Discord in tests).
    pub api_base: Option<String>,
    /// Register commands in this guild only (development).
    pub dev_guild: Option<GuildId>,
    /// Ask for the privileged Server Members intent.
    pub members_intent: bool,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub jwt_secret: Option<Secret>,
    pub admin_username: Option<String>,
    pub admin_password: Option<Secret>,
    pub access_token_minutes: u32,
    pub refresh_token_days: u32,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub web: WebConfig,
    pub discord: DiscordConfig,
    pub data_dir: PathBuf,
    pub backup_dir: PathBuf,
    /// Hours between scheduled backups (`None`: off).
    pub backup_every_hours: Option<u32>,
    pub backup_retention: crate::backup::Retention,
    /// redb's page cache, in bytes (`storage.cache_mib`).
    pub cache_bytes: usize,
    pub log_level: String,
    pub log_format: LogFormat,
    pub event_buffer: usize,
    pub auth: AuthConfig,
    /// Settings every guild starts with.
    pub defaults: GuildConfig,
}

impl Config {
    /// Built-in defaults, as if `config.toml` were empty and no env var set.
    pub fn defaults() -> Config {
        Config::from_raw(RawConfig::default(), &BTreeMap::new()).unwrap_or_else(|_| unreachable!())
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("coffer.redb")
    }

    /// Reads the file (when `path` is given it must exist; otherwise `config.toml` is used if
    /// present) and applies the environment.
    pub fn load(
        path: Option<&Path>,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let (name, text) = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| ConfigError(format!("cannot read {}: {e}", p.display())))?;
                (p.display().to_string(), text)
            }
            None => match std::fs::read_to_string("config.toml") {
                Ok(text) => ("config.toml".to_owned(), text),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    ("config.toml".to_owned(), String::new())
                }
                Err(e) => return Err(ConfigError(format!("cannot read config.toml: {e}"))),
            },
        };
        Config::parse(&name, &text, env)
    }

    /// The whole pipeline on given text and environment (what tests call).
    pub fn parse(
        name: &str,
        text: &str,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, ConfigError> {
        let mut doc: toml::Table = toml::from_str(text).map_err(|e| file_error(name, text, &e))?;
        // Deserialize the file alone first so its errors carry its line numbers.
        RawConfig::deserialize(toml::Value::Table(doc.clone())).map_err(
            |_| match toml::from_str::<RawConfig>(text) {
                Err(e) => file_error(name, text, &e),
                Ok(_) => ConfigError(format!("{name}: invalid configuration")),
            },
        )?;
        let mut origins: BTreeMap<String, String> = BTreeMap::new();
        for (var, section, key, value) in env_overrides(env)? {
            let table = doc
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let Some(table) = table.as_table_mut() else {
                return Err(ConfigError(format!(
                    "env {var}: `{section}` is not a section"
                )));
            };
            table.insert(key.clone(), value);
            RawConfig::deserialize(toml::Value::Table(doc.clone())).map_err(|e| {
                ConfigError(format!("env {var} ({section}.{key}): {}", e.message()))
            })?;
            origins.insert(format!("{section}.{key}"), format!("env {var}"));
        }
        let raw = RawConfig::deserialize(toml::Value::Table(doc))
            .map_err(|e| ConfigError(format!("{name}: {}", e.message())))?;
        let origin = |section: &str, key: &str| -> String {
            let path = format!("{section}.{key}");
            if let Some(o) = origins.get(&path) {
                return o.clone();
            }
            match find_line(text, section, key) {
                Some(line) => format!("{name} line {line}"),
                None => "the built-in default".to_owned(),
            }
        };
        Config::from_raw(raw, env).map_err(|(section, key, msg)| {
            ConfigError(format!(
                "{} ({section}.{key}): {msg}",
                origin(section, &key)
            ))
        })
    }

    fn from_raw(
        raw: RawConfig,
        env: &BTreeMap<String, String>,
    ) -> Result<Config, (&'static str, String, String)> {
        let secret = |k: &str| env.get(k).filter(|v| !v.is_empty()).map(Secret::new);
        if raw.events.replay_buffer == 0 || raw.events.replay_buffer > 1_000_000 {
            return Err((
                "events",
                "replay_buffer".into(),
                "must be between 1 and 1000000".into(),
            ));
        }
        if !(1..=1440).contains(&raw.auth.access_token_minutes) {
            return Err((
                "auth",
                "access_token_minutes".into(),
                "must be between 1 and 1440".into(),
            ));
        }
        if !(1..=365).contains(&raw.auth.refresh_token_days) {
            return Err((
                "auth",
                "refresh_token_days".into(),
                "must be between 1 and 365".into(),
            ));
        }
        if !is_log_filter(&raw.log.level) {
            return Err((
                "log",
                "level".into(),
                format!(
                    "`{}` is not a log level (error, warn, info, debug, trace)",
                    raw.log.level
                ),
            ));
        }
        let Some(log_format) = LogFormat::parse(&raw.log.format) else {
            return Err((
                "log",
                "format".into(),
                format!("`{}` is not a log format (json, pretty)", raw.log.format),
            ));
        };
        let api_base = raw.discord.api_base.trim().trim_end_matches('/').to_owned();
        let is_http = api_base.starts_with("http://") || api_base.starts_with("https://");
        if !api_base.is_empty() && !is_http {
            return Err((
                "discord",
                "api_base".into(),
                "must start with http:// or https://".into(),
            ));
        }
        if raw.storage.data_dir.as_os_str().is_empty() {
            return Err(("storage", "data_dir".into(), "must not be empty".into()));
        }
        if raw.storage.backup_keep_last == 0 {
            return Err((
                "storage",
                "backup_keep_last".into(),
                "must be at least 1 (the newest backup is always kept)".into(),
            ));
        }
        if !(1..=65_536).contains(&raw.storage.cache_mib) {
            return Err((
                "storage",
                "cache_mib".into(),
                "must be between 1 and 65536 (MiB)".into(),
            ));
        }
        raw.defaults.validate().map_err(|e| match e {
            crate::domain::DomainError::Invalid { field, message } => ("defaults", field, message),
            other => ("defaults", String::new(), other.to_string()),
        })?;
        let public_url = raw.web.public_url.trim().to_owned();
        let scheme_ok = public_url.starts_with("http://") || public_url.starts_with("https://");
        if !(public_url.is_empty() || scheme_ok) {
            return Err((
                "web",
                "public_url".into(),
                "must start with https:// (or http:// for a local test)".into(),
            ));
        }
        let mut trusted_proxies = Vec::new();
        for p in &raw.web.trusted_proxies {
            let net = IpNet::parse(p).ok_or_else(|| {
                (
                    "web",
                    "trusted_proxies".to_owned(),
                    format!("`{p}` is not an IP address or CIDR block (e.g. \"10.0.0.0/8\")"),
                )
            })?;
            trusted_proxies.push(net);
        }
        let jwt_secret = secret("JWT_SECRET_KEY");
        if let Some(k) = &jwt_secret {
            if k.expose().len() < MIN_JWT_SECRET_BYTES {
                return Err((
                    "auth",
                    "JWT_SECRET_KEY".into(),
                    format!(
                        "env JWT_SECRET_KEY is {} bytes; it must be at least {MIN_JWT_SECRET_BYTES} \
                         random bytes (e.g. `openssl rand -hex 32`), or unset it to have a key \
                         generated in the data directory",
                        k.expose().len()
                    ),
                ));
            }
        }
        Ok(Config {
            web: WebConfig {
                bind: raw.web.bind,
                public_url: (!public_url.is_empty()).then_some(public_url),
                trusted_proxies,
                port_from_env: env.contains_key("PORT"),
            },
            discord: DiscordConfig {
                token: secret("DISCORD_TOKEN"),
                api_base: (!api_base.is_empty()).then_some(api_base),
                dev_guild: (raw.discord.dev_guild != 0).then_some(GuildId(raw.discord.dev_guild)),
                members_intent: raw.discord.members_intent,
            },
            data_dir: raw.storage.data_dir,
            backup_dir: raw.storage.backup_dir,
            backup_every_hours: (raw.storage.backup_every_hours != 0)
                .then_some(raw.storage.backup_every_hours),
            backup_retention: crate::backup::Retention {
                keep_last: raw.storage.backup_keep_last,
                keep_daily_days: raw.storage.backup_keep_daily_days,
            },
            cache_bytes: usize::try_from(raw.storage.cache_mib << 20).unwrap_or(usize::MAX),
            log_level: raw.log.level,
            log_format,
            event_buffer: raw.events.replay_buffer,
            auth: AuthConfig {
                jwt_secret,
                admin_username: env.get("ADMIN_USERNAME").filter(|v| !v.is_empty()).cloned(),
                admin_password: secret("ADMIN_PASSWORD"),
                access_token_minutes: raw.auth.access_token_minutes,
                refresh_token_days: raw.auth.refresh_token_days,
            },
            defaults: raw.defaults,
        })
    }
}

/// `info`, or directives such as `info,coffer=debug`: every part ends in a level name.
pub fn is_log_filter(s: &str) -> bool {
    const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];
    !s.trim().is_empty()
        && s.split(',').all(|d| {
            let level = d
                .rsplit('=')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            LEVELS.contains(&level.as_str())
                && tracing_subscriber::EnvFilter::try_new(d.trim()).is_ok()
        })
}

fn file_error(name: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    match line {
        Some(l) => ConfigError(format!("{name} line {l}: {}", e.message())),
        None => ConfigError(format!("{name}: {}", e.message())),
    }
}

/// The line (1-based) where `key` is set inside `[section]`, if the file sets it.
fn find_line(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            current = name.trim().to_owned();
        } else if current == section {
            if let Some((k, _)) = t.split_once('=') {
                if k.trim() == key {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

/// Env vars as (var, section, key, value) in a stable order.
fn env_overrides(
    env: &BTreeMap<String, String>,
) -> Result<Vec<(String, String, String, toml::Value)>, ConfigError> {
    let mut out = Vec::new();
    for (var, value) in env {
        if let Some(rest) = var.strip_prefix("COFFER_") {
            let Some((section, key)) = rest.split_once("__") else {
                return Err(ConfigError(format!(
                    "env {var}: expected COFFER_<SECTION>__<KEY>, e.g. COFFER_WEB__BIND"
                )));
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            out.push((var.clone(), section, key, env_value(value)));
        }
    }
    if let Some(v) = env.get("DISCORD_API_BASE") {
        out.push((
            "DISCORD_API_BASE".into(),
            "discord".into(),
            "api_base".into(),
            toml::Value::String(v.clone()),
        ));
    }
    if let Some(port) = env.get("PORT") {
        let p: u16 = port.trim().parse().map_err(|_| {
            ConfigError(format!("env PORT: `{port}` is not a port number (1-65535)"))
        })?;
        out.push((
            "PORT".into(),
            "web".into(),
            "bind".into(),
            toml::Value::String(format!("0.0.0.0:{p}")),
        ));
    }
    Ok(out)
}

/// An env value as TOML: a number, bool or array if it parses as one, else a string.
fn env_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        Err(_) => toml::Value::String(raw.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_shipped_config_toml_parses_to_the_defaults() {
        let text = include_str!("../config.toml");
        let c = Config::parse("config.toml", text, &BTreeMap::new()).unwrap();
        let d = Config::defaults();
        assert_eq!(c.web.bind, d.web.bind);
        assert_eq!(c.data_dir, d.data_dir);
        assert_eq!(c.defaults, d.defaults);
        assert_eq!(c.event_buffer, d.event_buffer);
        assert_eq!(c.cache_bytes, d.cache_bytes);
        assert!(c.discord.token.is_none());
    }

    #[test]
    fn the_database_cache_is_small_by_default_and_bounded() {
        assert_eq!(Config::defaults().cache_bytes, 8 << 20);
        let c = Config::parse("c", "[storage]\ncache_mib = 64\n", &BTreeMap::new()).unwrap();
        assert_eq!(c.cache_bytes, 64 << 20);
        for bad in ["0", "65537"] {
            let e = Config::parse(
                "c",
                &format!("[storage]\ncache_mib = {bad}\n"),
                &BTreeMap::new(),
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("cache_mib"), "{e}");
        }
    }

    #[test]
    fn an_unknown_key_names_the_key_and_the_line() {
        let text = "[web]\nbind = \"127.0.0.1:1\"\n\n[defaults]\ncurency_name = \"x\"\n";
        let e = Config::parse("config.toml", text, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("config.toml line 5"), "{e}");
        assert!(e.contains("curency_name"), "{e}");
    }

    #[test]
    fn a_bad_value_names_the_line() {
        let text = "[web]\nbind = \"not an address\"\n";
        let e = Config::parse("config.toml", text, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("config.toml line 2"), "{e}");
        let text = "[defaults]\ntransfer_tax_percent = 150\n";
        let e = Config::parse("config.toml", text, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("config.toml line 2"), "{e}");
        assert!(e.contains("transfer_tax_percent"), "{e}");
    }

    #[test]
    fn env_overrides_win_and_errors_name_the_variable() {
        let c = Config::parse(
            "config.toml",
            "[defaults]\ndaily_amount = 5\n",
            &env(&[
                ("COFFER_DEFAULTS__DAILY_AMOUNT", "250"),
                ("COFFER_LOG__LEVEL", "debug"),
            ]),
        )
        .unwrap();
        assert_eq!(c.defaults.daily_amount, 250);
        assert_eq!(c.log_level, "debug");

        let e = Config::parse("c", "", &env(&[("COFFER_WEB__NOPE", "1")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("env COFFER_WEB__NOPE"), "{e}");
        let e = Config::parse("c", "", &env(&[("COFFER_DEFAULTS__DAILY_AMOUNT", "lots")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("env COFFER_DEFAULTS__DAILY_AMOUNT"), "{e}");
        let e = Config::parse(
            "c",
            "",
            &env(&[("COFFER_DEFAULTS__DAILY_COOLDOWN_HOURS", "0")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("env COFFER_DEFAULTS__DAILY_COOLDOWN_HOURS"),
            "{e}"
        );
        let e = Config::parse("c", "", &env(&[("COFFER_WEBBIND", "x")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("COFFER_<SECTION>__<KEY>"), "{e}");
    }

    #[test]
    fn port_listens_on_all_interfaces_and_api_base_is_read() {
        let c = Config::parse(
            "c",
            "",
            &env(&[
                ("PORT", "8080"),
                ("DISCORD_API_BASE", "http://127.0.0.1:9/"),
            ]),
        )
        .unwrap();
        assert_eq!(c.web.bind.to_string(), "0.0.0.0:8080");
        assert_eq!(c.discord.api_base.as_deref(), Some("http://127.0.0.1:9"));
        let e = Config::parse("c", "", &env(&[("PORT", "http")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("env PORT"), "{e}");
    }

    #[test]
    fn secrets_come_from_env_and_never_show_in_debug() {
        let c = Config::parse(
            "c",
            "",
            &env(&[
                ("DISCORD_TOKEN", "tok-123-secret"),
                ("JWT_SECRET_KEY", "jwt-456-secret-0123456789abcdef-xyz"),
                ("ADMIN_PASSWORD", "pw-789-secret"),
                ("ADMIN_USERNAME", "root"),
            ]),
        )
        .unwrap();
        assert_eq!(c.discord.token.as_ref().unwrap().expose(), "tok-123-secret");
        let dbg = format!("{c:?}");
        for s in ["tok-123-secret", "jwt-456-secret", "pw-789-secret"] {
            assert!(!dbg.contains(s), "{s} leaked in {dbg}");
        }
        assert!(dbg.contains("root"));
        // A token in the file is an unknown key: secrets live in env only.
        let e = Config::parse("c", "[discord]\ntoken = \"x\"\n", &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("token"), "{e}");
    }

    #[test]
    fn a_bad_log_level_is_refused() {
        let e = Config::parse("c", "[log]\nlevel = \"loud!!\"\n", &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2") && e.contains("log.level"), "{e}");
    }

    #[test]
    fn a_short_jwt_secret_key_is_a_configuration_error() {
        let e = Config::parse("c", "", &env(&[("JWT_SECRET_KEY", "x")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("JWT_SECRET_KEY") && e.contains("at least 32"),
            "{e}"
        );
        let ok = "k".repeat(32);
        assert!(Config::parse("c", "", &env(&[("JWT_SECRET_KEY", ok.as_str())])).is_ok());
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_cidr_blocks() {
        let c = Config::parse(
            "c",
            "[web]\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\", \"192.168.1.7\"]\n",
            &BTreeMap::new(),
        )
        .unwrap();
        let t = &c.web.trusted_proxies;
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(t[0].contains(ip("10.20.30.40")));
        assert!(!t[0].contains(ip("11.0.0.1")));
        assert!(t[1].contains(ip("::1")));
        assert!(t[2].contains(ip("192.168.1.7")) && !t[2].contains(ip("192.168.1.8")));
        assert!(t[0].contains(ip("::ffff:10.1.2.3")));
        assert!(Config::defaults().web.trusted_proxies.is_empty());
        let e = Config::parse(
            "c",
            "[web]\ntrusted_proxies = [\"10.0.0.0/33\"]\n",
            &BTreeMap::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("web.trusted_proxies") && e.contains("line 2"),
            "{e}"
        );
    }
}
