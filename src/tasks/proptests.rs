//! Property test: random sequences of create / claim / submit / accept / reject / close /
//! advance-clock / sweep / transfer over a few tasks and ten members, run against the service
//! and a plain model. Every outcome must match the model, and after every step: spots taken ==
//! claims holding one <= max_claims, one claim per member per task, live claims per member <=
//! the limit, balances as modelled, and the ledger validates. 64 cases, up to 40 steps each.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;

use super::tests::{admin, fx_with, member, proof, spec, Fx, G};
use crate::domain::tasks::ClaimStatus;
use crate::domain::{GuildConfig, Money, UserId};

const USERS: u64 = 10;
const LIMIT: usize = 2;

#[derive(Debug, Clone)]
enum Op {
    Create {
        reward: i64,
        max_claims: i64,
        hours: u32,
        expires_in: Option<i64>,
    },
    Claim(usize, u64),
    Submit(usize, u64),
    Accept(usize, u64),
    Reject(usize, u64),
    Close(usize),
    Advance(i64),
    Sweep,
    Transfer(u64, u64, i64),
}

fn op() -> impl Strategy<Value = Op> {
    // Half the picks go to three busy members, so per-member limits and re-claims happen.
    let user = prop_oneof![1..=3u64, 1..=USERS];
    prop_oneof![
        3 => (1..100i64, prop_oneof![Just(-1i64), 1..4i64], 1..6u32, proptest::option::of(1..12i64))
            .prop_map(|(reward, max_claims, hours, expires_in)| Op::Create { reward, max_claims, hours, expires_in }),
        6 => (0..4usize, user.clone()).prop_map(|(t, u)| Op::Claim(t, u)),
        4 => (0..4usize, user.clone()).prop_map(|(t, u)| Op::Submit(t, u)),
        3 => (0..4usize, user.clone()).prop_map(|(t, u)| Op::Accept(t, u)),
        2 => (0..4usize, user.clone()).prop_map(|(t, u)| Op::Reject(t, u)),
        1 => (0..4usize).prop_map(Op::Close),
        3 => (1..240i64).prop_map(Op::Advance),
        2 => Just(Op::Sweep),
        2 => (user.clone(), user, 1..50i64).prop_map(|(a, b, m)| Op::Transfer(a, b, m)),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TStatus {
    Active,
    Closed,
    Expired,
}

struct MTask {
    id: u64,
    reward: i64,
    max_claims: i64,
    current: i64,
    hours: u32,
    expires_at: Option<DateTime<Utc>>,
    status: TStatus,
}

#[derive(Default)]
struct Model {
    tasks: Vec<MTask>,
    claims: BTreeMap<(u64, u64), (ClaimStatus, DateTime<Utc>)>,
    balances: BTreeMap<u64, i64>,
}

impl Model {
    fn live(&self, key: (u64, u64), now: DateTime<Utc>) -> bool {
        self.claims.get(&key).is_some_and(|(s, d)| {
            matches!(s, ClaimStatus::InProgress | ClaimStatus::Submitted) && now < *d
        })
    }

    /// Returns whether the model allows the op, applying it if so.
    fn claim(&mut self, i: usize, u: u64, now: DateTime<Utc>) -> bool {
        let live_elsewhere = self
            .claims
            .keys()
            .filter(|&&(t, cu)| cu == u && Some(t) != self.tasks.get(i).map(|t| t.id))
            .filter(|&&k| self.live(k, now))
            .count();
        let Some(t) = self.tasks.get(i) else {
            return false;
        };
        let key = (t.id, u);
        let prior = self.claims.get(&key).map(|c| c.0);
        let open = t.status == TStatus::Active && t.expires_at.is_none_or(|e| now < e);
        if !open || prior == Some(ClaimStatus::Accepted) || self.live(key, now) {
            return false;
        }
        let freed = i64::from(matches!(
            prior,
            Some(ClaimStatus::InProgress | ClaimStatus::Submitted)
        ));
        let current = t.current - freed;
        if (t.max_claims >= 0 && current >= t.max_claims) || live_elsewhere >= LIMIT {
            return false;
        }
        let deadline = now + Duration::hours(i64::from(t.hours));
        self.tasks[i].current = current + 1;
        self.claims.insert(key, (ClaimStatus::InProgress, deadline));
        true
    }

    /// Submit / accept / reject: `from` -> `to` before the deadline; accept also pays.
    fn step(
        &mut self,
        i: usize,
        u: u64,
        from: ClaimStatus,
        to: ClaimStatus,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(t) = self.tasks.get(i) else {
            return false;
        };
        let (key, reward) = ((t.id, u), t.reward);
        match self.claims.get_mut(&key) {
            Some((s, d)) if *s == from && now < *d => {
                *s = to;
                if to == ClaimStatus::Accepted {
                    *self.balances.entry(u).or_default() += reward;
                }
                true
            }
            _ => false,
        }
    }

    fn sweep(&mut self, now: DateTime<Utc>) {
        for ((task, _), (s, d)) in self.claims.iter_mut() {
            if matches!(s, ClaimStatus::InProgress | ClaimStatus::Submitted) && now >= *d {
                *s = ClaimStatus::Expired;
                if let Some(t) = self.tasks.iter_mut().find(|t| t.id == *task) {
                    t.current -= 1;
                }
            }
        }
        for t in &mut self.tasks {
            if t.status == TStatus::Active && t.expires_at.is_some_and(|e| now >= e) {
                t.status = TStatus::Expired;
            }
        }
    }
}

fn run(f: &Fx, m: &mut Model, op: &Op) -> (bool, bool) {
    let now = f.ts.store.now();
    let id = |i: usize, m: &Model| m.tasks.get(i).map_or(999, |t| t.id);
    match *op {
        Op::Create {
            reward,
            max_claims,
            hours,
            expires_in,
        } => {
            let mut s = spec("Task", reward, max_claims);
            s.duration_hours = hours;
            s.expires_at = expires_in.map(|h| now + Duration::hours(h));
            let t = f.tasks.create(G, s, &admin()).unwrap();
            m.tasks.push(MTask {
                id: t.id,
                reward,
                max_claims,
                current: 0,
                hours,
                expires_at: t.expires_at,
                status: TStatus::Active,
            });
            (true, true)
        }
        Op::Claim(i, u) => {
            let got = f.tasks.claim(G, id(i, m), UserId(u), &member(u)).is_ok();
            (got, m.claim(i, u, now))
        }
        Op::Submit(i, u) => {
            let got = f
                .tasks
                .submit(G, id(i, m), UserId(u), proof(), &member(u))
                .is_ok();
            (
                got,
                m.step(i, u, ClaimStatus::InProgress, ClaimStatus::Submitted, now),
            )
        }
        Op::Accept(i, u) => {
            let got = f.tasks.accept(G, id(i, m), UserId(u), &admin()).is_ok();
            (
                got,
                m.step(i, u, ClaimStatus::Submitted, ClaimStatus::Accepted, now),
            )
        }
        Op::Reject(i, u) => {
            let got = f
                .tasks
                .reject(G, id(i, m), UserId(u), "try again", &admin())
                .is_ok();
            (
                got,
                m.step(i, u, ClaimStatus::Submitted, ClaimStatus::InProgress, now),
            )
        }
        Op::Close(i) => {
            let got = f.tasks.close(G, id(i, m), &admin()).is_ok();
            let want = m.tasks.get(i).is_some_and(|t| t.status != TStatus::Closed);
            if want {
                m.tasks[i].status = TStatus::Closed;
            }
            (got, want)
        }
        Op::Advance(min) => {
            f.advance(Duration::minutes(min));
            (true, true)
        }
        Op::Sweep => {
            f.tasks.sweep(G).unwrap();
            m.sweep(now);
            (true, true)
        }
        Op::Transfer(a, b, amount) => {
            let got = f
                .economy
                .transfer(G, UserId(a), UserId(b), Money::new(amount), &member(a))
                .is_ok();
            let have = m.balances.get(&a).copied().unwrap_or(0);
            let want = a != b && have >= amount;
            if want {
                *m.balances.entry(a).or_default() -= amount;
                *m.balances.entry(b).or_default() += amount;
            }
            (got, want)
        }
    }
}

fn check_invariants(f: &Fx, m: &Model) {
    let now = f.ts.store.now();
    let (tasks, claims) =
        f.ts.store
            .read(G, |r| Ok::<_, crate::Error>((r.tasks()?, r.all_claims()?)))
            .unwrap();
    for t in &tasks {
        let mt = m.tasks.iter().find(|x| x.id == t.id).unwrap();
        let holding = claims
            .iter()
            .filter(|c| c.task_id == t.id && c.status.holds_spot())
            .count() as i64;
        assert_eq!(t.current_claims, holding, "task {}", t.id);
        assert_eq!(t.current_claims, mt.current, "task {}", t.id);
        assert!(t.max_claims < 0 || t.current_claims <= t.max_claims);
    }
    assert_eq!(claims.len(), m.claims.len());
    for c in &claims {
        assert_eq!(
            Some(&(c.status, c.deadline)),
            m.claims.get(&(c.task_id, c.user.0))
        );
    }
    for u in 1..=USERS {
        let mine = f.tasks.user_claims(G, UserId(u)).unwrap();
        let mut ids: Vec<u64> = mine.iter().map(|c| c.task.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), mine.len(), "one claim per member per task");
        let live = mine
            .iter()
            .filter(|c| c.claim.status_at(now).is_live())
            .count();
        assert!(live <= LIMIT, "member {u} holds {live} live claims");
        assert_eq!(f.balance(u), m.balances.get(&u).copied().unwrap_or(0));
    }
    assert!(f.economy.validate_guild(G).unwrap().ok);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_task_operations_match_the_model_and_keep_the_invariants(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        let f = fx_with(GuildConfig {
            rate_limit_per_minute: 0,
            max_tasks_per_user: LIMIT as u32,
            ..GuildConfig::default()
        });
        let mut m = Model::default();
        for (n, op) in ops.iter().enumerate() {
            let (got, want) = run(&f, &mut m, op);
            prop_assert_eq!(got, want, "step {}: {:?}", n, op);
            check_invariants(&f, &m);
        }
    }
}
