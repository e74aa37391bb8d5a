//! `/admin task|announce|embed` from Discord: replies, refusals naming the field, and the audit
//! trail they leave.

use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_task_announce_and_embed_commands_change_the_store_and_are_audited() {
    let fake = FakeDiscord::start().await;
    let app = TestApp::spawn(&fake).await;
    fake.wait_identified().await;
    let channel = json!({"name": "channel", "type": 7, "value": TASK_CHANNEL.to_string()});

    // Not an admin: refused before anything runs.
    let a = admin(
        &fake,
        &alice(),
        "task",
        "create",
        json!([s("name", "x"), s("reward", "5")]),
    )
    .await;
    assert_eq!(a.text(), "Only server admins can use this command.");

    create_task(&fake, "Moderate chat", "500", &[]).await;
    let a = admin(
        &fake,
        &owner(),
        "task",
        "edit",
        json!([s("task", "1"), s("reward", "750"), int("spots", 2)]),
    )
    .await;
    assert!(
        a.text().starts_with("Updated task #1 **Moderate chat**"),
        "{}",
        a.text()
    );
    assert!(
        a.text().contains("🪙 750 coins") && a.text().contains("2 of 2 left"),
        "{}",
        a.text()
    );
    let a = admin(
        &fake,
        &owner(),
        "task",
        "edit",
        json!([s("task", "1"), s("name", "")]),
    )
    .await;
    assert_eq!(a.text(), "name: must be 1 to 100 characters");
    let a = admin(
        &fake,
        &owner(),
        "task",
        "close",
        json!([s("task", "Moderate chat")]),
    )
    .await;
    assert!(a.text().starts_with("Closed task #1"), "{}", a.text());
    let refused = fake.answer(&fake.click(&alice(), "task:claim:1")).await;
    assert_eq!(refused.text(), "The task \"Moderate chat\" is closed.");
    let a = admin(&fake, &owner(), "task", "delete", json!([s("task", "1")])).await;
    assert_eq!(
        a.text(),
        "Deleted task #1 **Moderate chat** and its 0 claim(s). Its message will be removed."
    );

    let a = admin(
        &fake,
        &owner(),
        "announce",
        "create",
        json!([
            s("title", "Big news"),
            s("content", "Hello"),
            channel.clone()
        ]),
    )
    .await;
    assert_eq!(
        a.text(),
        format!("Saved announcement #1 **Big news** in <#{TASK_CHANNEL}>.")
    );
    let a = admin(&fake, &owner(), "announce", "pin", json!([int("id", 1)])).await;
    assert!(
        a.text().starts_with("Pinned announcement #1"),
        "{}",
        a.text()
    );
    let a = admin(
        &fake,
        &owner(),
        "announce",
        "edit",
        json!([int("id", 1), s("content", "Hello again")]),
    )
    .await;
    assert!(
        a.text().starts_with("Updated announcement #1"),
        "{}",
        a.text()
    );
    let a = admin(&fake, &owner(), "announce", "unpin", json!([int("id", 1)])).await;
    assert!(
        a.text().starts_with("Unpinned announcement #1"),
        "{}",
        a.text()
    );
    let a = admin(&fake, &owner(), "announce", "delete", json!([int("id", 1)])).await;
    assert!(
        a.text().starts_with("Deleted announcement #1"),
        "{}",
        a.text()
    );
    let a = admin(&fake, &owner(), "announce", "pin", json!([int("id", 1)])).await;
    assert_eq!(a.text(), "Announcement 1 not found.");

    let a = admin(
        &fake,
        &owner(),
        "embed",
        "create",
        json!([
            s("name", "rules"),
            s("title", "Rules"),
            s("color", "#3498db"),
            channel
        ]),
    )
    .await;
    assert_eq!(
        a.text(),
        format!("Saved embed #1 **rules**. It will be posted in <#{TASK_CHANNEL}>.")
    );
    let a = admin(
        &fake,
        &owner(),
        "embed",
        "create",
        json!([s("name", "x"), s("color", "blue")]),
    )
    .await;
    assert_eq!(a.text(), "color: must be a hex colour like #3498db");
    let a = admin(&fake, &owner(), "embed", "delete", json!([int("id", 1)])).await;
    assert_eq!(a.text(), "Deleted embed #1 **rules**.");

    let (config, _dir) = (app.config.clone(), app.dir.clone());
    app.stop().await.expect("clean stop");
    let store = TestApp::open_store(&config);
    let audit = coffer::guild::Guilds::new(store)
        .list_audit(guild(), &Default::default())
        .unwrap();
    let mut actions: Vec<&str> = audit.items.iter().map(|e| e.action.as_str()).collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "announcement.create",
            "announcement.delete",
            "announcement.pin",
            "announcement.unpin",
            "announcement.update",
            "embed.create",
            "embed.delete",
            "task.close",
            "task.create",
            "task.delete",
            "task.edit",
        ]
    );
    assert!(audit
        .items
        .iter()
        .all(|e| e.actor == coffer::domain::Actor::User(UserId(OWNER_ID))));
    assert_no_dropped_payloads();
}
