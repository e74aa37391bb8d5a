//! The DM sender through the loop and the fake: a notice owed by a review is delivered once,
//! a closed DM is recorded as failed without a retry, and a server error is retried.

use super::fake::{api_error, Op};
use super::{Harness, G};
use crate::domain::UserId;
use crate::guild::NoticeState;
use crate::sync::api::codes;

#[tokio::test(start_paused = true)]
async fn notices_are_sent_once_closed_dms_fail_in_words_and_server_errors_retry() {
    let mut h = Harness::new();
    h.api.fail(
        Op::Dm,
        [
            api_error(Some(502), None),
            api_error(Some(403), Some(codes::CANNOT_DM)),
        ],
    );
    h.ts.store
        .write(G, |w| {
            w.record_notice(UserId(1), "task:1 accepted", "✅ accepted @everyone")?;
            w.record_notice(UserId(2), "task:1 rejected", "❌ rejected")?;
            Ok::<_, crate::Error>(())
        })
        .unwrap();
    h.start();
    h.until("both notices settled", |h| {
        h.services.guilds.notices(G, true).unwrap().is_empty()
    })
    .await;
    let notices = h.services.guilds.notices(G, false).unwrap();
    // The first call (user 1) met the 502 and was retried; the closed DM (user 2) was not.
    assert_eq!(notices[0].state, NoticeState::Sent);
    assert_eq!(notices[1].state, NoticeState::Failed);
    assert!(notices[1]
        .error
        .as_deref()
        .unwrap()
        .contains("does not accept direct messages"));
    let dms = h.api.dms();
    assert_eq!(dms.len(), 1, "one delivery: {dms:?}");
    assert_eq!(dms[0].0, UserId(1));
    assert_eq!(dms[0].1["allowed_mentions"]["parse"], serde_json::json!([]));
    assert_eq!(h.api.count(Op::Dm), 3, "502, retry, closed DM");
    h.stop().await;
    // A restart sends nothing again.
    h.start();
    let mut passes = 0;
    h.until("a pass after the restart", |_| {
        passes += 1;
        passes > 1
    })
    .await;
    assert_eq!(h.api.count(Op::Dm), 3);
    h.stop().await;
}
