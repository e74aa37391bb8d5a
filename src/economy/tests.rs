//! Unit tests for every economy rule, on a temp store with a settable clock.

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::domain::{DailyReset, DomainError, GuildConfig, Money, Source, TxKind, UserId};
use crate::events::{EventFilter, EventKind};
use crate::store::accounts::NewEntry;
use crate::testing::{self, TestStore};

const G: GuildId = GuildId(1);
const A: UserId = UserId(10);
const B: UserId = UserId(20);

fn setup(cfg: GuildConfig) -> (TestStore, Economy) {
    let ts = testing::store_with(cfg);
    let eco = Economy::new(ts.store.clone());
    (ts, eco)
}

fn no_limit() -> GuildConfig {
    GuildConfig {
        rate_limit_per_minute: 0,
        ..GuildConfig::default()
    }
}

fn meta(u: UserId) -> OpMeta {
    OpMeta::user(u, Source::DiscordCommand)
}

fn admin() -> OpMeta {
    OpMeta::user(UserId(999), Source::DiscordCommand)
}

fn give(eco: &Economy, u: UserId, amount: i64) {
    eco.adjust(G, u, Adjustment::Add(Money::new(amount)), "test", &admin())
        .unwrap();
}

fn balance(eco: &Economy, u: UserId) -> i64 {
    eco.find_account(G, u)
        .unwrap()
        .map(|a| a.balance.get())
        .unwrap_or(0)
}

fn ledger_len(eco: &Economy) -> u64 {
    eco.transactions(G, &TxFilter::default()).unwrap().total
}

fn domain(e: crate::error::Error) -> DomainError {
    e.domain()
        .cloned()
        .unwrap_or_else(|| panic!("expected a domain error, got {e:?}"))
}

#[test]
fn daily_pays_once_and_names_the_next_claim_time() {
    let (ts, eco) = setup(no_limit());
    let out = eco.daily(G, A, &meta(A)).unwrap();
    assert_eq!(out.amount.get(), 100);
    assert_eq!(out.balance.get(), 100);
    assert_eq!(out.next_claim_at, testing::t0() + Duration::hours(24));
    let err = domain(eco.daily(G, A, &meta(A)).unwrap_err());
    assert_eq!(
        err,
        DomainError::OnCooldown {
            until: testing::t0() + Duration::hours(24),
            now: testing::t0()
        }
    );
    assert!(err.to_string().contains("2026-03-02 12:00:00 UTC"), "{err}");
    assert_eq!(balance(&eco, A), 100);
    assert_eq!(ledger_len(&eco), 1);
    drop(ts);
}

#[test]
fn rolling_cooldown_edges_one_second_before_at_and_after() {
    for (offset, ok) in [(-1i64, false), (0, true), (1, true)] {
        let (ts, eco) = setup(no_limit());
        eco.daily(G, A, &meta(A)).unwrap();
        ts.clock
            .advance(Duration::hours(24) + Duration::seconds(offset));
        assert_eq!(eco.daily(G, A, &meta(A)).is_ok(), ok, "offset {offset}");
    }
}

#[test]
fn utc_midnight_reset_opens_at_midnight_exactly() {
    let cfg = GuildConfig {
        daily_reset: DailyReset::UtcMidnight,
        ..no_limit()
    };
    let late = Utc.with_ymd_and_hms(2026, 3, 1, 23, 59, 59).unwrap();
    let midnight = Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap();
    for (at, ok) in [
        (midnight - Duration::seconds(1), false),
        (midnight, true),
        (midnight + Duration::seconds(1), true),
    ] {
        let (ts, eco) = setup(cfg.clone());
        ts.clock.set(late - Duration::hours(1));
        let first = eco.daily(G, A, &meta(A)).unwrap();
        assert_eq!(first.next_claim_at, midnight);
        ts.clock.set(at);
        assert_eq!(eco.daily(G, A, &meta(A)).is_ok(), ok, "at {at}");
    }
}

#[test]
fn daily_amount_and_cooldown_come_from_guild_config() {
    let cfg = GuildConfig {
        daily_amount: 250,
        daily_cooldown_hours: 2,
        ..no_limit()
    };
    let (ts, eco) = setup(cfg);
    assert_eq!(eco.daily(G, A, &meta(A)).unwrap().amount.get(), 250);
    ts.clock.advance(Duration::hours(2));
    assert_eq!(eco.daily(G, A, &meta(A)).unwrap().balance.get(), 500);
}

#[test]
fn new_accounts_start_with_the_starting_balance_as_an_initial_entry() {
    let (_ts, eco) = setup(GuildConfig {
        starting_balance: 50,
        ..no_limit()
    });
    let acct = eco.account(G, A).unwrap();
    assert_eq!(acct.balance.get(), 50);
    let page = eco.history(G, A, 1, 10).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].kind, TxKind::Initial);
    assert_eq!(page.items[0].amount.get(), 50);
    assert!(eco.validate_user(G, A).unwrap().ok);
}

#[test]
fn transfer_moves_money_and_writes_both_legs() {
    let (_ts, eco) = setup(no_limit());
    give(&eco, A, 300);
    let out = eco.transfer(G, A, B, Money::new(120), &meta(A)).unwrap();
    assert_eq!(
        (out.sender_balance.get(), out.receiver_balance.get()),
        (180, 120)
    );
    assert_eq!(out.transaction_ids.len(), 2);
    let send = eco.transaction(G, out.transaction_ids[0]).unwrap();
    let recv = eco.transaction(G, out.transaction_ids[1]).unwrap();
    assert_eq!((send.kind, send.amount.get()), (TxKind::TransferSend, -120));
    assert_eq!(
        (recv.kind, recv.amount.get()),
        (TxKind::TransferReceive, 120)
    );
    assert_eq!(send.group, recv.group);
    assert!(eco.validate_guild(G).unwrap().ok);
}

#[test]
fn transfer_legs_keep_the_counterparty_in_metadata_and_describe_it_in_plain_text() {
    let (ts, eco) = setup(no_limit());
    ts.store
        .write(G, |w| {
            w.put_member(&crate::store::directory::MemberInfo {
                user: B,
                name: "bob".into(),
                display_name: Some("Bobby".into()),
                avatar_url: None,
                seen_at: w.now,
            })
        })
        .unwrap();
    give(&eco, A, 300);
    let out = eco.transfer(G, A, B, Money::new(120), &meta(A)).unwrap();
    let send = eco.transaction(G, out.transaction_ids[0]).unwrap();
    let recv = eco.transaction(G, out.transaction_ids[1]).unwrap();
    assert_eq!(send.metadata["counterparty"], serde_json::json!("20"));
    assert_eq!(recv.metadata["counterparty"], serde_json::json!("10"));
    // B's username is known, A has never been seen: the id alone.
    assert_eq!(send.description, "Sent to bob (user 20)");
    assert_eq!(recv.description, "Received from user 10");
}

#[test]
fn transfer_with_too_little_money_says_how_much_and_moves_nothing() {
    let (_ts, eco) = setup(no_limit());
    give(&eco, A, 120);
    let before = ledger_len(&eco);
    let err = domain(
        eco.transfer(G, A, B, Money::new(250), &meta(A))
            .unwrap_err(),
    );
    assert_eq!(err.to_string(), "You need 250 coins but have 120.");
    assert_eq!((balance(&eco, A), balance(&eco, B)), (120, 0));
    assert_eq!(ledger_len(&eco), before);
}

#[test]
fn transfer_refuses_self_zero_negative_and_too_large_amounts() {
    let (_ts, eco) = setup(no_limit());
    give(&eco, A, 100);
    assert_eq!(
        domain(eco.transfer(G, A, A, Money::new(5), &meta(A)).unwrap_err()),
        DomainError::SelfTransfer
    );
    for bad in [0, -5, crate::domain::MAX_AMOUNT + 1, i64::MAX, i64::MIN] {
        let err = domain(
            eco.transfer(G, A, B, Money::new(bad), &meta(A))
                .unwrap_err(),
        );
        assert!(
            matches!(err, DomainError::InvalidAmount(_)),
            "{bad}: {err:?}"
        );
    }
    assert_eq!(balance(&eco, A), 100);
    assert_eq!(ledger_len(&eco), 1);
}

#[test]
fn transfer_refuses_when_the_receiver_would_overflow_i64() {
    let (ts, eco) = setup(no_limit());
    give(&eco, A, 100);
    // Only a direct store write can get a balance this high; the API caps amounts far lower.
    ts.store
        .write(G, |w| {
            w.append_entry(NewEntry::new(
                B,
                Money::new(i64::MAX - 10),
                TxKind::Import,
                "seed",
            ))
        })
        .unwrap();
    let before = ledger_len(&eco);
    let err = domain(eco.transfer(G, A, B, Money::new(11), &meta(A)).unwrap_err());
    assert_eq!(err, DomainError::BalanceOverflow);
    assert_eq!(balance(&eco, A), 100);
    assert_eq!(balance(&eco, B), i64::MAX - 10);
    assert_eq!(ledger_len(&eco), before);
    // Exactly to i64::MAX is fine.
    eco.transfer(G, A, B, Money::new(10), &meta(A)).unwrap();
    assert_eq!(balance(&eco, B), i64::MAX);
}

#[test]
fn transfer_tax_is_paid_by_the_sender_and_burned_as_its_own_entry() {
    let (_ts, eco) = setup(GuildConfig {
        transfer_tax_percent: 5,
        ..no_limit()
    });
    give(&eco, A, 1000);
    let out = eco.transfer(G, A, B, Money::new(100), &meta(A)).unwrap();
    assert_eq!(out.tax.get(), 5);
    assert_eq!((balance(&eco, A), balance(&eco, B)), (895, 100));
    let tax = eco.transaction(G, out.transaction_ids[2]).unwrap();
    assert_eq!(
        (tax.kind, tax.amount.get(), tax.user),
        (TxKind::TransferTax, -5, A)
    );
    let stats = eco.statistics(G, Period::All, None).unwrap();
    assert_eq!(stats.total_currency, 995);
    // The tax counts toward what the sender needs.
    let err = domain(
        eco.transfer(G, A, B, Money::new(895), &meta(A))
            .unwrap_err(),
    );
    assert_eq!(err.to_string(), "You need 939 coins but have 895.");
}

#[test]
fn transfer_limits_per_transfer_per_day_and_account_age() {
    let (ts, eco) = setup(GuildConfig {
        max_transfer: Some(100),
        max_transfer_per_day: Some(150),
        ..no_limit()
    });
    give(&eco, A, 1000);
    let err = domain(
        eco.transfer(G, A, B, Money::new(101), &meta(A))
            .unwrap_err(),
    );
    assert!(
        err.to_string().contains("at most 100 coins at once"),
        "{err}"
    );
    eco.transfer(G, A, B, Money::new(100), &meta(A)).unwrap();
    let err = domain(eco.transfer(G, A, B, Money::new(51), &meta(A)).unwrap_err());
    assert!(err.to_string().contains("you can still send 50"), "{err}");
    eco.transfer(G, A, B, Money::new(50), &meta(A)).unwrap();
    ts.clock.advance(Duration::hours(24) + Duration::seconds(1));
    eco.transfer(G, A, B, Money::new(100), &meta(A)).unwrap();
    assert_eq!(balance(&eco, B), 250);

    let (ts, eco) = setup(GuildConfig {
        min_account_age_hours: 48,
        ..no_limit()
    });
    give(&eco, A, 100);
    let err = domain(eco.transfer(G, A, B, Money::new(10), &meta(A)).unwrap_err());
    assert!(matches!(err, DomainError::LimitExceeded(_)), "{err:?}");
    assert!(err.to_string().contains("New accounts"), "{err}");
    ts.clock.advance(Duration::hours(48));
    eco.transfer(G, A, B, Money::new(10), &meta(A)).unwrap();
}

#[test]
fn an_idempotency_key_is_applied_once_and_replays_the_first_result() {
    let (_ts, eco) = setup(no_limit());
    give(&eco, A, 500);
    let m = meta(A).with_key(crate::testing::key("interaction-1"));
    let first = eco.transfer(G, A, B, Money::new(100), &m).unwrap();
    let again = eco.transfer(G, A, B, Money::new(100), &m).unwrap();
    assert_eq!(first, again);
    assert_eq!((balance(&eco, A), balance(&eco, B)), (400, 100));
    let d1 = eco
        .daily(
            G,
            A,
            &meta(A).with_key(crate::testing::key("interaction-2")),
        )
        .unwrap();
    let d2 = eco
        .daily(
            G,
            A,
            &meta(A).with_key(crate::testing::key("interaction-2")),
        )
        .unwrap();
    assert_eq!(d1, d2);
    // The same key for another operation is refused.
    let err = domain(
        eco.daily(
            G,
            A,
            &meta(A).with_key(crate::testing::key("interaction-1")),
        )
        .unwrap_err(),
    );
    assert_eq!(err, DomainError::IdempotencyKeyReused);
    // Keys are per guild.
    let other = GuildId(2);
    eco.adjust(other, A, Adjustment::Add(Money::new(5)), "", &admin())
        .unwrap();
    eco.transfer(other, A, B, Money::new(5), &m).unwrap();
    assert_eq!(
        eco.find_account(other, B).unwrap().unwrap().balance.get(),
        5
    );
}

#[test]
fn a_failed_operation_does_not_burn_its_idempotency_key() {
    let (_ts, eco) = setup(no_limit());
    let m = meta(A).with_key(crate::testing::key("k"));
    assert!(eco.transfer(G, A, B, Money::new(100), &m).is_err());
    give(&eco, A, 100);
    eco.transfer(G, A, B, Money::new(100), &m).unwrap();
    assert_eq!(balance(&eco, B), 100);
}

#[test]
fn rate_limit_refuses_the_sixth_op_in_a_minute_and_says_when() {
    let (ts, eco) = setup(GuildConfig::default());
    give(&eco, A, 1000);
    for _ in 0..5 {
        eco.transfer(G, A, B, Money::new(1), &meta(A)).unwrap();
    }
    ts.clock.advance(Duration::seconds(20));
    let err = domain(eco.transfer(G, A, B, Money::new(1), &meta(A)).unwrap_err());
    assert_eq!(
        err,
        DomainError::RateLimited {
            retry_after_secs: 40
        }
    );
    assert_eq!(err.to_string(), "Slow down: try again in 40 s.");
    // Admin operations are not limited.
    for _ in 0..10 {
        give(&eco, A, 1);
    }
    ts.clock.advance(Duration::seconds(40));
    eco.transfer(G, A, B, Money::new(1), &meta(A)).unwrap();
}

#[test]
fn refused_operations_and_replays_do_not_use_up_the_rate_limit() {
    let (_ts, eco) = setup(GuildConfig {
        rate_limit_per_minute: 2,
        ..GuildConfig::default()
    });
    for _ in 0..5 {
        assert!(eco.transfer(G, A, B, Money::new(1000), &meta(A)).is_err());
    }
    give(&eco, A, 10);
    let m = meta(A).with_key(crate::testing::key("same"));
    for _ in 0..5 {
        eco.transfer(G, A, B, Money::new(1), &m).unwrap();
    }
    eco.transfer(G, A, B, Money::new(1), &meta(A)).unwrap();
    assert!(eco.transfer(G, A, B, Money::new(1), &meta(A)).is_err());
    assert_eq!(balance(&eco, B), 2);
}

#[test]
fn admin_add_remove_set_write_one_entry_each_with_reason_and_actor() {
    let (_ts, eco) = setup(no_limit());
    let m = OpMeta {
        actor: crate::domain::Actor::Dashboard("root".into()),
        source: Source::Dashboard,
        idempotency_key: None,
    };
    let add = eco
        .adjust(G, A, Adjustment::Add(Money::new(70)), "event prize", &m)
        .unwrap();
    let tx = add.transaction.unwrap();
    assert_eq!((tx.kind, tx.amount.get()), (TxKind::AdminAdd, 70));
    assert_eq!(tx.actor, crate::domain::Actor::Dashboard("root".into()));
    assert!(tx.description.contains("event prize"));
    let rm = eco
        .adjust(G, A, Adjustment::Remove(Money::new(20)), "", &m)
        .unwrap();
    assert_eq!(rm.balance.get(), 50);
    let err = domain(
        eco.adjust(G, A, Adjustment::Remove(Money::new(51)), "", &m)
            .unwrap_err(),
    );
    assert_eq!(
        err,
        DomainError::RemoveExceedsBalance {
            user: A,
            balance: Money::new(50),
            currency: "coins".into(),
        }
    );
    assert!(!err.to_string().contains("<@"), "{err}");
    let set = eco
        .adjust(G, A, Adjustment::Set(Money::new(10)), "", &m)
        .unwrap();
    assert_eq!(set.transaction.as_ref().unwrap().amount.get(), -40);
    assert_eq!(set.transaction.unwrap().kind, TxKind::AdminSet);
    let same = eco
        .adjust(G, A, Adjustment::Set(Money::new(10)), "", &m)
        .unwrap();
    assert!(same.transaction.is_none());
    assert_eq!(ledger_len(&eco), 3);
    let audit = testing::audit_actions(&_ts, G);
    assert_eq!(audit, vec!["balance.set", "balance.remove", "balance.add"]);
    assert!(eco
        .adjust(G, A, Adjustment::Add(Money::new(0)), "", &m)
        .is_err());
    assert!(eco
        .adjust(G, A, Adjustment::Set(Money::new(-1)), "", &m)
        .is_err());
    assert!(eco
        .adjust(G, A, Adjustment::Add(Money::new(1)), &"x".repeat(501), &m)
        .is_err());
}

#[test]
fn reversing_a_transfer_refunds_every_leg_once() {
    let (_ts, eco) = setup(GuildConfig {
        transfer_tax_percent: 10,
        ..no_limit()
    });
    give(&eco, A, 1000);
    let out = eco.transfer(G, A, B, Money::new(100), &meta(A)).unwrap();
    assert_eq!((balance(&eco, A), balance(&eco, B)), (890, 100));
    // Reversing via the receive leg undoes the whole transfer, tax included.
    let rev = eco
        .reverse(G, out.transaction_ids[1], "mistake", &admin())
        .unwrap();
    assert_eq!(rev.reversed, out.transaction_ids);
    assert_eq!(rev.refunds.len(), 3);
    assert!(rev
        .refunds
        .iter()
        .all(|r| r.kind == TxKind::Refund && r.reverses.is_some()));
    assert_eq!((balance(&eco, A), balance(&eco, B)), (1000, 0));
    // History is kept: the original entries are still there, unchanged.
    assert_eq!(
        eco.transaction(G, out.transaction_ids[0])
            .unwrap()
            .amount
            .get(),
        -100
    );
    let err = domain(
        eco.reverse(G, out.transaction_ids[0], "", &admin())
            .unwrap_err(),
    );
    assert!(
        matches!(err, DomainError::AlreadyReversed { .. }),
        "{err:?}"
    );
    let err = domain(eco.reverse(G, rev.refunds[0].id, "", &admin()).unwrap_err());
    assert!(matches!(err, DomainError::Refused(_)), "{err:?}");
    assert!(matches!(
        domain(eco.reverse(G, 9999, "", &admin()).unwrap_err()),
        DomainError::NotFound(_)
    ));
    assert!(eco.validate_guild(G).unwrap().ok);
}

#[test]
fn a_reversal_that_would_go_negative_is_refused_and_changes_nothing() {
    let (_ts, eco) = setup(no_limit());
    give(&eco, A, 100);
    let out = eco.transfer(G, A, B, Money::new(100), &meta(A)).unwrap();
    eco.transfer(G, B, UserId(30), Money::new(60), &meta(B))
        .unwrap();
    let before = ledger_len(&eco);
    let err = domain(
        eco.reverse(G, out.transaction_ids[0], "", &admin())
            .unwrap_err(),
    );
    assert_eq!(
        err,
        DomainError::ReversalWouldGoNegative {
            transaction: out.transaction_ids[1],
            user: B,
        }
    );
    assert!(err.to_string().contains("negative"), "{err}");
    assert_eq!((balance(&eco, A), balance(&eco, B)), (0, 40));
    assert_eq!(ledger_len(&eco), before);
    assert!(_ts
        .store
        .read(G, |r| r.reversal_of(out.transaction_ids[0]))
        .unwrap()
        .is_none());
}

#[test]
fn leaderboard_ranks_active_accounts_and_pages() {
    let (_ts, eco) = setup(no_limit());
    for (u, amt) in [(1, 50), (2, 300), (3, 300), (4, 10), (5, 999)] {
        give(&eco, UserId(u), amt);
    }
    eco.set_active(G, UserId(5), false, &crate::domain::Actor::System.into())
        .unwrap();
    let p1 = eco.leaderboard(G, 1, 2).unwrap();
    assert_eq!(p1.total, 4);
    let users: Vec<u64> = p1.items.iter().map(|e| e.user.0).collect();
    assert_eq!(users, vec![2, 3]);
    assert_eq!(p1.items[1].rank, 2);
    let p2 = eco.leaderboard(G, 2, 2).unwrap();
    assert_eq!(
        p2.items
            .iter()
            .map(|e| (e.rank, e.user.0))
            .collect::<Vec<_>>(),
        vec![(3, 1), (4, 4)]
    );
    assert!(eco.leaderboard(G, 3, 2).unwrap().items.is_empty());
    eco.set_active(G, UserId(5), true, &crate::domain::Actor::System.into())
        .unwrap();
    assert_eq!(eco.leaderboard(G, 1, 1).unwrap().items[0].user, UserId(5));
}

#[test]
fn history_is_the_users_own_entries_newest_first() {
    let (ts, eco) = setup(no_limit());
    give(&eco, A, 100);
    ts.clock.advance(Duration::minutes(1));
    eco.transfer(G, A, B, Money::new(30), &meta(A)).unwrap();
    ts.clock.advance(Duration::minutes(1));
    eco.daily(G, A, &meta(A)).unwrap();
    let h = eco.history(G, A, 1, 2).unwrap();
    assert_eq!(h.total, 3);
    assert_eq!(
        h.items.iter().map(|t| t.kind).collect::<Vec<_>>(),
        vec![TxKind::Daily, TxKind::TransferSend]
    );
    let h2 = eco.history(G, A, 2, 2).unwrap();
    assert_eq!(h2.items[0].kind, TxKind::AdminAdd);
    assert!(eco
        .history(G, B, 1, 10)
        .unwrap()
        .items
        .iter()
        .all(|t| t.user == B));
}

#[test]
fn transaction_list_filters_by_user_kind_dates_and_sorts() {
    let (ts, eco) = setup(no_limit());
    give(&eco, A, 500);
    ts.clock.advance(Duration::hours(1));
    let mid = ts.store.now();
    eco.transfer(G, A, B, Money::new(40), &meta(A)).unwrap();
    ts.clock.advance(Duration::hours(1));
    eco.daily(G, B, &meta(B)).unwrap();
    let all = eco.transactions(G, &TxFilter::default()).unwrap();
    assert_eq!(all.total, 4);
    assert!(all.items.windows(2).all(|w| w[0].id > w[1].id));
    let f = TxFilter {
        user: Some(B),
        ..TxFilter::default()
    };
    assert_eq!(eco.transactions(G, &f).unwrap().total, 2);
    let f = TxFilter {
        kinds: vec![TxKind::Daily, TxKind::AdminAdd],
        ..TxFilter::default()
    };
    assert_eq!(eco.transactions(G, &f).unwrap().total, 2);
    let f = TxFilter {
        from: Some(mid),
        to: Some(mid + Duration::minutes(30)),
        ..TxFilter::default()
    };
    let page = eco.transactions(G, &f).unwrap();
    assert_eq!(
        page.items.iter().map(|t| t.kind).collect::<Vec<_>>(),
        vec![TxKind::TransferReceive, TxKind::TransferSend]
    );
    let f = TxFilter {
        sort: TxSort::AmountDesc,
        limit: 2,
        offset: 1,
        ..TxFilter::default()
    };
    let page = eco.transactions(G, &f).unwrap();
    assert_eq!(
        page.items
            .iter()
            .map(|t| t.amount.get())
            .collect::<Vec<_>>(),
        vec![100, 40]
    );
    let f = TxFilter {
        sort: TxSort::OldestFirst,
        limit: 1,
        offset: 1,
        ..TxFilter::default()
    };
    assert_eq!(
        eco.transactions(G, &f).unwrap().items[0].kind,
        TxKind::TransferSend
    );
}

#[test]
fn statistics_sum_earned_spent_and_top_earners_per_period() {
    let (ts, eco) = setup(no_limit());
    give(&eco, A, 500);
    ts.clock.advance(Duration::days(10));
    give(&eco, B, 70);
    eco.transfer(G, A, B, Money::new(100), &meta(A)).unwrap();
    let week = eco.statistics(G, Period::Week, None).unwrap();
    assert_eq!((week.earned, week.spent, week.count), (170, 100, 3));
    assert_eq!(week.net, 70);
    assert_eq!(week.top_earners, vec![(B, 70)]);
    assert_eq!(week.total_currency, 570);
    let all = eco.statistics(G, Period::All, None).unwrap();
    assert_eq!(all.count, 4);
    assert_eq!(all.top_earners[0], (A, 500));
    assert_eq!(all.by_kind["admin_add"].sum, 570);
    let mine = eco.statistics(G, Period::All, Some(A)).unwrap();
    assert_eq!(
        (mine.earned, mine.spent, mine.total_currency),
        (500, 100, 400)
    );
    assert!(Period::parse("fortnight").is_err());
}

#[test]
fn validation_reports_a_stored_balance_that_disagrees_with_the_ledger() {
    let (ts, eco) = setup(no_limit());
    give(&eco, A, 100);
    give(&eco, B, 5);
    assert!(eco.validate_guild(G).unwrap().ok);
    let path = ts.store.path().to_owned();
    let clock = ts.clock.clone();
    drop(eco);
    drop(ts.store);
    // Tamper with the file behind Coffer's back, as corruption or a bad manual edit would.
    {
        use redb::{ReadableDatabase, ReadableTable};
        let db = redb::Database::create(&path).unwrap();
        let w = db.begin_write().unwrap();
        {
            let mut t = w.open_table(crate::store::tables::ACCOUNTS).unwrap();
            let raw = t.get((G.0, A.0)).unwrap().unwrap().value().to_vec();
            let mut acct = crate::store::records::decode_account("accounts", &raw).unwrap();
            acct.balance = Money::new(1_000);
            let last = crate::store::records::account_last_entry(&raw);
            let bytes = crate::store::records::encode_account(&acct, last);
            t.insert((G.0, A.0), bytes.as_slice()).unwrap();
        }
        w.commit().unwrap();
        let _ = db.begin_read();
    }
    let store = crate::store::Store::open(&path, clock, Default::default()).unwrap();
    let eco = Economy::new(store);
    let user = eco.validate_user(G, A).unwrap();
    assert!(!user.ok);
    assert_eq!(
        (
            user.stored_balance.unwrap().get(),
            user.expected_balance.get()
        ),
        (1000, 100)
    );
    let guild = eco.validate_guild(G).unwrap();
    assert!(!guild.ok);
    assert_eq!(guild.mismatches.len(), 1);
    assert_eq!(guild.mismatches[0].user, A);
    assert!(
        guild.mismatches[0].problems[0].contains("stored balance 1,000 but the ledger sums to 100")
    );
    assert!(eco.validate_user(G, B).unwrap().ok);
}

#[test]
fn inactive_members_are_listed_marked_and_reactivated() {
    let (ts, eco) = setup(no_limit());
    give(&eco, A, 10);
    ts.clock.advance(Duration::days(20));
    give(&eco, B, 10);
    let idle = eco.inactive(G, 14).unwrap();
    assert_eq!(idle.iter().map(|a| a.user).collect::<Vec<_>>(), vec![A]);
    assert_eq!(
        eco.mark_inactive(G, 14, &crate::domain::Actor::System.into())
            .unwrap(),
        vec![A]
    );
    assert!(!eco.find_account(G, A).unwrap().unwrap().active);
    assert_eq!(eco.leaderboard(G, 1, 10).unwrap().total, 1);
    assert_eq!(eco.find_account(G, A).unwrap().unwrap().balance.get(), 10);
    eco.set_active(G, A, true, &crate::domain::Actor::System.into())
        .unwrap();
    assert_eq!(eco.leaderboard(G, 1, 10).unwrap().total, 2);
    assert!(eco
        .mark_inactive(G, 0, &crate::domain::Actor::System.into())
        .is_err());
}

#[test]
fn every_commit_publishes_events_after_it_and_refusals_publish_none() {
    let (ts, eco) = setup(no_limit());
    let (_, mut sub) = ts
        .store
        .bus()
        .resume(ts.store.bus().next_seq() - 1, EventFilter::default());
    give(&eco, A, 100);
    eco.transfer(G, A, B, Money::new(10), &meta(A)).unwrap();
    assert!(eco.transfer(G, A, B, Money::new(1000), &meta(A)).is_err());
    eco.daily(G, A, &meta(A)).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let kinds: Vec<EventKind> = rt.block_on(async {
        let mut v = Vec::new();
        while let Ok(Ok(e)) =
            tokio::time::timeout(std::time::Duration::from_millis(50), sub.recv()).await
        {
            assert_eq!(e.guild, G);
            v.push(e.kind);
        }
        v
    });
    assert_eq!(
        kinds,
        vec![
            EventKind::AccountCreated,
            EventKind::BalanceChanged,
            EventKind::AccountCreated,
            EventKind::BalanceChanged,
            EventKind::BalanceChanged,
            EventKind::TransferCompleted,
            EventKind::BalanceChanged,
            EventKind::DailyClaimed,
        ]
    );
}

#[test]
fn guilds_are_isolated() {
    let (_ts, eco) = setup(no_limit());
    give(&eco, A, 100);
    let other = GuildId(2);
    assert!(eco.find_account(other, A).unwrap().is_none());
    assert_eq!(
        eco.transactions(other, &TxFilter::default()).unwrap().total,
        0
    );
    let id = eco.history(G, A, 1, 1).unwrap().items[0].id;
    assert!(eco.transaction(other, id).is_err());
    assert!(eco.reverse(other, id, "", &admin()).is_err());
    assert_eq!(balance(&eco, A), 100);
}

#[test]
fn currency_feature_off_refuses_user_operations() {
    let mut cfg = no_limit();
    cfg.features.currency = false;
    let (_ts, eco) = setup(cfg);
    give(&eco, A, 100);
    assert!(matches!(
        domain(eco.daily(G, A, &meta(A)).unwrap_err()),
        DomainError::Refused(_)
    ));
    assert!(eco.transfer(G, A, B, Money::new(1), &meta(A)).is_err());
}

#[test]
fn accounts_lists_inactive_members_too_in_user_order() {
    let (_ts, eco) = setup(no_limit());
    assert!(eco.accounts(G).unwrap().is_empty());
    give(&eco, B, 5);
    give(&eco, A, 7);
    eco.set_active(G, B, false, &crate::domain::Actor::System.into())
        .unwrap();
    let users: Vec<(UserId, bool)> = eco
        .accounts(G)
        .unwrap()
        .into_iter()
        .map(|a| (a.user, a.active))
        .collect();
    assert_eq!(users, vec![(A, true), (B, false)]);
    assert!(eco.accounts(GuildId(2)).unwrap().is_empty());
}

#[test]
fn reactivate_refuses_a_member_without_an_account_and_creates_none() {
    let (ts, eco) = setup(no_limit());
    let seq = ts.store.bus().next_seq();
    let err = eco
        .reactivate(G, A, &crate::domain::Actor::Dashboard("ann".into()).into())
        .unwrap_err();
    assert!(matches!(err.domain(), Some(DomainError::NotFound(_))));
    assert!(eco.find_account(G, A).unwrap().is_none());
    assert_eq!(ts.store.bus().next_seq(), seq);
}

#[test]
fn reactivate_puts_an_inactive_member_back_and_is_audited() {
    let (ts, eco) = setup(no_limit());
    give(&eco, A, 7);
    eco.set_active(G, A, false, &crate::domain::Actor::System.into())
        .unwrap();
    ts.clock.advance(Duration::days(3));
    let a = eco
        .reactivate(G, A, &crate::domain::Actor::Dashboard("ann".into()).into())
        .unwrap();
    assert!(a.active);
    assert_eq!(a.last_active, ts.store.now());
    let last = ts
        .store
        .read(G, |r| {
            let mut first = None;
            r.scan_audit(|e| -> Result<bool, crate::store::StoreError> {
                first = Some(e.action);
                Ok(false)
            })?;
            Ok::<_, crate::store::StoreError>(first)
        })
        .unwrap();
    assert_eq!(last.as_deref(), Some("user.activate"));
}
