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
