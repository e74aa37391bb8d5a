//! Each Discord error rule, end to end through the loop and the fake.

use std::time::Duration;

use super::fake::{api_error, rate_limited, Op};
use super::{admin, Harness, G, SHOP, TASKS};
use crate::domain::shop::ItemPatch;
use crate::domain::tasks::NewTask;
use crate::domain::ChannelId;
use crate::guild::{SyncKind, SyncState};
use crate::sync::api::codes;

fn task(h: &Harness) -> u64 {
    let t = NewTask {
        name: "Sweep @everyone".into(),
        reward: 5,
        duration_hours: 2,
        max_claims: 1,
        ..NewTask::default()
    };
    h.services.tasks.create(G, t, &admin()).unwrap().id
}

#[tokio::test(start_paused = true)]
async fn an_item_appears_in_the_shop_with_a_buy_button_and_pings_nobody() {
    let mut h = Harness::new();
    let id = h.item("@everyone VIP");
    h.start();
    let r = h
        .until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    let msg = h.api.message(SHOP, r.message_id.unwrap()).unwrap();
    assert_eq!(
        msg.body["allowed_mentions"],
        serde_json::json!({"parse": []})
    );
    assert!(msg.body["components"][0]["components"][0]["custom_id"].is_string());
    assert_eq!(r.posted_channel, Some(SHOP));
    h.edit_item(
        id,
        ItemPatch {
            price: Some(99),
            ..ItemPatch::default()
        },
    );
    h.until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    h.until("the edit is shown", |h| h.api.count(Op::Edit) == 1)
        .await;
    let edited = h.api.message(SHOP, r.message_id.unwrap()).unwrap();
    assert_eq!(
        edited.body["allowed_mentions"],
        serde_json::json!({"parse": []}),
        "edits ping nobody too"
    );
    assert_eq!(h.api.count(Op::Create), 1);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_shop_message_deleted_on_discord_is_reposted_and_the_new_id_stored() {
    let mut h = Harness::new();
    let id = h.item("Cape");
    h.start();
    let first = h
        .until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    h.api.delete_by_hand(SHOP, first.message_id.unwrap());
    h.edit_item(
        id,
        ItemPatch {
            price: Some(11),
            ..ItemPatch::default()
        },
    );
    h.until("reposted", |h| {
        h.record(SyncKind::ShopItem, id).is_some_and(|r| {
            r.state == SyncState::Synced
                && r.message_id.is_some()
                && r.message_id != first.message_id
        })
    })
    .await;
    let r = h.record(SyncKind::ShopItem, id).unwrap();
    assert_eq!(
        h.api.messages(SHOP).keys().copied().collect::<Vec<_>>(),
        vec![r.message_id.unwrap()]
    );
    assert_eq!(h.api.count(Op::Create), 2);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_task_message_deleted_on_discord_is_orphaned_not_reposted() {
    let mut h = Harness::new();
    let id = task(&h);
    h.start();
    let first = h.until_state(SyncKind::Task, id, SyncState::Synced).await;
    let msg = h.api.message(TASKS, first.message_id.unwrap()).unwrap();
    assert_eq!(
        msg.body["allowed_mentions"],
        serde_json::json!({"parse": []})
    );
    h.api.delete_by_hand(TASKS, first.message_id.unwrap());
    h.services.tasks.close(G, id, &admin()).unwrap();
    let r = h.until_state(SyncKind::Task, id, SyncState::Orphaned).await;
    assert!(r.last_error.unwrap().contains("Unknown Message"));
    h.idle(Duration::from_secs(3600)).await;
    assert_eq!(h.api.count(Op::Create), 1, "no repost without an admin");
    h.services
        .guilds
        .repost_sync(G, SyncKind::Task, id, &admin())
        .unwrap();
    h.until_state(SyncKind::Task, id, SyncState::Synced).await;
    assert_eq!(h.api.count(Op::Create), 2);
    assert_eq!(h.api.messages(TASKS).len(), 1);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn missing_permissions_fails_in_words_and_waits_for_a_new_version() {
    for code in [
        codes::MISSING_PERMISSIONS,
        codes::MISSING_ACCESS,
        codes::UNKNOWN_CHANNEL,
    ] {
        let mut h = Harness::new();
        h.api.fail(Op::Create, [api_error(Some(403), Some(code))]);
        let id = h.item("Cape");
        h.start();
        let r = h
            .until_state(SyncKind::ShopItem, id, SyncState::Failed)
            .await;
        let reason = r.last_error.unwrap();
        assert!(reason.contains("channel 500"), "{reason}");
        h.idle(Duration::from_secs(3600)).await;
        assert_eq!(h.api.count(Op::Create), 1, "no retry loop ({code})");
        h.edit_item(
            id,
            ItemPatch {
                price: Some(12),
                ..ItemPatch::default()
            },
        );
        h.until_state(SyncKind::ShopItem, id, SyncState::Synced)
            .await;
        assert_eq!(h.api.count(Op::Create), 2);
        h.stop().await;
    }
}

#[tokio::test(start_paused = true)]
async fn an_admin_retry_clears_a_failure() {
    let mut h = Harness::new();
    h.api.fail(
        Op::Create,
        [api_error(Some(403), Some(codes::MISSING_PERMISSIONS))],
    );
    let id = h.item("Cape");
    h.start();
    let r = h
        .until_state(SyncKind::ShopItem, id, SyncState::Failed)
        .await;
    assert_eq!(
        r.last_error.as_deref(),
        Some("the bot cannot send messages in channel 500 (Missing Permissions)")
    );
    h.services
        .guilds
        .retry_sync(G, SyncKind::ShopItem, id, &admin())
        .unwrap();
    h.until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_429_is_retried_once_after_retry_after() {
    let mut h = Harness::new();
    h.api.fail(Op::Create, [rate_limited(1.0, false)]);
    let id = h.item("Cape");
    h.start();
    h.until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    let calls = h.api.calls();
    assert_eq!(calls.len(), 2);
    assert!(calls[1].at - calls[0].at >= Duration::from_secs(1));
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_global_429_pauses_every_call() {
    let mut h = Harness::new();
    h.api.fail(Op::Create, [rate_limited(5.0, true)]);
    let a = h.item("Cape");
    let b = h.item("Hat");
    h.start();
    h.until_state(SyncKind::ShopItem, a, SyncState::Synced)
        .await;
    h.until_state(SyncKind::ShopItem, b, SyncState::Synced)
        .await;
    let calls = h.api.calls();
    assert!(
        calls[1..]
            .iter()
            .all(|c| c.at - calls[0].at >= Duration::from_secs(5)),
        "{calls:?}"
    );
    assert_eq!(h.api.count(Op::Create), 3);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn server_errors_back_off_then_succeed() {
    let mut h = Harness::new();
    h.api.fail(
        Op::Create,
        [api_error(Some(500), None), api_error(Some(502), None)],
    );
    let id = h.item("Cape");
    h.start();
    h.until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    let calls = h.api.calls();
    assert_eq!(calls.len(), 3);
    let gaps = [calls[1].at - calls[0].at, calls[2].at - calls[1].at];
    assert!(
        gaps[0] >= Duration::from_millis(750) && gaps[0] <= Duration::from_secs(1),
        "{gaps:?}"
    );
    assert!(
        gaps[1] >= Duration::from_millis(1500) && gaps[1] <= Duration::from_secs(2),
        "{gaps:?}"
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn hiding_deletes_the_message_and_showing_posts_a_new_one() {
    let mut h = Harness::new();
    let id = h.item("Cape");
    h.start();
    let first = h
        .until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    h.edit_item(
        id,
        ItemPatch {
            visible: Some(false),
            ..ItemPatch::default()
        },
    );
    h.until("the message is gone", |h| h.api.messages(SHOP).is_empty())
        .await;
    let hidden = h
        .until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    assert_eq!(hidden.message_id, None);
    h.edit_item(
        id,
        ItemPatch {
            visible: Some(true),
            ..ItemPatch::default()
        },
    );
    h.until("posted again", |h| h.api.messages(SHOP).len() == 1)
        .await;
    let shown = h
        .until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    assert_ne!(shown.message_id, first.message_id);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn deleting_an_item_whose_message_is_already_gone_counts_as_done() {
    let mut h = Harness::new();
    let id = h.item("Cape");
    h.start();
    let r = h
        .until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    h.api.delete_by_hand(SHOP, r.message_id.unwrap());
    h.services.shop.delete_item(G, id, &admin()).unwrap();
    h.until("the record is dropped", |h| {
        h.record(SyncKind::ShopItem, id).is_none()
    })
    .await;
    assert_eq!(h.api.count(Op::Delete), 1);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_pinned_announcement_is_posted_pinned_and_moves_with_its_channel() {
    let mut h = Harness::new();
    let new = crate::domain::announce::NewAnnouncement {
        title: "News".into(),
        content: "Hello @everyone".into(),
        channel: Some(ChannelId(700)),
        pinned: true,
        ..Default::default()
    };
    let a = h.services.announce.create(G, new, &admin()).unwrap();
    h.start();
    let r = h
        .until_state(SyncKind::Announcement, a.id, SyncState::Synced)
        .await;
    let msg = h
        .api
        .message(ChannelId(700), r.message_id.unwrap())
        .unwrap();
    assert!(msg.pinned);
    assert_eq!(
        msg.body["allowed_mentions"],
        serde_json::json!({"parse": []})
    );
    let patch = crate::domain::announce::AnnouncementPatch {
        channel: Some(ChannelId(701)),
        ..Default::default()
    };
    h.services.announce.edit(G, a.id, patch, &admin()).unwrap();
    h.until("moved", |h| h.api.messages(ChannelId(701)).len() == 1)
        .await;
    assert!(h.api.messages(ChannelId(700)).is_empty());
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_channel_is_parked_not_hammered() {
    let mut h = Harness::new();
    h.api.fail(
        Op::Create,
        [api_error(Some(403), Some(codes::MISSING_PERMISSIONS))],
    );
    let ids: Vec<u64> = (0..10).map(|i| h.item(&format!("Item {i}"))).collect();
    h.start();
    h.until("all failed", |h| {
        ids.iter().all(|id| {
            h.record(SyncKind::ShopItem, *id)
                .is_some_and(|r| r.state == SyncState::Failed)
        })
    })
    .await;
    assert_eq!(h.api.count(Op::Create), 1, "one call for the whole channel");
    let r = h.record(SyncKind::ShopItem, ids[9]).unwrap();
    assert_eq!(
        r.last_error.as_deref(),
        Some("the bot cannot send messages in channel 500 (Missing Permissions)")
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_request_without_answer_times_out_and_is_retried() {
    let mut h = Harness::new();
    h.api.hang(Op::Create, 1);
    let id = h.item("Cape");
    h.start();
    h.until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    let calls = h.api.calls();
    assert_eq!(calls.len(), 2);
    assert!(
        calls[1].at - calls[0].at >= Duration::from_secs(10),
        "after the 10 s timeout"
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_new_shop_channel_moves_the_item_messages() {
    let mut h = Harness::new();
    let id = h.item("Cape");
    let t = task(&h);
    h.start();
    h.until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    h.until_state(SyncKind::Task, t, SyncState::Synced).await;
    h.services
        .guilds
        .set_channel(
            G,
            crate::guild::ChannelSlot::Shop,
            Some(ChannelId(501)),
            &admin(),
        )
        .unwrap();
    h.until("moved", |h| h.api.messages(ChannelId(501)).len() == 1)
        .await;
    let r = h
        .until_state(SyncKind::ShopItem, id, SyncState::Synced)
        .await;
    assert!(h.api.messages(SHOP).is_empty());
    assert_eq!(r.posted_channel, Some(ChannelId(501)));
    assert_eq!(
        h.api.messages(TASKS).len(),
        1,
        "the task channel did not change"
    );
    assert_eq!(h.api.count(Op::Create), 3);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_announcement_is_posted_at_its_time_not_before() {
    let mut h = Harness::new();
    let at = h.services.now() + chrono::Duration::hours(1);
    let new = crate::domain::announce::NewAnnouncement {
        title: "Later".into(),
        content: "Soon".into(),
        channel: Some(ChannelId(700)),
        scheduled_at: Some(at),
        ..Default::default()
    };
    let a = h.services.announce.create(G, new, &admin()).unwrap();
    let start = tokio::time::Instant::now();
    h.start();
    h.until_state(SyncKind::Announcement, a.id, SyncState::Synced)
        .await;
    let calls = h.api.calls();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0].at - start >= Duration::from_secs(3600),
        "{:?}",
        calls[0].at - start
    );
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn stopping_does_not_wait_out_a_long_global_pause_and_a_restart_finishes_the_work() {
    let mut h = Harness::new();
    h.api.fail(Op::Create, [rate_limited(3600.0, true)]);
    let a = h.item("Cape");
    let b = h.item("Hat");
    h.start();
    let mut made = h.api.calls_made();
    made.wait_for(|n| *n >= 1).await.unwrap();
    let start = tokio::time::Instant::now();
    h.stop().await;
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{:?}",
        start.elapsed()
    );
    h.start();
    h.until_state(SyncKind::ShopItem, a, SyncState::Synced)
        .await;
    h.until_state(SyncKind::ShopItem, b, SyncState::Synced)
        .await;
    assert_eq!(h.api.messages(SHOP).len(), 2);
    h.stop().await;
}

fn announce_in(h: &Harness, channel: u64) -> u64 {
    let new = crate::domain::announce::NewAnnouncement {
        title: "News".into(),
        content: "Hello".into(),
        channel: Some(ChannelId(channel)),
        ..Default::default()
    };
    h.services.announce.create(G, new, &admin()).unwrap().id
}

#[tokio::test(start_paused = true)]
async fn a_server_that_fails_in_several_channels_is_parked_for_the_pass() {
    let mut h = Harness::new();
    h.api
        .fail(Op::Create, (0..3).map(|_| api_error(Some(503), None)));
    let ids: Vec<u64> = (0..6).map(|c| announce_in(&h, 900 + c)).collect();
    h.start();
    h.until("a pass has run", |h| {
        ids.iter().all(|id| {
            h.record(SyncKind::Announcement, *id)
                .is_some_and(|r| r.attempts > 0 || r.state == SyncState::Synced)
        })
    })
    .await;
    assert_eq!(
        h.api.count(Op::Create),
        3,
        "three channels failed, the other three waited"
    );
    let waiting = h.record(SyncKind::Announcement, ids[5]).unwrap();
    assert!(
        waiting
            .last_error
            .as_deref()
            .unwrap()
            .contains("several channels"),
        "{waiting:?}"
    );
    // The next passes post them all.
    for id in &ids {
        h.until_state(SyncKind::Announcement, *id, SyncState::Synced)
            .await;
    }
    assert_eq!(h.api.count(Op::Create), 9);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn unknown_guild_fails_every_record_of_the_server_after_one_call() {
    let mut h = Harness::new();
    h.api.fail(
        Op::Create,
        [api_error(Some(404), Some(codes::UNKNOWN_GUILD))],
    );
    let ids: Vec<u64> = (0..4).map(|c| announce_in(&h, 900 + c)).collect();
    h.start();
    for id in &ids {
        let r = h
            .until_state(SyncKind::Announcement, *id, SyncState::Failed)
            .await;
        assert!(
            r.last_error.unwrap().contains("not in this server"),
            "every record says why"
        );
    }
    assert_eq!(h.api.count(Op::Create), 1);
    h.stop().await;
}

#[tokio::test(start_paused = true)]
async fn nothing_is_sent_to_a_server_coffer_has_left() {
    let mut h = Harness::new();
    h.services.guilds.mark_left(G).unwrap();
    let id = announce_in(&h, 900);
    h.start();
    h.idle(Duration::from_secs(60)).await;
    assert!(h.api.calls().is_empty(), "{:?}", h.api.calls());
    assert_eq!(
        h.record(SyncKind::Announcement, id).unwrap().state,
        SyncState::Pending
    );
    h.stop().await;
    h.services.guilds.mark_joined(G).unwrap();
    h.start();
    h.until_state(SyncKind::Announcement, id, SyncState::Synced)
        .await;
    h.stop().await;
}
