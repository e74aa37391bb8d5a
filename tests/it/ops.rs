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
    add_the_rest(a.path());
    let json = export(a.path(), &[]);
    let file = a.path().join("export.json");
    std::fs::write(&file, &json).unwrap();
    let guilds = guilds_of(&json);
    assert_eq!(guilds.as_array().unwrap().len(), 2);
    let entries = guilds[0]["ledger"].as_array().unwrap().len();
    assert!(entries >= 7, "{}", guilds[0]);
    for kind in [
        "accounts",
        "ledger",
        "items",
        "inventory",
        "tasks",
        "claims",
        "announcements",
        "embeds",
    ] {
        assert!(
            guilds[0][kind].as_array().is_some_and(|a| !a.is_empty()),
            "{kind} in the export"
        );
    }

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
    let entries_222 = guilds[1]["ledger"].as_array().unwrap().len();
    assert!(
        said.contains(&format!("{} ledger entries", entries + entries_222)),
        "{said}"
    );
    for count in [
        "1 shop items",
        "1 inventory rows",
        "1 tasks",
        "1 claims",
        "0 custom commands",
        "1 announcements",
        "1 embed templates",
        "0 archived ledger entries",
    ] {
        assert!(said.contains(count), "{count}: {said}");
    }
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

/// Adds a shop item with a buyer, a task with a claim, an announcement and an embed template
/// to server 111, through the services, so the round trip covers every kind.
fn add_the_rest(dir: &std::path::Path) {
    use coffer::domain::{GuildId, OpMeta, Source, UserId};
    let svc = coffer::services::Services::new(TestStore::open(dir), false);
    let g = GuildId(111);
    let admin = OpMeta::user(UserId(1), Source::Cli);
    let item = serde_json::from_value(serde_json::json!({"name": "Gem", "price": 10, "stock": 5}))
        .unwrap();
    let item = svc.shop.create_item(g, item, &admin).unwrap();
    svc.shop
        .purchase(
            g,
            UserId(3),
            item.id,
            2,
            &OpMeta::user(UserId(3), Source::Api),
        )
        .unwrap();
    let task = serde_json::from_value(
        serde_json::json!({"name": "Draw", "reward": 5, "duration_hours": 24}),
    )
    .unwrap();
    let task = svc.tasks.create(g, task, &admin).unwrap();
    svc.tasks
        .claim(g, task.id, UserId(4), &OpMeta::user(UserId(4), Source::Api))
        .unwrap();
    let ann = serde_json::from_value(
        serde_json::json!({"title": "Hi", "content": "Hello", "channel": "555"}),
    )
    .unwrap();
    svc.announce.create(g, ann, &admin).unwrap();
    let embed =
        serde_json::from_value(serde_json::json!({"name": "rules", "embed": {"title": "Rules"}}))
            .unwrap();
    svc.announce.create_embed(g, embed, &admin).unwrap();
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

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/legacy")
        .join(name)
}

/// The fixture folder (legacy-format.md shapes, with the small deviations real files have):
/// balances as stated, differences as explicit entries, every kind counted, verify clean.
#[test]
fn import_legacy_migrates_a_server_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let folder = fixture("959947059480379463");
    let out = run(coffer(dir.path()).arg("import-legacy").arg(&folder));
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}{}", text(&out.stderr));
    assert!(
        said.contains(
            "Imported server 959947059480379463: 3 members, 4 transactions from the log + 3 \
             opening/correction entries, 3 shop items, 2 inventory rows, 3 tasks, 4 claims."
        ),
        "{said}"
    );
    for note in [
        "user 764719348824670239: the stated balance is 150 but the log sums to 100: imported as stated, with an opening entry of 50",
        "user 300000000000000003: the stated balance is 10 but the log sums to 100: imported as stated, with an opening entry of 0 and a closing correction of -90",
        "currency_data.json: $.users.217134609056530434.balance: number stored as a string",
        "transactions.json: $[3]: duplicate of $[2]",
        "transactions.json: $[4].type: unknown type \"mystery_bonus\"",
        "currency_data.json: $.shop_items.vip: item key \"vip\" is not a number: it becomes item 3",
    ] {
        assert!(said.contains(note), "missing note `{note}` in\n{said}");
    }
    let out = run(coffer(dir.path()).arg("verify"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let store = TestStore::open(dir.path());
    let g = coffer::domain::GuildId(959947059480379463);
    let eco = coffer::economy::Economy::new(store.clone());
    for (user, balance) in [
        (764719348824670239, 150),
        (217134609056530434, 200),
        (300000000000000003, 10),
    ] {
        let a = eco.account(g, coffer::domain::UserId(user)).unwrap();
        assert_eq!(
            a.balance.get(),
            balance,
            "user {user} keeps the stated balance"
        );
    }
    let inst = coffer::instance::Instance::new(store.clone());
    let doc = inst.export_guild(g).unwrap();
    assert_eq!(doc.config.currency_name, "gems");
    assert_eq!(doc.info.as_ref().unwrap().member_count, 215);
    assert_eq!(doc.ledger.len(), 7);
    assert_eq!(doc.ledger[0].kind, coffer::domain::TxKind::Import);
    let statuses: Vec<_> = doc.tasks.iter().map(|t| t.status.as_str()).collect();
    assert_eq!(statuses, ["active", "closed", "expired"]);
    assert_eq!(
        doc.tasks[0].current_claims, 2,
        "recounted from the claims, not the file's 7"
    );
    drop((eco, inst, store));

    let out = run(coffer(dir.path()).arg("import-legacy").arg(&folder));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("already imported exactly like this: nothing changed"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn import_legacy_reports_every_problem_with_file_and_path_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(coffer(dir.path())
        .arg("import-legacy")
        .arg(fixture("broken")));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("the server id is not the folder's name"),
        "{err}"
    );
    let out = run(coffer(dir.path())
        .args(["import-legacy", "--guild", "42"])
        .arg(fixture("broken")));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    for problem in [
        "currency.json: $.users.764719348824670239.balance: \"lots\" is not a number",
        "currency.json: $.users.not-an-id: \"not-an-id\" is not a Discord id",
        "currency.json: $.shop_items.1.price: must be 0 or more",
        "transactions.json: $[0].timestamp: \"yesterday\" is not an ISO 8601 timestamp",
        "transactions.json: $[1].amount: missing",
        "transactions.json: $[2]: id \"b\" is also $[1] with other content",
        "tasks.json: $.user_tasks.764719348824670239.9: task 9 is not in $.tasks",
        "notes.json: $: not a file of the old bot",
        "nothing imported",
    ] {
        assert!(err.contains(problem), "missing `{problem}` in\n{err}");
    }
    let out = run(coffer(dir.path()).arg("verify"));
    assert!(
        text(&out.stdout).contains("No servers"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn demo_creates_a_living_server_once_that_verifies_and_serves_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(coffer(dir.path()).args(["demo", "--seed-only"]));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("(created): 100 members, 12 shop items, 4 tasks, 3 announcements"),
        "{}",
        text(&out.stdout)
    );
    let out = run(coffer(dir.path()).args(["demo", "--seed-only"]));
    assert!(
        text(&out.stdout).contains("(reused)"),
        "{}",
        text(&out.stdout)
    );

    // The demo database is its own, under data/demo/, and passes verify.
    let store = coffer::store::Store::open(
        &dir.path().join("data/demo/coffer.redb"),
        std::sync::Arc::new(coffer::clock::SystemClock),
        Default::default(),
    )
    .unwrap();
    let report = coffer::economy::Economy::new(store.clone())
        .validate_guild(coffer::demo::GUILD)
        .unwrap();
    assert!(report.ok, "{report:?}");
    let g = coffer::demo::GUILD;
    let doc = coffer::instance::Instance::new(store.clone())
        .export_guild(g)
        .unwrap();
    assert_eq!(doc.accounts.len(), 100);
    assert_eq!(doc.items.len(), 12);
    let n = doc.ledger.len();
    assert!(
        (4000..=6000).contains(&n),
        "about 5,000 ledger entries, got {n}"
    );
    let (first, last) = (doc.ledger[0].at, doc.ledger[n - 1].at);
    assert!(
        last - first >= chrono::Duration::days(29),
        "spread over 30 days: {first} .. {last}"
    );
    use coffer::domain::tasks::{ClaimStatus, TaskStatus};
    let task_states: std::collections::HashSet<_> = doc.tasks.iter().map(|t| t.status).collect();
    assert_eq!(
        task_states,
        [TaskStatus::Active, TaskStatus::Closed, TaskStatus::Expired]
            .into_iter()
            .collect()
    );
    let claim_states: std::collections::HashSet<_> = doc.claims.iter().map(|c| c.status).collect();
    assert_eq!(claim_states, ClaimStatus::ALL.into_iter().collect());
    assert!(
        doc.claims.iter().any(|c| c.rejections > 0),
        "a rejected submission"
    );
    assert!(
        doc.tasks
            .iter()
            .any(|t| t.max_claims > 0 && t.current_claims == t.max_claims),
        "a full task"
    );
    drop(store);

    // Without --seed-only it serves the dashboard and says where and how to log in.
    let mut child = coffer(dir.path())
        .arg("demo")
        .env("COFFER_WEB__BIND", "127.0.0.1:0")
        .env("DISCORD_TOKEN", "ignored-by-the-demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("Demo dashboard: http://"))
        .expect("the demo prints its URL");
    assert!(
        line.contains("`demo` with password `coffer-demo`"),
        "{line}"
    );
    let addr = line["Demo dashboard: http://".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let body = serde_json::json!({"username": "demo", "password": "coffer-demo"}).to_string();
    let mut answer = String::new();
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
            use std::io::{Read, Write};
            write!(
                s,
                "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            s.read_to_string(&mut answer).unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
