//! Announcement operations: create, edit, delete, pin/unpin, queries, and "announce this task".

use chrono::{DateTime, Utc};

use super::{touch_announcement, Announce};
use crate::domain::announce::{
    validate_announcement, Announcement, AnnouncementPatch, NewAnnouncement, TaskAnnouncement,
};
use crate::domain::OpMeta;
use crate::domain::{Actor, ChannelId, DomainError, GuildId};
use crate::economy::Page;
use crate::error::Error;
use crate::events::EventKind;
use crate::store::audit::snapshot;
use crate::store::outbox::SyncKind;
use crate::store::WriteCtx;

fn not_found(id: u64) -> DomainError {
    DomainError::NotFound(format!("Announcement {id}"))
}

fn load(w: &WriteCtx<'_>, id: u64) -> Result<Announcement, Error> {
    Ok(w.announcement(id)?.ok_or_else(|| not_found(id))?)
}

impl Announce {
    /// Saves a new announcement and queues it for posting (at `scheduled_at`, if given).
    /// `channel: None` falls back to the guild's `announcement_channel_id`.
    pub fn create(
        &self,
        guild: GuildId,
        new: NewAnnouncement,
        meta: &OpMeta,
    ) -> Result<Announcement, Error> {
        let actor = &meta.actor;
        if let Some(o) = &new.origin {
            if o.chars().count() > 100 {
                return Err(
                    DomainError::invalid("origin", "must be at most 100 characters").into(),
                );
            }
        }
        self.store
            .write_once(guild, meta.key(), "announcement.create", |w| {
                let embed = match (new.embed.clone(), new.embed_template) {
                    (Some(e), _) => Some(e),
                    (None, Some(t)) => Some(
                        w.embed_template(t)?
                            .ok_or_else(|| DomainError::NotFound(format!("Embed template {t}")))?
                            .embed,
                    ),
                    (None, None) => None,
                };
                validate_announcement(&new.title, &new.content, embed.as_ref())?;
                let channel = match new.channel {
                    Some(c) => {
                        crate::guild::check_known_channel(w, meta, "channel", c)?;
                        c
                    }
                    // A request that is fine in itself but meets a server with no default
                    // channel: a conflict with its configuration (409), not bad input.
                    None => w.guild_config()?.announcement_channel_id.ok_or_else(|| {
                        DomainError::Conflict(
                            "Choose a channel: no announcement channel is configured.".into(),
                        )
                    })?,
                };
                let a = Announcement {
                    id: w.next_id("announcement")?,
                    title: new.title.trim().to_owned(),
                    content: new.content.clone(),
                    embed,
                    channel,
                    pinned: new.pinned,
                    allow_mentions: new.allow_mentions,
                    scheduled_at: new.scheduled_at,
                    origin: new.origin.clone(),
                    created_by: actor.clone(),
                    created_at: w.now,
                    updated_at: w.now,
                };
                w.put_announcement(&a)?;
                touch_announcement(w, &a)?;
                w.audit(
                    actor,
                    "announcement.create",
                    format!("announcement:{}", a.id),
                    None,
                    snapshot(&a),
                )?;
                w.emit(EventKind::AnnouncementCreated, vec![a.id.to_string()]);
                Ok(a)
            })
    }

    /// Builds a formatted announcement (embed with reward, time limit...) for a task and
    /// queues it like `create`.
    pub fn announce_task(
        &self,
        guild: GuildId,
        task: &TaskAnnouncement,
        channel: Option<ChannelId>,
        meta: &OpMeta,
    ) -> Result<Announcement, Error> {
        self.create(guild, task.to_announcement(channel), meta)
    }

    /// "Announce this task": builds the announcement from the stored task and the guild's
    /// currency, posted to `channel` or the guild's announcement channel.
    pub fn announce_task_by_id(
        &self,
        guild: GuildId,
        task_id: u64,
        channel: Option<ChannelId>,
        meta: &OpMeta,
    ) -> Result<Announcement, Error> {
        let (task, cfg) = self.store.read(guild, |r| -> Result<_, Error> {
            let task = r
                .task(task_id)?
                .ok_or_else(|| DomainError::NotFound(format!("Task {task_id}")))?;
            Ok((task, r.guild_config()?))
        })?;
        let info = TaskAnnouncement {
            task_id: task.id,
            name: task.name,
            description: task.description,
            reward: task.reward.get(),
            duration_hours: task.duration_hours,
            currency_name: cfg.currency_name,
            currency_symbol: cfg.currency_symbol,
            max_claims: u32::try_from(task.max_claims).ok(),
            expires_at: task.expires_at,
            category: (!task.category.trim().is_empty()).then_some(task.category),
            role_reward: task.role_id,
        };
        self.announce_task(guild, &info, channel, meta)
    }

    /// Applies an edit; the Discord message is edited (not reposted) by the reconciler.
    pub fn edit(
        &self,
        guild: GuildId,
        id: u64,
        patch: AnnouncementPatch,
        meta: &OpMeta,
    ) -> Result<Announcement, Error> {
        let actor = &meta.actor;
        self.store
            .write_once(guild, meta.key(), "announcement.edit", |w| {
                let before = load(w, id)?;
                let mut a = before.clone();
                if let Some(t) = patch.title.clone() {
                    a.title = t.trim().to_owned();
                }
                if let Some(c) = patch.content.clone() {
                    a.content = c;
                }
                if let Some(e) = patch.embed.clone() {
                    a.embed = e;
                }
                if let Some(c) = patch.channel {
                    if c != a.channel {
                        crate::guild::check_known_channel(w, meta, "channel", c)?;
                    }
                    a.channel = c;
                }
                if let Some(s) = patch.scheduled_at {
                    a.scheduled_at = s;
                }
                if let Some(m) = patch.allow_mentions {
                    a.allow_mentions = m;
                }
                // Each field may be fine while the edit, laid over what is there, leaves the
                // announcement with nothing to show: a conflict with its state (409).
                if a.content.trim().is_empty() && a.embed.is_none() {
                    return Err(DomainError::Conflict(
                        "This edit would leave the announcement with no text and no embed.".into(),
                    )
                    .into());
                }
                validate_announcement(&a.title, &a.content, a.embed.as_ref())?;
                a.updated_at = w.now;
                self.save_change(w, &before, &a, actor, "announcement.update")?;
                Ok(a)
            })
    }

    /// Pins (true) or unpins (false); the reconciler makes the message's pin state match.
    pub fn set_pinned(
        &self,
        guild: GuildId,
        id: u64,
        pinned: bool,
        meta: &OpMeta,
    ) -> Result<Announcement, Error> {
        let actor = &meta.actor;
        self.store
            .write_once(guild, meta.key(), "announcement.set_pinned", |w| {
                let before = load(w, id)?;
                let mut a = before.clone();
                a.pinned = pinned;
                a.updated_at = w.now;
                let action = if pinned {
                    "announcement.pin"
                } else {
                    "announcement.unpin"
                };
                self.save_change(w, &before, &a, actor, action)?;
                Ok(a)
            })
    }

    pub fn pin(&self, guild: GuildId, id: u64, meta: &OpMeta) -> Result<Announcement, Error> {
        self.set_pinned(guild, id, true, meta)
    }

    pub fn unpin(&self, guild: GuildId, id: u64, meta: &OpMeta) -> Result<Announcement, Error> {
        self.set_pinned(guild, id, false, meta)
    }

    fn save_change(
        &self,
        w: &mut WriteCtx<'_>,
        before: &Announcement,
        after: &Announcement,
        actor: &Actor,
        action: &str,
    ) -> Result<(), Error> {
        w.put_announcement(after)?;
        touch_announcement(w, after)?;
        w.audit(
            actor,
            action,
            format!("announcement:{}", after.id),
            snapshot(before),
            snapshot(after),
        )?;
        w.emit(EventKind::AnnouncementUpdated, vec![after.id.to_string()]);
        Ok(())
    }

    /// Deletes the announcement; with `delete_message` its Discord message goes too, otherwise
    /// the message stays up and Coffer forgets it.
    pub fn delete(
        &self,
        guild: GuildId,
        id: u64,
        delete_message: bool,
        meta: &OpMeta,
    ) -> Result<Announcement, Error> {
        let actor = &meta.actor;
        self.store
            .write_once(guild, meta.key(), "announcement.delete", |w| {
                let a = load(w, id)?;
                w.remove_announcement(id)?;
                w.sync_delete(SyncKind::Announcement, id, delete_message)?;
                w.audit(
                    actor,
                    "announcement.delete",
                    format!("announcement:{id}"),
                    snapshot(&a),
                    Some(serde_json::json!({ "delete_message": delete_message })),
                )?;
                w.emit(EventKind::AnnouncementDeleted, vec![id.to_string()]);
                Ok(a)
            })
    }

    pub fn get(&self, guild: GuildId, id: u64) -> Result<Announcement, Error> {
        self.store.read(guild, |r| {
            Ok(r.announcement(id)?.ok_or_else(|| not_found(id))?)
        })
    }

    /// Newest first; `limit` 0 = all.
    pub fn list(
        &self,
        guild: GuildId,
        offset: u64,
        limit: u64,
    ) -> Result<Page<Announcement>, Error> {
        let mut all = self.store.read(guild, |r| r.announcements())?;
        all.reverse();
        let total = all.len() as u64;
        let take = if limit == 0 {
            usize::MAX
        } else {
            limit as usize
        };
        let items = all.into_iter().skip(offset as usize).take(take).collect();
        Ok(Page {
            items,
            total,
            offset,
            limit,
        })
    }

    /// Announcements the reconciler may post or edit at `now` (unscheduled, or scheduled at or
    /// before `now`), oldest first. Any announcement not in this list must be left alone.
    pub fn due(&self, guild: GuildId, now: DateTime<Utc>) -> Result<Vec<Announcement>, Error> {
        let all = self.store.read(guild, |r| r.announcements())?;
        Ok(all.into_iter().filter(|a| a.is_due(now)).collect())
    }
}
