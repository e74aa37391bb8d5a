//! Embed templates: stored, named, reusable embeds. One with a channel is also posted there and
//! kept in sync (outbox kind `embed`); clearing the channel takes the message down.

use serde::{Deserialize, Serialize};

use super::Announce;
use crate::domain::embed::{validate_template_name, Embed, EmbedTemplate};
use crate::domain::OpMeta;
use crate::domain::{ChannelId, DomainError, GuildId};
use crate::error::Error;
use crate::events::EventKind;
use crate::store::audit::snapshot;
use crate::store::outbox::SyncKind;
use crate::store::{StoreError, WriteCtx};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NewEmbedTemplate {
    pub name: String,
    pub embed: Embed,
    pub channel: Option<ChannelId>,
}

/// An edit: absent fields stay; `"channel": null` un-posts the embed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedTemplatePatch {
    pub name: Option<String>,
    pub embed: Option<Embed>,
    #[serde(deserialize_with = "double_option")]
    pub channel: Option<Option<ChannelId>>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<ChannelId>>, D::Error> {
    Option::<ChannelId>::deserialize(d).map(Some)
}

fn not_found(id: u64) -> DomainError {
    DomainError::NotFound(format!("Embed template {id}"))
}

/// Refuses a name another template of the guild already has (ignoring case).
fn check_unique(w: &WriteCtx<'_>, name: &str, except: Option<u64>) -> Result<(), Error> {
    let lower = name.to_lowercase();
    let taken = w
        .embed_templates()?
        .into_iter()
        .any(|t| Some(t.id) != except && t.name.to_lowercase() == lower);
    if taken {
        return Err(DomainError::Conflict(format!(
            "An embed template named `{name}` already exists."
        ))
        .into());
    }
    Ok(())
}

/// Bumps the outbox: posted embeds are (re)synced; one whose channel was cleared is taken down.
fn touch_embed(w: &mut WriteCtx<'_>, t: &EmbedTemplate) -> Result<(), StoreError> {
    let posted = w
        .sync_record(SyncKind::Embed, t.id)?
        .is_some_and(|r| r.channel.is_some() && !r.delete);
    if t.channel.is_none() && posted {
        w.sync_delete(SyncKind::Embed, t.id, true)?;
    } else {
        w.sync_touch(SyncKind::Embed, t.id, t.channel)?;
    }
    Ok(())
}

impl Announce {
    pub fn create_embed(
        &self,
        guild: GuildId,
        new: NewEmbedTemplate,
        meta: &OpMeta,
    ) -> Result<EmbedTemplate, Error> {
        let actor = &meta.actor;
        let name = validate_template_name(&new.name)?;
        new.embed.validate("embed.")?;
        self.store
            .write_once(guild, meta.key(), "embed.create_embed", |w| {
                check_unique(w, &name, None)?;
                let t = EmbedTemplate {
                    id: w.next_id("embed")?,
                    name: name.clone(),
                    embed: new.embed.clone(),
                    channel: new.channel,
                    created_by: actor.clone(),
                    created_at: w.now,
                    updated_at: w.now,
                };
                w.put_embed_template(&t)?;
                touch_embed(w, &t)?;
                w.audit(
                    actor,
                    "embed.create",
                    format!("embed:{}", t.id),
                    None,
                    snapshot(&t),
                )?;
                w.emit(EventKind::EmbedChanged, vec![t.id.to_string()]);
                Ok(t)
            })
    }

    pub fn edit_embed(
        &self,
        guild: GuildId,
        id: u64,
        patch: EmbedTemplatePatch,
        meta: &OpMeta,
    ) -> Result<EmbedTemplate, Error> {
        let actor = &meta.actor;
        let name = patch
            .name
            .as_deref()
            .map(validate_template_name)
            .transpose()?;
        if let Some(e) = &patch.embed {
            e.validate("embed.")?;
        }
        self.store
            .write_once(guild, meta.key(), "embed.edit_embed", |w| {
                let before = w.embed_template(id)?.ok_or_else(|| not_found(id))?;
                let mut t = before.clone();
                if let Some(n) = name.clone() {
                    check_unique(w, &n, Some(id))?;
                    t.name = n;
                }
                if let Some(e) = patch.embed.clone() {
                    t.embed = e;
                }
                if let Some(c) = patch.channel {
                    t.channel = c;
                }
                t.updated_at = w.now;
                w.put_embed_template(&t)?;
                touch_embed(w, &t)?;
                w.audit(
                    actor,
                    "embed.update",
                    format!("embed:{id}"),
                    snapshot(&before),
                    snapshot(&t),
                )?;
                w.emit(EventKind::EmbedChanged, vec![id.to_string()]);
                Ok(t)
            })
    }

    /// Deletes a template; with `delete_message` a posted copy is deleted from Discord too.
    pub fn delete_embed(
        &self,
        guild: GuildId,
        id: u64,
        delete_message: bool,
        meta: &OpMeta,
    ) -> Result<EmbedTemplate, Error> {
        let actor = &meta.actor;
        self.store
            .write_once(guild, meta.key(), "embed.delete_embed", |w| {
                let t = w.embed_template(id)?.ok_or_else(|| not_found(id))?;
                w.remove_embed_template(id)?;
                w.sync_delete(SyncKind::Embed, id, delete_message)?;
                w.audit(
                    actor,
                    "embed.delete",
                    format!("embed:{id}"),
                    snapshot(&t),
                    None,
                )?;
                w.emit(EventKind::EmbedChanged, vec![id.to_string()]);
                Ok(t)
            })
    }

    pub fn embed(&self, guild: GuildId, id: u64) -> Result<EmbedTemplate, Error> {
        self.store.read(guild, |r| {
            Ok(r.embed_template(id)?.ok_or_else(|| not_found(id))?)
        })
    }

    /// Every template of the guild, by name.
    pub fn embeds(&self, guild: GuildId) -> Result<Vec<EmbedTemplate>, Error> {
        let mut all = self.store.read(guild, |r| r.embed_templates())?;
        all.sort_by_key(|t| (t.name.to_lowercase(), t.id));
        Ok(all)
    }
}
