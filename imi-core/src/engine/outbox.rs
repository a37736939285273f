//! The outbox through the engine: announcements are written in the commit of the event
//! they announce ([`Engine::announce`]); [`Engine::dispatch`] drains them.
//!
//! Dispatch is at least once. A dispatcher first *leases* a due announcement in a commit
//! of its own (the item's version is checked, so of several dispatchers on one store
//! exactly one wins and the others skip it), moving its due entry to the lease's end.
//! It then resolves the audience into recipients, delivers each message not yet
//! delivered, and records the outcome in a second commit: done, retried later with
//! exponential backoff, or dead after [`MAX_ATTEMPTS`]. A dispatcher that dies after
//! the lease leaves the announcement due again when the lease ends; the next attempt
//! carries the same idempotency keys and is marked as a possible duplicate.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Engine, corrupt_index};
use crate::access::{Actor, Denial, Principal};
use crate::authority::Authority;
use crate::case::RequestCase;
use crate::catalogue::{ProcedureId, Right};
use crate::error::EngineError;
use crate::ids::{AuthorityId, UserId, WebhookId};
use crate::keys;
use crate::language::Language;
use crate::outbox::{
    Address, Announcement, AnnouncementId, Audience, DeliveryState, FeedEvent, FeedPage,
    NotificationPreferences, NotificationSettings, Notifier, OutboxItem, Subject, Topic, backoff,
    compose,
};
use crate::page::{Cursor, Page, PageRequest};
use crate::record::{Txn, decode};
use crate::request::{DeadlineKind, RequestEvent};
use crate::store::{Scan, StoreExt};
use crate::user::User;
use crate::webhook::{StoredWebhook, Webhook, WebhookError, WebhookSecret, check_url_with};

/// Attempts before an announcement goes to the dead letters.
pub const MAX_ATTEMPTS: u32 = 8;

/// The most webhooks one authority may register.
pub const MAX_WEBHOOKS: usize = 10;

/// What one [`Engine::dispatch`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchReport {
    /// Messages the notifier took.
    pub delivered: usize,
    /// Messages that failed (their announcements are retried later, or dead).
    pub failed: usize,
    /// Announcements fully delivered.
    pub completed: usize,
    /// Announcements given up (now in the dead letters).
    pub dead: usize,
    /// Due announcements another dispatcher held or took first.
    pub contended: usize,
}

/// A recipient resolved from an audience.
struct Recipient {
    key: String,
    to: Address,
    language: Language,
}

/// **Telling people and systems**: announcements, their dispatch to e-mail and webhooks, settings, the event feed.
impl Engine {
    /// Writes an announcement of `topic` about `subject` for `audience` into `txn`, to
    /// be committed with the event it announces. Nothing when the audience is empty.
    pub(super) fn announce(
        &self,
        txn: &mut Txn<'_>,
        topic: Topic,
        subject: Subject,
        procedure: Option<&ProcedureId>,
        audience: impl IntoIterator<Item = Audience>,
    ) -> Result<(), EngineError> {
        let audience: BTreeSet<Audience> = audience.into_iter().collect();
        if audience.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let id = AnnouncementId(*self.ids.case(now).as_uuid());
        let item = OutboxItem {
            announcement: Announcement {
                id,
                at: now,
                topic,
                subject,
                procedure: procedure.cloned(),
                audience,
            },
            state: DeliveryState::Pending {
                attempts: 0,
                next_at: now,
            },
            delivered: BTreeSet::new(),
            last_errors: Vec::new(),
        };
        // The feed of each addressed authority: an index entry per authority, read
        // through the announcement (a broadcast addresses hundreds; keep them small).
        let authorities: BTreeSet<AuthorityId> = item
            .announcement
            .audience
            .iter()
            .map(|a| a.authority)
            .collect();
        for authority in authorities {
            txn.put_index(keys::feed(authority, Some(id)));
        }
        txn.create(keys::outbox(id), &item)?;
        txn.put_index(keys::outbox_due(now, Some(id)));
        Ok(())
    }

    /// The event feed of the actor's authority, oldest first, after `cursor`: the
    /// announcements addressed to it that concern a right the actor holds (all of them
    /// for its administrators). For back-office systems that poll; resumable.
    pub async fn feed(
        &self,
        actor: &Actor,
        cursor: Option<&Cursor>,
        limit: usize,
    ) -> Result<FeedPage, EngineError> {
        let p = Self::principal(actor)?;
        let prefix = keys::feed(p.authority(), None);
        let limit = limit.clamp(1, 1_000);
        let mut scan = Scan::prefix(&prefix, limit);
        if let Some(c) = cursor {
            scan = scan.resume(c.key_within(&prefix)?);
        }
        let catalogue = self.catalogue();
        let admin = p.has_right(Right::Administrator);
        let mut items = Vec::new();
        let mut last = cursor.cloned();
        let mut pages = self.store.pages(scan);
        while let Some(entries) = pages.next().await? {
            let mut ids = Vec::with_capacity(entries.len());
            for e in &entries {
                let id = keys::trailing_id(&e.key)
                    .map(|b| AnnouncementId(uuid::Uuid::from_bytes(b)))
                    .ok_or_else(|| corrupt_index(&e.key))?;
                ids.push(keys::outbox(id));
            }
            let announced = self.store.get_many(&ids).await?;
            for ((e, key), v) in entries.into_iter().zip(&ids).zip(announced) {
                last = Some(Cursor::from_key(e.key));
                let Some(v) = v else { continue };
                let a = decode::<OutboxItem>(key, &v.value)?.announcement;
                let rights: BTreeSet<Right> = a
                    .audience
                    .iter()
                    .filter(|x| x.authority == p.authority())
                    .map(|x| x.right)
                    .collect();
                let area = a
                    .procedure
                    .as_ref()
                    .and_then(|pr| catalogue.procedure(pr).map(|x| x.area.clone()));
                let concerns = admin
                    || rights.iter().any(|r| match (&a.procedure, &area) {
                        (Some(procedure), Some(area)) => p.holds(*r, area, procedure),
                        _ => p.has_right(*r),
                    });
                if concerns {
                    items.push(FeedEvent {
                        id: a.id,
                        at: a.at,
                        topic: a.topic,
                        subject: a.subject,
                        procedure: a.procedure,
                        rights,
                    });
                    if items.len() == limit {
                        return Ok(FeedPage {
                            items,
                            cursor: last,
                        });
                    }
                }
            }
        }
        Ok(FeedPage {
            items,
            cursor: last,
        })
    }

    /// Announces what `events` of request `case` (its state after them) mean to others:
    /// a request received (sent or forwarded), accepted, answered, a clarification asked,
    /// a reminder or an escalation.
    pub(super) fn announce_request(
        &self,
        txn: &mut Txn<'_>,
        case: &RequestCase,
        events: &[RequestEvent],
    ) -> Result<(), EngineError> {
        use Right::{Allocator, RequestHandler};
        let subject = Subject::Request {
            case: case.id,
            reference: case.reference,
        };
        let to = |authority: AuthorityId, rights: &[Right]| -> Vec<Audience> {
            rights
                .iter()
                .map(|right| Audience {
                    authority,
                    right: *right,
                })
                .collect()
        };
        let recipient = case.request.state().recipient();
        for e in events {
            let (topic, audience) = match (e, recipient) {
                (RequestEvent::Sent { recipient, .. }, _) => (
                    Topic::RequestReceived,
                    to(*recipient, &[Allocator, RequestHandler]),
                ),
                (RequestEvent::Forwarded { to: next, .. }, _) => (
                    Topic::RequestReceived,
                    to(*next, &[Allocator, RequestHandler]),
                ),
                (RequestEvent::Accepted { .. }, _) => (
                    Topic::RequestAccepted,
                    to(case.requester, &[RequestHandler]),
                ),
                (RequestEvent::Answered { .. }, _) => (
                    Topic::RequestAnswered,
                    to(case.requester, &[RequestHandler]),
                ),
                (RequestEvent::ClarificationAsked { .. }, Some(r)) => {
                    (Topic::ClarificationAsked, to(r, &[RequestHandler]))
                }
                (RequestEvent::DeadlineReached { kind, .. }, Some(r)) => match kind {
                    DeadlineKind::NotAccepted => {
                        (Topic::Reminder, to(r, &[Allocator, RequestHandler]))
                    }
                    DeadlineKind::Overdue => (Topic::Reminder, to(r, &[RequestHandler])),
                    DeadlineKind::Escalated => {
                        let mut both = to(r, &[RequestHandler]);
                        both.extend(to(case.requester, &[RequestHandler]));
                        (Topic::Escalation, both)
                    }
                },
                _ => continue,
            };
            self.announce(txn, topic, subject, Some(&case.procedure), audience)?;
        }
        Ok(())
    }

    /// Delivers what is due, at most `batch` announcements, through `notifier`, holding
    /// each for `lease` while it works. Safe to run from several processes at once.
    pub async fn dispatch(
        &self,
        notifier: &dyn Notifier,
        batch: usize,
        lease: Duration,
    ) -> Result<DispatchReport, EngineError> {
        let now = self.now();
        let mut report = DispatchReport::default();
        let scan = Scan {
            start: std::ops::Bound::Included(keys::outbox_due_prefix()),
            end: std::ops::Bound::Excluded(keys::outbox_due(now + Duration::milliseconds(1), None)),
            direction: crate::store::Direction::Forward,
            limit: batch.clamp(1, crate::store::MAX_SCAN_LIMIT),
        };
        let found = self.store.scan(&scan).await?;
        for entry in found.entries {
            let id = keys::trailing_id(&entry.key)
                .map(|b| AnnouncementId(uuid::Uuid::from_bytes(b)))
                .ok_or_else(|| corrupt_index(&entry.key))?;
            let Some((item, attempt)) = self.lease(&entry.key, id, now, lease).await? else {
                report.contended += 1;
                continue;
            };
            self.deliver(notifier, item, attempt, now, now + lease, &mut report)
                .await?;
        }
        Ok(report)
    }

    /// Takes announcement `id` (due under `due_key`) for this dispatcher until
    /// `now + lease`, in one commit; `None` when it is not due or another took it.
    async fn lease(
        &self,
        due_key: &[u8],
        id: AnnouncementId,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<(OutboxItem, u32)>, EngineError> {
        let mut txn = Txn::new(&*self.store);
        let Some((mut item, _)) = txn.get::<OutboxItem>(&keys::outbox(id)).await? else {
            txn.delete(due_key.to_vec());
            txn.commit().await?;
            return Ok(None);
        };
        let attempts = match item.state {
            DeliveryState::Pending { attempts, next_at } if next_at <= now => attempts,
            DeliveryState::Leased { attempts, until } if until <= now => attempts,
            DeliveryState::Pending { .. } | DeliveryState::Leased { .. } => return Ok(None),
            DeliveryState::Delivered { .. } | DeliveryState::Dead { .. } => {
                // A stale due entry: clean it up.
                txn.delete(due_key.to_vec());
                txn.commit().await?;
                return Ok(None);
            }
        };
        let attempt = attempts.saturating_add(1);
        let until = now + lease;
        item.state = DeliveryState::Leased {
            attempts: attempt,
            until,
        };
        txn.put(keys::outbox(id), &item)?;
        txn.delete(due_key.to_vec());
        txn.put_index(keys::outbox_due(until, Some(id)));
        match txn.commit().await {
            Ok(_) => Ok(Some((item, attempt))),
            Err(EngineError::Conflict(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Delivers a leased announcement's messages and records the outcome.
    async fn deliver(
        &self,
        notifier: &dyn Notifier,
        item: OutboxItem,
        attempt: u32,
        now: DateTime<Utc>,
        leased_until: DateTime<Utc>,
        report: &mut DispatchReport,
    ) -> Result<(), EngineError> {
        let a = &item.announcement;
        let (recipients, unusable) = self.resolve_audience(a).await?;
        let mut delivered = item.delivered.clone();
        let mut errors = Vec::new();
        for (key, error) in unusable {
            report.failed += 1;
            errors.push((format!("{}:{key}", a.id), error));
        }
        for r in recipients {
            let message = compose(a, r.to, &r.key, r.language, attempt, attempt > 1);
            if delivered.contains(&message.idempotency_key) {
                continue;
            }
            match notifier.deliver(&message).await {
                Ok(()) => {
                    report.delivered += 1;
                    delivered.insert(message.idempotency_key);
                }
                Err(e) => {
                    report.failed += 1;
                    errors.push((message.idempotency_key, e.message));
                }
            }
        }
        let mut txn = Txn::new(&*self.store);
        let Some((mut current, _)) = txn.get::<OutboxItem>(&keys::outbox(a.id)).await? else {
            return Ok(());
        };
        if current.state
            != (DeliveryState::Leased {
                attempts: attempt,
                until: leased_until,
            })
        {
            // The lease ran out and another dispatcher took over: it records the outcome.
            report.contended += 1;
            return Ok(());
        }
        txn.delete(keys::outbox_due(leased_until, Some(a.id)));
        let done = errors.is_empty();
        current.state = if done {
            report.completed += 1;
            DeliveryState::Delivered {
                attempts: attempt,
                at: now,
            }
        } else if attempt >= MAX_ATTEMPTS {
            report.dead += 1;
            txn.put_index(keys::outbox_dead(Some(a.id)));
            DeliveryState::Dead {
                attempts: attempt,
                at: now,
            }
        } else {
            let next_at = now + backoff(attempt);
            txn.put_index(keys::outbox_due(next_at, Some(a.id)));
            DeliveryState::Pending {
                attempts: attempt,
                next_at,
            }
        };
        current.delivered = delivered;
        current.last_errors = errors;
        txn.put(keys::outbox(a.id), &current)?;
        txn.commit().await?;
        Ok(())
    }

    /// Who an announcement reaches now: for each authority of its audience, its
    /// functional mailbox (in the language of its name) and/or its active users holding
    /// the right for the procedure who did not mute the topic (each in their language).
    /// Also returns, by idempotency key, the webhooks that cannot be called (their secret
    /// does not open with this server's key), so that they count as failed deliveries.
    async fn resolve_audience(
        &self,
        a: &Announcement,
    ) -> Result<(Vec<Recipient>, Vec<(String, String)>), EngineError> {
        let mut unusable = Vec::new();
        let area = a
            .procedure
            .as_ref()
            .and_then(|p| self.catalogue().procedure(p).map(|p| p.area.clone()));
        let mut out: BTreeMap<String, Recipient> = BTreeMap::new();
        let mut by_authority: BTreeMap<AuthorityId, BTreeSet<Right>> = BTreeMap::new();
        for aud in &a.audience {
            by_authority
                .entry(aud.authority)
                .or_default()
                .insert(aud.right);
        }
        for (authority_id, rights) in by_authority {
            let authority: Authority = match self
                .load(&keys::authority(authority_id), "authority", &authority_id)
                .await
            {
                Ok(a) => a,
                Err(EngineError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            for hook in self.webhooks_at(authority_id).await? {
                if !hook.topics.is_empty() && !hook.topics.contains(&a.topic) {
                    continue;
                }
                let key = format!("webhook:{}", hook.id);
                match hook.open(self.secret_key.as_ref()) {
                    Ok(secret) => {
                        out.entry(key.clone()).or_insert(Recipient {
                            key,
                            to: Address::Webhook {
                                webhook: hook.id,
                                url: hook.url,
                                secret,
                            },
                            language: authority.name().source_language(),
                        });
                    }
                    // Not deliverable with this server's key: a failed delivery (retried,
                    // then a dead letter its administrators see), never a silent skip.
                    Err(e) => unusable.push((key, e.to_string())),
                }
            }
            let settings = self.settings_of(authority_id).await?;
            if let Some(mailbox) = settings.functional_mailbox {
                let key = format!("mailbox:{authority_id}");
                out.entry(key.clone()).or_insert(Recipient {
                    key,
                    to: Address::Email { address: mailbox },
                    language: authority.name().source_language(),
                });
            }
            if !settings.notify_users || !authority.is_active() {
                continue;
            }
            for user in self.users_at(authority_id).await? {
                if !user.is_active() {
                    continue;
                }
                let p = Principal::new(&user, &authority);
                let entitled = rights.iter().any(|r| match (&a.procedure, &area) {
                    (Some(procedure), Some(area)) => p.holds(*r, area, procedure),
                    _ => p.has_right(*r),
                });
                if !entitled
                    || self
                        .preferences_of(user.id())
                        .await?
                        .muted
                        .contains(&a.topic)
                {
                    continue;
                }
                let key = format!("user:{}", user.id());
                out.entry(key.clone()).or_insert(Recipient {
                    key,
                    to: Address::Email {
                        address: user.email().clone(),
                    },
                    language: user.language(),
                });
            }
        }
        Ok((out.into_values().collect(), unusable))
    }

    pub(super) async fn users_at(&self, authority: AuthorityId) -> Result<Vec<User>, EngineError> {
        let prefix = keys::user_by_authority(authority, None);
        let ids = self
            .store
            .pages(Scan::prefix(&prefix, 1_000))
            .all()
            .await?
            .iter()
            .map(|e| {
                keys::trailing_id(&e.key)
                    .and_then(|b| UserId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                    .ok_or_else(|| corrupt_index(&e.key))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| keys::user(*id)).collect();
        let found = self.store.get_many(&keys).await?;
        let mut users = Vec::with_capacity(ids.len());
        for (key, v) in keys.iter().zip(found) {
            if let Some(v) = v {
                users.push(decode::<User>(key, &v.value)?);
            }
        }
        Ok(users)
    }

    async fn webhooks_at(&self, authority: AuthorityId) -> Result<Vec<StoredWebhook>, EngineError> {
        let prefix = keys::webhook_by_authority(authority, None);
        let found = self.store.scan(&Scan::prefix(&prefix, 1_000)).await?;
        let mut keys_ = Vec::with_capacity(found.entries.len());
        for e in &found.entries {
            let id = keys::trailing_id(&e.key)
                .and_then(|b| WebhookId::from_uuid(uuid::Uuid::from_bytes(b)).ok())
                .ok_or_else(|| corrupt_index(&e.key))?;
            keys_.push(keys::webhook(id));
        }
        let mut out = Vec::with_capacity(keys_.len());
        for (key, v) in keys_.iter().zip(self.store.get_many(&keys_).await?) {
            if let Some(v) = v {
                out.push(decode::<StoredWebhook>(key, &v.value)?);
            }
        }
        Ok(out)
    }

    /// Registers an endpoint that receives the announcements to `authority` (of `topics`;
    /// empty: all), signed with a new secret (its administrators). The webhook carries
    /// its secret, to be shown once.
    pub async fn register_webhook(
        &self,
        actor: &Actor,
        authority: AuthorityId,
        url: &str,
        topics: BTreeSet<Topic>,
    ) -> Result<Webhook, EngineError> {
        Self::administers(actor, authority, "register a webhook")?;
        check_url_with(url, self.webhook_policy)?;
        let key = self.secret_key.as_ref().ok_or(WebhookError::NoKey)?;
        if self.webhooks_at(authority).await?.len() >= MAX_WEBHOOKS {
            return Err(WebhookError::TooMany { most: MAX_WEBHOOKS }.into());
        }
        let now = self.now();
        let secret = WebhookSecret::from_bytes(&self.ids.secret()?);
        let id = self.ids.webhook(now);
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&self.ids.secret()?[..12]);
        let mut stored = StoredWebhook {
            id,
            authority,
            url: url.to_owned(),
            topics: topics.clone(),
            created_at: now,
            secret: None,
            sealed_secret: None,
        };
        stored.sealed_secret = Some(secret.seal(key, &stored.binding(), nonce));
        let hook = Webhook {
            secret: Some(secret),
            ..stored.listed()
        };
        let mut txn = Txn::new(&*self.store);
        txn.expect_present(keys::authority(authority));
        txn.create(keys::webhook(hook.id), &stored)?;
        txn.put_index(keys::webhook_by_authority(authority, Some(hook.id)));
        self.audit(
            &mut txn,
            actor,
            crate::audit::AuditAction::ChangeAuthority {
                authority,
                change: "register-webhook".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok(hook)
    }

    /// The webhooks of `authority` (its administrators).
    pub async fn webhooks(
        &self,
        actor: &Actor,
        authority: AuthorityId,
    ) -> Result<Vec<Webhook>, EngineError> {
        Self::administers(actor, authority, "read the webhooks")?;
        Ok(self
            .webhooks_at(authority)
            .await?
            .iter()
            .map(StoredWebhook::listed)
            .collect())
    }

    /// Removes a webhook (an administrator of its authority).
    pub async fn delete_webhook(&self, actor: &Actor, id: WebhookId) -> Result<(), EngineError> {
        let mut txn = Txn::new(&*self.store);
        let not_found = || EngineError::NotFound {
            kind: WebhookId::KIND,
            id: id.to_string(),
        };
        let (hook, _) = txn
            .get::<StoredWebhook>(&keys::webhook(id))
            .await?
            .ok_or_else(not_found)?;
        Self::administers(actor, hook.authority, "remove a webhook").map_err(|_| not_found())?;
        txn.delete(keys::webhook(id));
        txn.delete(keys::webhook_by_authority(hook.authority, Some(id)));
        self.audit(
            &mut txn,
            actor,
            crate::audit::AuditAction::ChangeAuthority {
                authority: hook.authority,
                change: "remove-webhook".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await?;
        Ok(())
    }

    async fn settings_of(
        &self,
        authority: AuthorityId,
    ) -> Result<NotificationSettings, EngineError> {
        let key = keys::notification_settings(authority);
        match self.store.get(&key).await? {
            Some(v) => decode(&key, &v.value),
            None => Ok(NotificationSettings::default()),
        }
    }

    async fn preferences_of(&self, user: UserId) -> Result<NotificationPreferences, EngineError> {
        let key = keys::notification_preferences(user);
        match self.store.get(&key).await? {
            Some(v) => decode(&key, &v.value),
            None => Ok(NotificationPreferences::default()),
        }
    }

    /// How `authority` is told (its administrators, the operator).
    pub async fn notification_settings(
        &self,
        actor: &Actor,
        authority: AuthorityId,
    ) -> Result<NotificationSettings, EngineError> {
        Self::administers(actor, authority, "read the notification settings")?;
        self.settings_of(authority).await
    }

    /// Sets how `authority` is told: a functional mailbox and/or its users by name (its
    /// administrators, the operator).
    pub async fn set_notification_settings(
        &self,
        actor: &Actor,
        authority: AuthorityId,
        settings: NotificationSettings,
    ) -> Result<NotificationSettings, EngineError> {
        Self::administers(actor, authority, "change the notification settings")?;
        let mut txn = Txn::new(&*self.store);
        txn.expect_present(keys::authority(authority));
        txn.put(keys::notification_settings(authority), &settings)?;
        self.audit(
            &mut txn,
            actor,
            crate::audit::AuditAction::ChangeAuthority {
                authority,
                change: "notification-settings".to_owned(),
            },
            Self::admin_purpose(actor),
        )?;
        txn.commit().await.map_err(|e| match e {
            EngineError::Conflict(_) => EngineError::NotFound {
                kind: "authority",
                id: authority.to_string(),
            },
            other => other,
        })?;
        Ok(settings)
    }

    /// The signed-in user's own notification preferences.
    pub async fn notification_preferences(
        &self,
        actor: &Actor,
    ) -> Result<NotificationPreferences, EngineError> {
        let p = Self::principal(actor)?;
        self.preferences_of(p.user()).await
    }

    /// Sets the signed-in user's own notification preferences.
    pub async fn set_notification_preferences(
        &self,
        actor: &Actor,
        preferences: NotificationPreferences,
    ) -> Result<NotificationPreferences, EngineError> {
        let p = Self::principal(actor)?;
        let mut txn = Txn::new(&*self.store);
        txn.put(keys::notification_preferences(p.user()), &preferences)?;
        txn.commit().await?;
        Ok(preferences)
    }

    fn administers(
        actor: &Actor,
        authority: AuthorityId,
        action: &'static str,
    ) -> Result<(), EngineError> {
        match actor {
            Actor::System => Ok(()),
            Actor::User(p) if p.authority() == authority && p.has_right(Right::Administrator) => {
                Ok(())
            }
            _ => Err(EngineError::Denied(Denial {
                actor: actor.to_string(),
                action,
                reason: "this needs the administrator right at the authority",
            })),
        }
    }

    /// The dead letters the actor may see, oldest first: every one for the operator, those
    /// addressed to their authority for an administrator.
    pub async fn dead_letters(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<OutboxItem>, EngineError> {
        let own = match actor {
            Actor::System => None,
            Actor::User(p) if p.has_right(Right::Administrator) => Some(p.authority()),
            _ => {
                return Err(EngineError::Denied(Denial {
                    actor: actor.to_string(),
                    action: "read the dead letters",
                    reason: "this needs the administrator right",
                }));
            }
        };
        let prefix = keys::outbox_dead(None);
        let mut scan = Scan::prefix(&prefix, page.limit());
        if let Some(cursor) = page.cursor() {
            scan = scan.resume(cursor.key_within(&prefix)?);
        }
        let mut items = Vec::new();
        let mut pages = self.store.pages(scan);
        while let Some(entries) = pages.next().await? {
            for e in entries {
                let id = keys::trailing_id(&e.key)
                    .map(|b| AnnouncementId(uuid::Uuid::from_bytes(b)))
                    .ok_or_else(|| corrupt_index(&e.key))?;
                let key = keys::outbox(id);
                let Some(v) = self.store.get(&key).await? else {
                    continue;
                };
                let item: OutboxItem = decode(&key, &v.value)?;
                if own.is_none_or(|a| item.announcement.audience.iter().any(|x| x.authority == a)) {
                    items.push(item);
                    if items.len() == page.limit() {
                        return Ok(Page {
                            items,
                            next: Some(Cursor::from_key(e.key)),
                        });
                    }
                }
            }
        }
        Ok(Page { items, next: None })
    }

    /// Gives a dead letter another round of attempts (the operator, or an administrator
    /// of an authority it is addressed to).
    pub async fn retry_dead_letter(
        &self,
        actor: &Actor,
        id: AnnouncementId,
    ) -> Result<OutboxItem, EngineError> {
        let now = self.now();
        let mut txn = Txn::new(&*self.store);
        let not_found = || EngineError::NotFound {
            kind: "dead letter",
            id: id.to_string(),
        };
        let (mut item, _) = txn
            .get::<OutboxItem>(&keys::outbox(id))
            .await?
            .ok_or_else(not_found)?;
        let allowed = match actor {
            Actor::System => true,
            Actor::User(p) => {
                p.has_right(Right::Administrator)
                    && item
                        .announcement
                        .audience
                        .iter()
                        .any(|x| x.authority == p.authority())
            }
            Actor::Public => false,
        };
        if !allowed || !matches!(item.state, DeliveryState::Dead { .. }) {
            return Err(not_found());
        }
        item.state = DeliveryState::Pending {
            attempts: 0,
            next_at: now,
        };
        txn.put(keys::outbox(id), &item)?;
        txn.delete(keys::outbox_dead(Some(id)));
        txn.put_index(keys::outbox_due(now, Some(id)));
        txn.commit().await?;
        Ok(item)
    }
}
