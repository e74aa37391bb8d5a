//! Operations commands of the real binary (issue 12): JSON logs, export/import, legacy import
//! and demo mode.

use std::io::BufRead;
use std::process::Stdio;

use crate::cli::{coffer, run, text};

#[test]
fn log_format_json_prints_one_json_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    // A command that logs and exits: `verify` opens (and creates) the database.
    let out =
        run(coffer(dir.path()).args(["--log-format", "json", "--log-level", "debug", "verify"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "nothing logged");
    for l in &lines {
        let v: serde_json::Value =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        assert!(v["level"].is_string() && v["timestamp"].is_string(), "{l}");
        assert!(v["fields"].is_object(), "{l}");
    }

    // The running app too, and the config key does the same as the flag.
    std::fs::write(dir.path().join("config.toml"), "[log]\nformat = \"json\"\n").unwrap();
    let mut child = coffer(dir.path())
        .arg("run")
        .env("COFFER_WEB__BIND", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = Vec::new();
    for line in std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
    {
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let msg = v["fields"]["message"].as_str().unwrap_or("").to_owned();
        seen.push(msg.clone());
        if msg.contains("dashboard at http://") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        seen.iter().any(|m| m.contains("Coffer is running")),
        "{seen:?}"
    );

    // A bad value names the key.
    std::fs::write(dir.path().join("config.toml"), "[log]\nformat = \"xml\"\n").unwrap();
    let out = run(coffer(dir.path()).arg("verify"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("log.format"),
        "{}",
        text(&out.stderr)
    );
}

/// `coffer export` of a database, as JSON (minus the export time) or CSV text.
fn export(dir: &std::path::Path, args: &[&str]) -> String {
    let out = run(coffer(dir).arg("export").args(args));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

fn guilds_of(json: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["format"], "coffer-export");
    v["guilds"].clone()
}

#[test]
fn export_then_import_round_trips_and_a_second_import_changes_nothing() {
    let a = tempfile::tempdir().unwrap();
    crate::cli::build_db(&a.path().join("data"));
    let json = export(a.path(), &[]);
    let file = a.path().join("export.json");
    std::fs::write(&file, &json).unwrap();
    let guilds = guilds_of(&json);
    assert_eq!(guilds.as_array().unwrap().len(), 2);
    let entries = guilds[0]["ledger"].as_array().unwrap().len();
    assert!(entries >= 7, "{}", guilds[0]);

    // CSV: the one server's ledger, a header and one row per entry.
    let csv = export(a.path(), &["--guild", "111", "--format", "csv"]);
    assert_eq!(csv.lines().count(), entries + 1, "{csv}");
    assert!(csv.starts_with("id,timestamp,user_id,type,amount"));
    let out = run(coffer(a.path()).args(["export", "--format", "csv"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--guild"),
        "{}",
        text(&out.stderr)
    );

    // Into an empty database: everything, counted per kind, and it verifies.
    let b = tempfile::tempdir().unwrap();
    let out = run(coffer(b.path()).arg("import").arg(&file));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(
        said.contains("Imported 2 server(s) (0 already identical"),
        "{said}"
    );
    assert!(
        said.contains(&format!("{} ledger entries", entries * 2)),
        "{said}"
    );
    let out = run(coffer(b.path()).arg("verify"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(guilds_of(&export(b.path(), &[])), guilds);

    // The same file again: nothing changes.
    let out = run(coffer(b.path()).arg("import").arg(&file));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Imported 0 server(s) (2 already identical"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(guilds_of(&export(b.path(), &[])), guilds);

    // New ids continue after the imported ones.
    let store = TestStore::open(b.path());
    let eco = coffer::economy::Economy::new(store.clone());
    let t = eco
        .adjust(
            coffer::domain::GuildId(111),
            coffer::domain::UserId(1),
            coffer::economy::Adjustment::Add(coffer::domain::Money::new(5)),
            "after import",
            &coffer::economy::OpMeta::user(coffer::domain::UserId(1), coffer::domain::Source::Cli),
        )
        .unwrap();
    let last = guilds[0]["ledger"].as_array().unwrap().last().unwrap()["id"]
        .as_u64()
        .unwrap();
    assert_eq!(t.transaction.unwrap().id, last + 1);
    drop(eco);
    drop(store);

    // Now that server differs from the file: refused, and nothing of the file is written.
    let out = run(coffer(b.path()).arg("import").arg(&file));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("already holds other data"),
        "{}",
        text(&out.stderr)
    );
}

struct TestStore;

impl TestStore {
    fn open(dir: &std::path::Path) -> coffer::store::Store {
        coffer::store::Store::open(
            &dir.join("data").join("coffer.redb"),
            std::sync::Arc::new(coffer::clock::SystemClock),
            Default::default(),
        )
        .unwrap()
    }
}

#[test]
fn a_damaged_export_is_refused_with_json_paths_and_imports_nothing() {
    let a = tempfile::tempdir().unwrap();
    crate::cli::build_db(&a.path().join("data"));
    let mut doc: serde_json::Value = serde_json::from_str(&export(a.path(), &[])).unwrap();
    // Server 222 (second) is damaged; server 111 is fine, yet it must not be imported either.
    doc["guilds"][1]["accounts"][0]["balance"] = serde_json::json!(999_999);
    doc["guilds"][1]["ledger"][2]["balance_after"] = serde_json::json!(-5);
    let file = a.path().join("bad.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let b = tempfile::tempdir().unwrap();
    let out = run(coffer(b.path()).arg("import").arg(&file));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("nothing imported"), "{err}");
    assert!(err.contains("$.guilds[1].accounts: user"), "{err}");
    assert!(err.contains("$.guilds[1].ledger[2]"), "{err}");
    let out = run(coffer(b.path()).arg("verify"));
    assert!(
        text(&out.stdout).contains("No servers"),
        "{}",
        text(&out.stdout)
    );

    // Not JSON at all: the line and column.
    std::fs::write(&file, "{\"guilds\": [").unwrap();
    let out = run(coffer(b.path()).arg("import").arg(&file));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("line 1"),
        "{}",
        text(&out.stderr)
    );
}
