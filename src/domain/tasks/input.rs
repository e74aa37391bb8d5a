//! Task input from any door (slash command, JSON, CLI): a new task, an edit, a proof, a
//! rejection reason. Each is checked here once, and every refusal names the field.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::{Task, TaskStatus};
use crate::domain::error::DomainError;
use crate::domain::ids::RoleId;
use crate::domain::ledger::Actor;
use crate::domain::money::{Money, MAX_AMOUNT};

/// The longest a claimant may be given: one year.
pub const MAX_DURATION_HOURS: u32 = 24 * 365;
/// The most spots a task may have (`-1` = unlimited).
pub const MAX_CLAIMS: i64 = 100_000;
const MAX_ATTACHMENTS: usize = 10;
/// Task and role names: 1 to 100 characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Task descriptions and proofs.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;
/// Task categories (empty: `General`).
pub const MAX_CATEGORY_CHARS: usize = 50;
/// Rejection reasons: 1 to 500 characters.
pub const MAX_REASON_CHARS: usize = 500;

/// What an admin fills in to create a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewTask {
    pub name: String,
    pub description: String,
    pub reward: i64,
    pub duration_hours: u32,
    pub expires_at: Option<DateTime<Utc>>,
    /// `-1` = unlimited.
    pub max_claims: i64,
    /// Empty: `General`.
    pub category: String,
    pub role_id: Option<RoleId>,
    pub role_name: Option<String>,
}

impl Default for NewTask {
    fn default() -> Self {
        NewTask {
            name: String::new(),
            description: String::new(),
            reward: 0,
            duration_hours: 24,
            expires_at: None,
            max_claims: -1,
            category: String::new(),
            role_id: None,
            role_name: None,
        }
    }
}

impl NewTask {
    /// Validates every field and builds the task (id and creator supplied by the service).
    pub fn into_task(
        self,
        id: u64,
        created_by: Actor,
        now: DateTime<Utc>,
    ) -> Result<Task, DomainError> {
        Ok(Task {
            id,
            name: clean_name(&self.name)?,
            description: clean_text("description", &self.description, MAX_DESCRIPTION_CHARS)?,
            reward: check_reward(self.reward)?,
            duration_hours: check_duration(self.duration_hours)?,
            status: TaskStatus::Active,
            expires_at: check_expiry(self.expires_at, now)?,
            max_claims: check_max_claims(self.max_claims, 0)?,
            current_claims: 0,
            category: clean_category(&self.category)?,
            role_id: self.role_id,
            role_name: clean_role_name(self.role_name)?,
            created_by,
            created_at: now,
            updated_at: now,
            completed: 0,
        })
    }
}

/// An edit: `None` leaves a field as it is. For `expires_at`, `role_id` and `role_name`,
/// `Some(None)` (JSON `null`) clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TaskPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub reward: Option<i64>,
    pub duration_hours: Option<u32>,
    #[serde(deserialize_with = "some")]
    pub expires_at: Option<Option<DateTime<Utc>>>,
    pub max_claims: Option<i64>,
    pub category: Option<String>,
    #[serde(deserialize_with = "some")]
    pub role_id: Option<Option<RoleId>>,
    #[serde(deserialize_with = "some")]
    pub role_name: Option<Option<String>>,
}

/// A present field (even `null`) becomes `Some`, so `null` can mean "clear".
fn some<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl TaskPatch {
    /// Applies the edit to a copy of `task`, checking each changed field. `max_claims` may not
    /// drop below the spots already taken. Running claims keep the deadline they were given.
    pub fn apply(&self, task: &Task, now: DateTime<Utc>) -> Result<Task, DomainError> {
        let mut t = task.clone();
        if let Some(v) = &self.name {
            t.name = clean_name(v)?;
        }
        if let Some(v) = &self.description {
            t.description = clean_text("description", v, MAX_DESCRIPTION_CHARS)?;
        }
        if let Some(v) = self.reward {
            t.reward = check_reward(v)?;
        }
        if let Some(v) = self.duration_hours {
            t.duration_hours = check_duration(v)?;
        }
        if let Some(v) = self.expires_at {
            t.expires_at = check_expiry(v, now)?;
        }
        if let Some(v) = self.max_claims {
            t.max_claims = check_max_claims(v, task.current_claims)?;
        }
        if let Some(v) = &self.category {
            t.category = clean_category(v)?;
        }
        if let Some(v) = self.role_id {
            t.role_id = v;
        }
        if let Some(v) = &self.role_name {
            t.role_name = clean_role_name(v.clone())?;
        }
        t.updated_at = now;
        Ok(t)
    }
}

/// What a claimant submits: text and/or attachment URLs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Proof {
    pub content: String,
    pub attachments: Vec<String>,
}

impl Proof {
    /// Trims and checks the proof; with `required`, it must have text or an attachment.
    pub fn validate(self, required: bool) -> Result<Proof, DomainError> {
        let content = self.content.trim().to_owned();
        if content.chars().count() > 2000 {
            return Err(DomainError::invalid(
                "proof",
                "must be at most 2000 characters",
            ));
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(DomainError::invalid(
                "attachments",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        let mut attachments = Vec::with_capacity(self.attachments.len());
        for url in self.attachments {
            let url = url.trim();
            let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
            if !scheme_ok || url.len() > 1000 || url.chars().any(char::is_whitespace) {
                return Err(DomainError::invalid(
                    "attachments",
                    "each attachment must be an http(s) link",
                ));
            }
            attachments.push(url.to_owned());
        }
        if required && content.is_empty() && attachments.is_empty() {
            return Err(DomainError::invalid(
                "proof",
                "this server requires proof: add a description or an attachment",
            ));
        }
        Ok(Proof {
            content,
            attachments,
        })
    }
}

/// A rejection reason: 1 to 500 characters, so the member knows what to fix.
pub fn clean_reason(reason: &str) -> Result<String, DomainError> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > MAX_REASON_CHARS {
        return Err(DomainError::invalid(
            "reason",
            format!("must be 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    crate::domain::text::check_text("reason", r)?;
    Ok(r.to_owned())
}

fn clean_name(name: &str) -> Result<String, DomainError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::invalid(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    crate::domain::text::check_name("name", n)?;
    Ok(n.to_owned())
}

fn clean_text(field: &str, v: &str, max: usize) -> Result<String, DomainError> {
    let v = v.trim();
    if v.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    crate::domain::text::check_text(field, v)?;
    Ok(v.to_owned())
}

fn clean_category(v: &str) -> Result<String, DomainError> {
    let v = v.trim();
    if v.is_empty() {
        return Ok("General".into());
    }
    if v.chars().count() > MAX_CATEGORY_CHARS {
        return Err(DomainError::invalid(
            "category",
            format!("must be at most {MAX_CATEGORY_CHARS} characters"),
        ));
    }
    crate::domain::text::check_name("category", v)?;
    Ok(v.to_owned())
}

fn clean_role_name(v: Option<String>) -> Result<Option<String>, DomainError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) if n.chars().count() > MAX_NAME_CHARS => Err(DomainError::invalid(
            "role_name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        )),
        Some(n) => {
            crate::domain::text::check_name("role_name", n)?;
            Ok(Some(n.to_owned()))
        }
    }
}

fn check_reward(v: i64) -> Result<Money, DomainError> {
    Money::positive(v, MAX_AMOUNT).map_err(|e| match e {
        DomainError::InvalidAmount(m) => DomainError::invalid("reward", m),
        other => other,
    })
}

fn check_duration(v: u32) -> Result<u32, DomainError> {
    if !(1..=MAX_DURATION_HOURS).contains(&v) {
        return Err(DomainError::invalid(
            "duration_hours",
            format!("must be between 1 and {MAX_DURATION_HOURS} hours"),
        ));
    }
    Ok(v)
}

fn check_expiry(
    v: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DomainError> {
    // Whether a moment has passed depends on the clock, not on the request (which no schema
    // can check): a conflict with the current state (409), like any other state refusal.
    if v.is_some_and(|e| e <= now) {
        return Err(DomainError::Conflict(
            "expires_at must be in the future: that moment has passed.".into(),
        ));
    }
    Ok(v)
}

fn check_max_claims(v: i64, taken: i64) -> Result<i64, DomainError> {
    if v == -1 {
        return Ok(v);
    }
    if !(1..=MAX_CLAIMS).contains(&v) {
        return Err(DomainError::invalid(
            "max_claims",
            format!("must be -1 (unlimited) or between 1 and {MAX_CLAIMS}"),
        ));
    }
    if v < taken {
        return Err(DomainError::invalid(
            "max_claims",
            format!("{taken} members already hold a spot; it can't be lower than that"),
        ));
    }
    Ok(v)
}
