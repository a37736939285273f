//! Notification settings of authorities, users' own preferences, and the dead letters of
//! the outbox.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use imi_core::outbox::{
    AnnouncementId, DeliveryState, NotificationPreferences, NotificationSettings, OutboxItem, Topic,
};
use imi_core::{AuthorityId, authority::EmailAddress};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::dto::{Page, PageParams};
use crate::extract::{Body, Caller, Params, parse};
use crate::problem::Problem;

/// How an authority is told of what concerns it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SettingsDto {
    /// A shared functional mailbox that gets every announcement to the authority.
    functional_mailbox: Option<String>,
    /// Whether its users with the right are told by name too.
    notify_users: bool,
}

impl SettingsDto {
    fn of(s: &NotificationSettings) -> Self {
        Self {
            functional_mailbox: s.functional_mailbox.as_ref().map(|e| e.as_str().to_owned()),
            notify_users: s.notify_users,
        }
    }
}

/// An authority's notification settings (its administrators).
#[utoipa::path(get, path = "/v1/authorities/{id}/notification-settings", tag = "outbox", params(("id" = String, Path)), responses((status = 200, body = SettingsDto), (status = 403, body = Problem)))]
pub(crate) async fn get_settings(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<SettingsDto>, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let s = state.engine.notification_settings(&actor, id).await?;
    Ok(Json(SettingsDto::of(&s)))
}

/// Sets an authority's notification settings (its administrators).
#[utoipa::path(put, path = "/v1/authorities/{id}/notification-settings", tag = "outbox", params(("id" = String, Path)), request_body = SettingsDto, responses((status = 200, body = SettingsDto), (status = 400, body = Problem), (status = 403, body = Problem)))]
pub(crate) async fn set_settings(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(dto): Body<SettingsDto>,
) -> Result<Json<SettingsDto>, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let functional_mailbox = match dto.functional_mailbox.as_deref() {
        Some(m) => Some(parse::<EmailAddress>("e-mail address", m)?),
        None => None,
    };
    let s = state
        .engine
        .set_notification_settings(
            &actor,
            id,
            NotificationSettings {
                functional_mailbox,
                notify_users: dto.notify_users,
            },
        )
        .await?;
    Ok(Json(SettingsDto::of(&s)))
}

/// A user's own notification preferences.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PreferencesDto {
    /// Topics the user does not want to be told of: `request-received`,
    /// `request-accepted`, `request-answered`, `clarification-asked`, `reminder`,
    /// `escalation`, `alert-received`, `alert-distributed`,
    /// `registration-awaiting-validation`, `submission-received`.
    #[schema(value_type = Vec<String>)]
    muted: Vec<Topic>,
}

/// The signed-in user's notification preferences.
#[utoipa::path(get, path = "/v1/me/notification-preferences", tag = "outbox", responses((status = 200, body = PreferencesDto), (status = 401, body = Problem)))]
pub(crate) async fn get_preferences(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<PreferencesDto>, Problem> {
    let p = state.engine.notification_preferences(&actor).await?;
    Ok(Json(PreferencesDto {
        muted: p.muted.into_iter().collect(),
    }))
}

/// Sets the signed-in user's notification preferences.
#[utoipa::path(put, path = "/v1/me/notification-preferences", tag = "outbox", request_body = PreferencesDto, responses((status = 200, body = PreferencesDto), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub(crate) async fn set_preferences(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Body(dto): Body<PreferencesDto>,
) -> Result<Json<PreferencesDto>, Problem> {
    let p = state
        .engine
        .set_notification_preferences(
            &actor,
            NotificationPreferences {
                muted: dto.muted.into_iter().collect(),
            },
        )
        .await?;
    Ok(Json(PreferencesDto {
        muted: p.muted.into_iter().collect(),
    }))
}

/// An announcement that could not be delivered.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DeadLetterDto {
    id: String,
    /// What happened.
    #[schema(value_type = String)]
    topic: Topic,
    /// `{ "kind": "request", "case": …, "reference": … }` and the like.
    #[schema(value_type = Object)]
    subject: serde_json::Value,
    at: DateTime<Utc>,
    attempts: u32,
    /// The last failure of each message that failed.
    errors: Vec<String>,
}

fn dead_letter(item: &OutboxItem) -> DeadLetterDto {
    DeadLetterDto {
        id: item.announcement.id.to_string(),
        topic: item.announcement.topic,
        subject: serde_json::to_value(item.announcement.subject).unwrap_or_default(),
        at: item.announcement.at,
        attempts: match item.state {
            DeliveryState::Pending { attempts, .. }
            | DeliveryState::Leased { attempts, .. }
            | DeliveryState::Delivered { attempts, .. }
            | DeliveryState::Dead { attempts, .. } => attempts,
        },
        errors: item
            .last_errors
            .iter()
            .map(|(key, e)| format!("{key}: {e}"))
            .collect(),
    }
}

/// The dead letters the caller may see (administrators: those addressed to their
/// authority).
#[utoipa::path(get, path = "/v1/dead-letters", tag = "outbox", params(PageParams), responses((status = 200, body = Page<DeadLetterDto>), (status = 403, body = Problem)))]
pub(crate) async fn dead_letters(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Params(p): Params<PageParams>,
) -> Result<Json<Page<DeadLetterDto>>, Problem> {
    let found = state.engine.dead_letters(&actor, p.into_core()?).await?;
    Ok(Json(Page::of(found, dead_letter)))
}

/// Gives a dead letter another round of attempts.
#[utoipa::path(post, path = "/v1/dead-letters/{id}/retry", tag = "outbox", params(("id" = String, Path)), responses((status = 200, body = DeadLetterDto), (status = 404, body = Problem)))]
pub(crate) async fn retry(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<DeadLetterDto>, Problem> {
    let id = AnnouncementId(parse::<uuid::Uuid>("dead letter id", &id)?);
    let item = state.engine.retry_dead_letter(&actor, id).await?;
    Ok(Json(dead_letter(&item)))
}

/// A webhook to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewWebhookDto {
    /// `https://…` (or `http://` to the server's own machine).
    url: String,
    /// The topics to receive; empty or absent: every topic.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    topics: Vec<Topic>,
}

/// A registered webhook. The secret is shown only in the answer to its registration.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct WebhookDto {
    id: String,
    authority: String,
    url: String,
    #[schema(value_type = Vec<String>)]
    topics: Vec<Topic>,
    created_at: DateTime<Utc>,
    /// `whsec_…`: sign-checking key, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn webhook_dto(h: &imi_core::webhook::Webhook, show_secret: bool) -> WebhookDto {
    WebhookDto {
        id: h.id.to_string(),
        authority: h.authority.to_string(),
        url: h.url.clone(),
        topics: h.topics.iter().copied().collect(),
        created_at: h.created_at,
        secret: h
            .secret
            .as_ref()
            .filter(|_| show_secret)
            .map(imi_core::webhook::WebhookSecret::expose),
    }
}

/// Registers a webhook for an authority's announcements (its administrators). Deliveries
/// are signed as Standard Webhooks: see `imi_core::webhook` for the check.
#[utoipa::path(post, path = "/v1/authorities/{id}/webhooks", tag = "outbox", params(("id" = String, Path)), request_body = NewWebhookDto, responses((status = 201, body = WebhookDto), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub(crate) async fn register_webhook(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
    Body(dto): Body<NewWebhookDto>,
) -> Result<axum::response::Response, Problem> {
    use axum::response::IntoResponse;
    let id: AuthorityId = parse("authority id", &id)?;
    let hook = state
        .engine
        .register_webhook(&actor, id, &dto.url, dto.topics.into_iter().collect())
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(webhook_dto(&hook, true)),
    )
        .into_response())
}

/// An authority's webhooks (its administrators), without their secrets.
#[utoipa::path(get, path = "/v1/authorities/{id}/webhooks", tag = "outbox", params(("id" = String, Path)), responses((status = 200, body = Vec<WebhookDto>), (status = 403, body = Problem)))]
pub(crate) async fn webhooks(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<WebhookDto>>, Problem> {
    let id: AuthorityId = parse("authority id", &id)?;
    let hooks = state.engine.webhooks(&actor, id).await?;
    Ok(Json(hooks.iter().map(|h| webhook_dto(h, false)).collect()))
}

/// Removes a webhook (an administrator of its authority).
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "outbox", params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
pub(crate) async fn delete_webhook(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, Problem> {
    let id: imi_core::WebhookId = parse("webhook id", &id)?;
    state.engine.delete_webhook(&actor, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Where to continue a feed.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedParams {
    /// The `cursor` of the previous answer; absent: from the start.
    cursor: Option<String>,
    /// At most this many events (1 to 1000, default 100).
    limit: Option<usize>,
}

/// One event of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FeedEventDto {
    /// The announcement; also the stem of its messages' idempotency keys.
    id: String,
    at: DateTime<Utc>,
    #[schema(value_type = String)]
    topic: Topic,
    /// `{ "kind": "request", "case": …, "reference": … }` and the like.
    #[schema(value_type = Object)]
    subject: serde_json::Value,
    /// The path of the thing in this API.
    link: String,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FeedDto {
    items: Vec<FeedEventDto>,
    /// Pass it back as `cursor` to get what came since; given even when the page is short.
    cursor: Option<String>,
}

/// The event feed of the caller's authority: the announcements addressed to it that
/// concern the caller's rights, oldest first. Poll with the returned `cursor`.
#[utoipa::path(get, path = "/v1/feed", tag = "outbox", params(FeedParams), responses((status = 200, body = FeedDto), (status = 400, body = Problem), (status = 401, body = Problem)))]
pub(crate) async fn feed(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Params(p): Params<FeedParams>,
) -> Result<Json<FeedDto>, Problem> {
    let cursor = match p.cursor.as_deref() {
        Some(c) => Some(parse::<imi_core::Cursor>("cursor", c)?),
        None => None,
    };
    let page = state
        .engine
        .feed(&actor, cursor.as_ref(), p.limit.unwrap_or(100))
        .await?;
    Ok(Json(FeedDto {
        items: page
            .items
            .iter()
            .map(|e| FeedEventDto {
                id: e.id.to_string(),
                at: e.at,
                topic: e.topic,
                subject: serde_json::to_value(e.subject).unwrap_or_default(),
                link: e.subject.link(),
            })
            .collect(),
        cursor: page.cursor.map(|c| c.to_string()),
    }))
}
