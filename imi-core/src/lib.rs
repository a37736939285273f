//! # imi-core
//!
//! The pure logic of `imi`, an embeddable engine for cross-border administrative
//! cooperation between public authorities (the job the EU's Internal Market Information
//! System does).
//!
//! **This crate does no I/O and reads no clock.** Time comes in through a [`Clock`],
//! storage through the [`Store`](store::Store) contract, and everything here can be tested with plain
//! values. Adapter crates (`imi-store-sqlite`, `imi-store-sled`) implement the store;
//! `imi-http` puts an HTTP API in front of the [`Engine`].
//!
//! The key design decision is the store contract: an ordered key-value store with atomic
//! multi-key commits and per-key version checks. The core encodes documents, indexes and
//! logs as keys itself, so a backend implements three methods and never changes when a
//! feature is added. The price is that queries are index scans the core must plan by hand;
//! there is no SQL. See `ARCHITECTURE.md`.
//!
//! **Every public item has one path.** At the root: the [`Engine`] and the views and
//! queries only it defines, and the vocabulary every call uses (ids, [`Country`],
//! [`Language`], [`LocalisedText`], pages, the [`Clock`], [`EngineError`]). Everything
//! else lives in the module named for its concern: [`access::Actor`],
//! [`authority::NewAuthority`], [`user::NewUser`], [`store::Store`], [`catalogue`],
//! [`request`], [`alert`], and so on.
//!
//! ```
//! use std::sync::Arc;
//! use imi_core::{access::Actor, Country, Engine, Language, LocalisedText, ManualClock, store::MemoryStore,
//!                authority::NewAuthority};
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
mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
mod country;
mod engine;
mod error;
pub mod fold;
mod ids;
mod keys;
mod language;
mod localised;
pub mod notification;
pub mod outbox;
mod page;
mod record;
pub mod register;
pub mod repository;
pub mod request;
pub mod session;
pub mod solvit;
pub mod store;
pub mod submission;
pub mod survey;
pub mod translate;
pub mod user;
pub mod webhook;
pub mod workflow;

pub use clock::{Clock, ManualClock};
pub use country::{Country, CountryError, Participant};
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
pub use error::{EngineError, StateError};
pub use ids::{
    AttachmentId, AuthorityId, CaseId, CaseReference, IdError, IdGenerator, RecordId, RegisterId,
    SecretError, TokenId, UserId, WebhookId,
};
pub use language::{
    Language, LanguageError, LanguagePreferences, LanguageRange, Preference, parse_tag,
};
pub use localised::{LocalisedText, LocalisedTextError, Resolved};
pub use page::{Cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageError, PageRequest};
