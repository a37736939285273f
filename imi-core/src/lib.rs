//! # imi-core
//!
//! The pure logic of `imi`, an embeddable engine for cross-border administrative
//! cooperation between public authorities (the job the EU's Internal Market Information
//! System does).
//!
//! **This crate does no I/O and reads no clock.** Time comes in through a [`Clock`],
//! storage through the [`Store`] contract, and everything here can be tested with plain
//! values. Adapter crates (`imi-store-sqlite`, `imi-store-sled`) implement the store;
//! `imi-http` puts an HTTP API in front of the [`Engine`].
//!
//! The key design decision is the store contract: an ordered key-value store with atomic
//! multi-key commits and per-key version checks. The core encodes documents, indexes and
//! logs as keys itself, so a backend implements three methods and never changes when a
//! feature is added. The price is that queries are index scans the core must plan by hand;
//! there is no SQL. See `ARCHITECTURE.md`.
//!
//! ```
//! use std::sync::Arc;
//! use imi_core::{Actor, Country, Engine, Language, LocalisedText, ManualClock, MemoryStore,
//!                NewAuthority};
//! # futures::executor::block_on(async {
//! let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
//! let engine = Engine::new(Arc::new(MemoryStore::new()), clock);
//! let name = LocalisedText::new(Language::Danish, "Styrelsen for Patientsikkerhed").unwrap();
//! let new = NewAuthority::new(Country::Denmark, name);
//! let authority = engine.register_authority(&Actor::System, new).await.unwrap();
//! let read = engine.authority(&Actor::System, authority.id()).await.unwrap();
//! assert_eq!(read.name().resolve(Language::German).language, Language::Danish);
//! # });
//! ```

pub mod access;
pub mod alert;
pub mod attachment;
pub mod audit;
pub mod authority;
pub mod case;
pub mod catalogue;
pub mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod country;
mod engine;
pub mod error;
pub mod fold;
pub mod ids;
mod keys;
pub mod language;
pub mod localised;
pub mod notification;
pub mod outbox;
pub mod page;
mod record;
pub mod register;
pub mod repository;
pub mod request;
pub mod solvit;
pub mod store;
pub mod submission;
pub mod survey;
pub mod translate;
pub mod user;
pub mod webhook;
pub mod workflow;

pub use access::{Actor, Decision, Principal};
pub use authority::{
    Authority, AuthorityStatus, AuthorityUpdate, Competence, ContactDetails, CoordinatorRole,
    EmailAddress, NewAuthority, Region,
};
pub use clock::{Clock, ManualClock};
pub use country::{Country, Participant};
pub use engine::{
    AlertBox, AlertCase, AlertNetwork, AlertTimelineEntry, AlertView, ArchivedExchange,
    AttachmentReader, DEFAULT_PRINCIPAL_TTL, DirectoryChange, DirectoryHit, DirectoryQuery,
    DispatchReport, Engine, ExchangeKind, ExchangeQuery, InboxQuery, Indicator, IntegrityReport,
    Invitation, LabelledAnswer, MAX_ATTEMPTS, MAX_CANDIDATES, MAX_UNBLOCK_DAYS, MAX_WEBHOOKS,
    MessageFrom, MessageKind, NewSubmission, NotificationBox, NotificationCase,
    NotificationTimelineEntry, PublicActor, PublicAuthority, PublicTimelineEntry, RecordQuery,
    RegisterHit, RegisterQuery, SubmissionCase, SubmissionExport, SubmissionMessage,
    SubmissionReceipt, SubmissionStatus, SubmissionTimelineEntry, TickReport, Unblock, Verdict,
};
pub use error::EngineError;
pub use ids::{
    AttachmentId, AuthorityId, CaseId, CaseReference, IdGenerator, RecordId, RegisterId, TokenId,
    UserId, WebhookId,
};
pub use language::{Language, LanguagePreferences};
pub use localised::{LocalisedText, Resolved};
pub use page::{Cursor, Page, PageRequest};
pub use store::{MemoryStore, Store, StoreError};
pub use user::{
    Grant, GrantScope, NewUser, SecretToken, TokenError, TokenInfo, TokenRequest, User, UserKind,
};
