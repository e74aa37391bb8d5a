//! Compact binary records for the two hot tables, `accounts` and the ledger (live and
//! archived): fixed-width little-endian fields after a one-byte format tag, strings as length
//! and bytes, the rare entry metadata as JSON. About a third of the JSON size, so a commit
//! dirties fewer pages and a scan decodes without a parser. Records written before schema v3
//! (JSON, first byte `{`) are still read; everything written now is binary.
//!
//! A member's entries form a chain instead of a by-user index table (one B-tree fewer to write
//! per balance change): each entry record holds the id of the same member's previous entry,
//! and the account record the id of their latest (0: none). Neither is part of the domain
//! types; `entry_prev` and `account_last_entry` read them.

use chrono::{DateTime, Utc};

use super::StoreError;
use crate::domain::{Account, Actor, GuildId, Money, Source, Transaction, TxKind, UserId};

const ACCOUNT_V1: u8 = 0xA1;
const ENTRY_V1: u8 = 0xB1;

/// The binary form of an account whose latest entry is `last_entry` (0: none).
pub fn encode_account(a: &Account, last_entry: u64) -> Vec<u8> {
    let mut b = Vec::with_capacity(88);
    b.push(ACCOUNT_V1);
    put_u64(&mut b, a.guild.0);
    put_u64(&mut b, a.user.0);
    put_i64(&mut b, a.balance.get());
    put_i64(&mut b, a.total_earned.get());
    put_i64(&mut b, a.total_spent.get());
    put_time(&mut b, a.created_at);
    match a.last_daily {
        Some(t) => {
            b.push(1);
            put_time(&mut b, t);
        }
        None => b.push(0),
    }
    put_time(&mut b, a.last_active);
    b.push(u8::from(a.active));
    put_u64(&mut b, last_entry);
    b
}

/// The id of the account's latest entry (0: none, or a JSON record from before v3).
pub fn account_last_entry(bytes: &[u8]) -> u64 {
    match (bytes.first(), bytes.last_chunk::<8>()) {
        (Some(&ACCOUNT_V1), Some(tail)) => u64::from_le_bytes(*tail),
        _ => 0,
    }
}

pub fn decode_account(table: &'static str, bytes: &[u8]) -> Result<Account, StoreError> {
    if bytes.first() == Some(&b'{') {
        return super::codec::decode(table, bytes);
    }
    let mut r = Reader::new(table, bytes);
    r.tag(ACCOUNT_V1)?;
    let a = Account {
        guild: GuildId(r.u64()?),
        user: UserId(r.u64()?),
        balance: Money::new(r.i64()?),
        total_earned: Money::new(r.i64()?),
        total_spent: Money::new(r.i64()?),
        created_at: r.time()?,
        last_daily: match r.u8()? {
            0 => None,
            _ => Some(r.time()?),
        },
        last_active: r.time()?,
        active: r.u8()? != 0,
    };
    r.u64()?;
    r.end()?;
    Ok(a)
}

/// The binary form of a ledger entry; `prev` is the id of the same member's previous entry
/// (0: none).
pub fn encode_entry(t: &Transaction, prev: u64) -> Result<Vec<u8>, StoreError> {
    let mut b = Vec::with_capacity(104 + t.description.len());
    b.push(ENTRY_V1);
    put_u64(&mut b, prev);
    put_u64(&mut b, t.id);
    put_u64(&mut b, t.guild.0);
    put_u64(&mut b, t.user.0);
    put_i64(&mut b, t.amount.get());
    put_i64(&mut b, t.balance_before.get());
    put_i64(&mut b, t.balance_after.get());
    b.push(kind_code(t.kind));
    put_time(&mut b, t.at);
    match &t.actor {
        Actor::System => b.push(0),
        Actor::User(u) => {
            b.push(1);
            put_u64(&mut b, u.0);
        }
        Actor::Dashboard(name) => {
            b.push(2);
            put_bytes(&mut b, name.as_bytes());
        }
        Actor::Cli => b.push(3),
    }
    b.push(source_code(t.source));
    put_u64(&mut b, t.group);
    match t.reverses {
        Some(id) => {
            b.push(1);
            put_u64(&mut b, id);
        }
        None => b.push(0),
    }
    put_bytes(&mut b, t.description.as_bytes());
    if t.metadata.is_empty() {
        put_bytes(&mut b, &[]);
    } else {
        put_bytes(&mut b, &super::codec::encode(&t.metadata)?);
    }
    Ok(b)
}

pub fn decode_entry(table: &'static str, bytes: &[u8]) -> Result<Transaction, StoreError> {
    if bytes.first() == Some(&b'{') {
        return super::codec::decode(table, bytes);
    }
    let mut r = Reader::new(table, bytes);
    r.tag(ENTRY_V1)?;
    r.u64()?;
    let id = r.u64()?;
    let guild = GuildId(r.u64()?);
    let user = UserId(r.u64()?);
    let amount = Money::new(r.i64()?);
    let balance_before = Money::new(r.i64()?);
    let balance_after = Money::new(r.i64()?);
    let kind = r.u8()?;
    let kind = *TxKind::ALL
        .get(usize::from(kind))
        .ok_or_else(|| r.bad("unknown kind"))?;
    let at = r.time()?;
    let actor = match r.u8()? {
        0 => Actor::System,
        1 => Actor::User(UserId(r.u64()?)),
        2 => Actor::Dashboard(r.string()?),
        3 => Actor::Cli,
        _ => return Err(r.bad("unknown actor")),
    };
    let source = *SOURCES
        .get(usize::from(r.u8()?))
        .ok_or_else(|| r.bad("unknown source"))?;
    let group = r.u64()?;
    let reverses = match r.u8()? {
        0 => None,
        _ => Some(r.u64()?),
    };
    let description = r.string()?;
    let meta = r.bytes()?;
    let metadata = if meta.is_empty() {
        Default::default()
    } else {
        super::codec::decode(table, meta)?
    };
    r.end()?;
    Ok(Transaction {
        id,
        guild,
        user,
        amount,
        balance_before,
        balance_after,
        kind,
        description,
        at,
        actor,
        source,
        group,
        reverses,
        metadata,
    })
}

/// The id of the same member's previous entry (0: none, or a JSON record from before v3).
pub fn entry_prev(bytes: &[u8]) -> u64 {
    match bytes.split_first() {
        Some((&ENTRY_V1, rest)) => rest
            .first_chunk::<8>()
            .map_or(0, |b| u64::from_le_bytes(*b)),
        _ => 0,
    }
}

fn kind_code(k: TxKind) -> u8 {
    // `TxKind::ALL` is the code table: new kinds go at its end.
    TxKind::ALL.iter().position(|x| *x == k).unwrap_or(0) as u8
}

/// The source code table: new sources go at its end.
const SOURCES: [Source; 7] = [
    Source::DiscordCommand,
    Source::DiscordButton,
    Source::Dashboard,
    Source::Api,
    Source::System,
    Source::Import,
    Source::Cli,
];

fn source_code(s: Source) -> u8 {
    SOURCES.iter().position(|x| *x == s).unwrap_or(0) as u8
}

fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_i64(b: &mut Vec<u8>, v: i64) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_time(b: &mut Vec<u8>, t: DateTime<Utc>) {
    put_i64(b, t.timestamp());
    b.extend_from_slice(&t.timestamp_subsec_nanos().to_le_bytes());
}

fn put_bytes(b: &mut Vec<u8>, v: &[u8]) {
    b.extend_from_slice(&(v.len() as u32).to_le_bytes());
    b.extend_from_slice(v);
}

struct Reader<'a> {
    table: &'static str,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(table: &'static str, bytes: &'a [u8]) -> Self {
        Reader { table, rest: bytes }
    }

    fn bad(&self, what: &str) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            detail: format!("binary record: {what}"),
        }
    }

    fn take<const N: usize>(&mut self) -> Result<[u8; N], StoreError> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or_else(|| self.bad("too short"))?;
        self.rest = rest;
        Ok(*head)
    }

    fn tag(&mut self, want: u8) -> Result<(), StoreError> {
        match self.u8()? {
            t if t == want => Ok(()),
            _ => Err(self.bad("unknown format")),
        }
    }

    fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(self.take::<1>()?[0])
    }

    fn u64(&mut self) -> Result<u64, StoreError> {
        Ok(u64::from_le_bytes(self.take()?))
    }

    fn i64(&mut self) -> Result<i64, StoreError> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    fn time(&mut self) -> Result<DateTime<Utc>, StoreError> {
        let secs = self.i64()?;
        let nanos = u32::from_le_bytes(self.take()?);
        DateTime::from_timestamp(secs, nanos).ok_or_else(|| self.bad("timestamp out of range"))
    }

    fn bytes(&mut self) -> Result<&'a [u8], StoreError> {
        let n = u32::from_le_bytes(self.take()?) as usize;
        if self.rest.len() < n {
            return Err(self.bad("too short"));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    fn string(&mut self) -> Result<String, StoreError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| self.bad("text is not UTF-8"))
    }

    fn end(&self) -> Result<(), StoreError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.bad("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn at(secs: i64, nanos: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, nanos).unwrap()
    }

    #[test]
    fn accounts_round_trip_and_json_records_still_decode() {
        let mut a = Account::new(GuildId(3), UserId(u64::MAX), at(1_700_000_000, 123_456_789));
        a.balance = Money::new(i64::MAX);
        a.total_spent = Money::new(7);
        a.last_daily = Some(at(-5, 1));
        a.active = false;
        let bin = encode_account(&a, 77);
        assert_eq!(account_last_entry(&bin), 77);
        assert!(bin.len() < super::super::codec::encode(&a).unwrap().len() / 2);
        assert_eq!(decode_account("accounts", &bin).unwrap(), a);
        let json = super::super::codec::encode(&a).unwrap();
        assert_eq!(decode_account("accounts", &json).unwrap(), a);
        assert!(decode_account("accounts", &bin[..bin.len() - 1]).is_err());
    }

    #[test]
    fn every_kind_actor_and_source_round_trips() {
        let actors = [
            Actor::System,
            Actor::User(UserId(42)),
            Actor::Dashboard("ädmin".into()),
            Actor::Cli,
        ];
        for (i, kind) in TxKind::ALL.into_iter().enumerate() {
            let mut metadata = BTreeMap::new();
            if i % 2 == 0 {
                metadata.insert("reason".to_owned(), serde_json::json!("why, \"quoted\""));
            }
            let t = Transaction {
                id: i as u64 + 1,
                guild: GuildId(9),
                user: UserId(8),
                amount: Money::new(-(i as i64)),
                balance_before: Money::new(100),
                balance_after: Money::new(100 - i as i64),
                kind,
                description: format!("entry {i} ✓"),
                at: at(1_700_000_000 + i as i64, i as u32),
                actor: actors[i % actors.len()].clone(),
                source: SOURCES[i % SOURCES.len()],
                group: 1,
                reverses: (i % 3 == 0).then_some(5),
                metadata,
            };
            let bin = encode_entry(&t, i as u64).unwrap();
            assert_eq!(entry_prev(&bin), i as u64);
            assert_eq!(decode_entry("ledger", &bin).unwrap(), t);
            let json = super::super::codec::encode(&t).unwrap();
            assert_eq!(decode_entry("ledger", &json).unwrap(), t);
        }
    }
}
