//! The DMs a claim's outcome owes its member, in plain words (no mentions): recorded by the
//! review and sweep writes, sent by the sync worker for both doors alike.

use chrono::{DateTime, Utc};

use crate::domain::tasks::Task;
use crate::domain::GuildConfig;

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn accepted(cfg: &GuildConfig, task: &Task) -> String {
    format!(
        "✅ Your submission for **{}** was accepted! You earned {}.",
        task.name,
        cfg.fmt_amount(task.reward.get())
    )
}

pub fn rejected(task: &Task, reason: &str, deadline: DateTime<Utc>) -> String {
    format!(
        "❌ Your submission for **{}** was rejected: {reason}\n\
         You can fix it and submit again with `/task_submit` before {}.",
        task.name,
        when(deadline)
    )
}

pub fn expired(task_name: &str) -> String {
    format!("⌛ Your claim on **{task_name}** expired: its deadline passed before it was accepted.")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{admin, fx, member, G};
    use crate::domain::UserId;
    use crate::guild::{Guilds, NoticeState};

    #[test]
    fn reviews_and_expiry_owe_the_member_a_plain_dm_whichever_door_acted() {
        let f = fx();
        let guilds = Guilds::new(f.ts.store.clone());
        let t = f.create("Logo", 100, -1);
        f.claim_and_submit(t.id, 1);
        f.tasks
            .reject(G, t.id, UserId(1), "blurry", &admin())
            .unwrap();
        f.tasks
            .submit(G, t.id, UserId(1), super::super::tests::proof(), &member(1))
            .unwrap();
        f.tasks.accept(G, t.id, UserId(1), &admin()).unwrap();
        f.tasks.claim(G, t.id, UserId(2), &member(2)).unwrap();
        f.advance(chrono::Duration::days(30));
        f.tasks.sweep(G).unwrap();
        let notices = guilds.notices(G, false).unwrap();
        let got: Vec<(u64, &str)> = notices
            .iter()
            .map(|n| (n.user.get(), n.about.as_str()))
            .collect();
        let want = [
            (1, format!("task:{} rejected", t.id)),
            (1, format!("task:{} accepted", t.id)),
            (2, format!("task:{} expired", t.id)),
        ];
        assert_eq!(
            got,
            want.iter()
                .map(|(u, a)| (*u, a.as_str()))
                .collect::<Vec<_>>()
        );
        assert!(notices[0].text.contains("blurry"));
        assert!(notices[1].text.contains("100"), "{}", notices[1].text);
        assert!(notices
            .iter()
            .all(|n| !n.text.contains("<@") && n.state == NoticeState::Pending));
        let pending = guilds.pending_notices_everywhere().unwrap();
        assert_eq!(pending.len(), 3);
        guilds
            .finish_notice(G, notices[0].id, Err("DMs closed".into()))
            .unwrap();
        guilds.finish_notice(G, notices[1].id, Ok(())).unwrap();
        assert_eq!(guilds.pending_notices_everywhere().unwrap().len(), 1);
    }
}
