//! Case pages written once for every workflow on the engine's shared case handling:
//! a workflow's boxes, a new case, a case's page (its facts, its answers, the command
//! forms the engine offers the reader now, its timeline) and its command posts. A workflow
//! implements [`CasePage`]: which engine calls serve it and what its case shows in the
//! summary ([`Head`]); everything else, and all markup, is here. Its texts are the
//! translation files' `nav-<path>`, `new-<path>`, `case-<path>`, `box-<box>`,
//! `stage-<stage>`, `party-<role>`, `event-<event>`, `command-<form>` and `field-<member>`.

use axum::Form;
use axum::Router;
use axum::extract::{Path, Query};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use fluent_bundle::FluentArgs;
use imi_core::access::Actor;
use imi_core::case::{ActorRef, TimelineEntry};
use imi_core::catalogue::{Answers, ProcedureId, QuestionSetVersion, WorkflowKind};
use imi_core::solvit::{SolvitBox, SolvitCase};
use imi_core::store::Version;
use imi_core::submission::SubmissionStage;
use imi_core::survey::{SurveyBox, SurveyCase};
use imi_core::workflow::{CaseKind, Command, FieldKind, Workflow as _};
use imi_core::{
    AlertBox, AlertView, AuthorityId, CaseId, CaseReference, Engine, EngineError, NotificationBox,
    NotificationCase, Page, PageRequest, SubmissionCase,
};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

use crate::forms::{Posted, Subject, answers_list, command_forms, event_name, event_texts};
use crate::pages::{Body, authority_name, missing, next_link, not_offered, page_request, same};
use crate::{Ctx, WebError, WebState};

/// What a case's page shows above its answers, taken from the workflow's case.
pub(crate) struct Head<'a> {
    pub(crate) id: CaseId,
    pub(crate) reference: &'a CaseReference,
    pub(crate) procedure: &'a ProcedureId,
    pub(crate) question_set: &'a QuestionSetVersion,
    /// The stage's name (`stage-<name>` is its text).
    pub(crate) stage: &'static str,
    pub(crate) updated_at: DateTime<Utc>,
    /// The authorities taking part, by role (`party-<role>` is the role's text).
    pub(crate) parties: Vec<(&'static str, AuthorityId)>,
    /// Other facts, by name (`fact-<name>`), already as text (dates, country codes).
    pub(crate) facts: Vec<(&'static str, String)>,
    /// Groups of answers (`answers-<name>` is the heading).
    pub(crate) answers: Vec<(&'static str, &'a Answers)>,
    /// A note on what the reader does not see (`notice-<name>`).
    pub(crate) notice: Option<&'static str>,
    /// The author's side's answers a draft form starts with.
    pub(crate) draft: Option<&'a Answers>,
    /// The reader's own authority in the case (left out of pickers of a counterpart).
    pub(crate) own: Option<AuthorityId>,
    /// The side whose answers a rectification corrects, and those answers.
    pub(crate) mine: Option<(imi_core::catalogue::Side, &'a Answers)>,
}

/// A workflow's cases, as the web application serves them.
pub(crate) trait CasePage: Send + Sync + 'static {
    /// The pages' path (`alerts`): `/alerts`, `/alerts/new`, `/alerts/<id>`.
    const PATH: &'static str;
    /// Which engine workflow, for the commands offered.
    const KIND: CaseKind;
    /// The procedures a new case is created from; `None`: cases are not created here.
    const CREATES: Option<WorkflowKind>;
    /// The case as the engine gives it to one reader.
    type View: Send + Sync;
    /// Its commands.
    type Command: Command;
    /// Its timeline's events.
    type Event: Serialize + Send + Sync;
    /// Its boxes.
    type Box: Copy + Send + Sync + 'static;
    /// The boxes by name (`box-<name>` is the text), the first the default.
    const BOXES: &'static [(&'static str, Self::Box)];
    /// The boxes whose cases wait for the reader, counted on the home page.
    const WAITING: &'static [&'static str];

    /// One page of a box.
    fn list(
        engine: &Engine,
        actor: &Actor,
        which: Self::Box,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Self::View>, EngineError>> + Send;

    /// A case as `actor` may see it.
    fn read(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> impl Future<Output = Result<(Self::View, Version), EngineError>> + Send;

    /// Its timeline as `actor` may see it.
    fn timeline(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
    ) -> impl Future<Output = Result<Vec<TimelineEntry<Self::Event>>, EngineError>> + Send;

    /// One command.
    fn act(
        engine: &Engine,
        actor: &Actor,
        id: CaseId,
        command: Self::Command,
        version: Version,
    ) -> impl Future<Output = Result<(), EngineError>> + Send;

    /// A new case of `procedure`; its id.
    fn create(
        engine: &Engine,
        actor: &Actor,
        procedure: &ProcedureId,
    ) -> impl Future<Output = Result<CaseId, EngineError>> + Send;

    /// What its page shows of it.
    fn head(view: &Self::View) -> Head<'_>;

    /// A part of the page of the workflow's own, below the commands (a survey's answer
    /// form for the authorities it asks). None by default.
    fn extra(
        _ctx: &Ctx,
        _view: &Self::View,
    ) -> impl Future<Output = Result<Markup, WebError>> + Send {
        async { Ok(html! {}) }
    }
}

/// The routes of workflow `P`.
pub(crate) fn routes<P: CasePage>(router: Router<WebState>) -> Router<WebState> {
    let base = format!("/{}", P::PATH);
    router
        .route(&base, get(case_box::<P>))
        .route(&format!("{base}/new"), get(new_form::<P>).post(create::<P>))
        .route(&format!("{base}/{{id}}"), get(case::<P>))
        .route(
            &format!("{base}/{{id}}/commands/{{form}}"),
            post(command::<P>),
        )
}

#[derive(Deserialize)]
pub(crate) struct BoxParams {
    #[serde(rename = "box")]
    which: Option<String>,
    cursor: Option<String>,
}

async fn case_box<P: CasePage>(ctx: Ctx, Query(p): Query<BoxParams>) -> Response {
    let outcome = box_body::<P>(&ctx, &p).await;
    ctx.render(outcome)
}

async fn box_body<P: CasePage>(ctx: &Ctx, p: &BoxParams) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let (name, which) = match p.which.as_deref().filter(|w| !w.is_empty()) {
        None => P::BOXES.first().copied().ok_or_else(missing)?,
        Some(w) => P::BOXES
            .iter()
            .find(|(n, _)| *n == w)
            .copied()
            .ok_or_else(|| WebError::BadInput("box".into()))?,
    };
    let page = P::list(
        &ctx.web.engine,
        actor,
        which,
        page_request(p.cursor.as_deref())?,
    )
    .await?;
    let catalogue = ctx.web.engine.catalogue();
    let base = format!("/{}", P::PATH);
    let title = ctx.s(&format!("nav-{}", P::PATH));
    let body = html! {
        h1 { (title) }
        @if P::CREATES.is_some() {
            p { a href=(format!("{base}/new")) { (ctx.t(&format!("new-{}", P::PATH))) } }
        }
        @if P::BOXES.len() > 1 {
            nav aria-label=(ctx.s("boxes")) {
                ul.tabs {
                    @for (n, _) in P::BOXES {
                        li {
                            @if *n == name {
                                a href=(format!("{base}?box={n}")) aria-current="page" { (ctx.t(&format!("box-{n}"))) }
                            } @else {
                                a href=(format!("{base}?box={n}")) { (ctx.t(&format!("box-{n}"))) }
                            }
                        }
                    }
                }
            }
        }
        h2 { (ctx.t(&format!("box-{name}"))) }
        @if page.items.is_empty() {
            p { (ctx.t("nothing-here")) }
        } @else {
            table {
                thead { tr {
                    th scope="col" { (ctx.t("reference")) }
                    th scope="col" { (ctx.t("procedure")) }
                    th scope="col" { (ctx.t("stage")) }
                    th scope="col" { (ctx.t("updated")) }
                } }
                tbody {
                    @for v in &page.items {
                        @let h = P::head(v);
                        tr {
                            td { a href=(format!("{base}/{}", h.id)) { (h.reference.to_string()) } }
                            td { @match catalogue.procedure(h.procedure) { Some(p) => (ctx.lt(&p.name)), None => (h.procedure.to_string()) } }
                            td { (ctx.t(&format!("stage-{}", h.stage))) }
                            td { time datetime=(h.updated_at.to_rfc3339()) { (h.updated_at.format("%Y-%m-%d")) } }
                        }
                    }
                }
            }
        }
        (next_link(ctx, &page, &base, &[("box", name)]))
    };
    Ok((title, body))
}

/// What waits for the reader in workflow `P`: `(box text, link, count, more)` for each
/// of its waiting boxes that holds something. A box the reader may not open counts
/// nothing.
async fn waiting_in<P: CasePage>(ctx: &Ctx, out: &mut Vec<(String, String, usize, bool)>) {
    let Ok(actor) = ctx.user() else { return };
    for name in P::WAITING {
        let Some((_, which)) = P::BOXES.iter().find(|(n, _)| n == name) else {
            continue;
        };
        let Ok(first) = PageRequest::first(100) else {
            return;
        };
        if let Ok(page) = P::list(&ctx.web.engine, actor, *which, first).await
            && !page.items.is_empty()
        {
            out.push((
                format!(
                    "{} — {}",
                    ctx.s(&format!("nav-{}", P::PATH)),
                    ctx.s(&format!("box-{name}"))
                ),
                format!("/{}?box={name}", P::PATH),
                page.items.len(),
                page.next.is_some(),
            ));
        }
    }
}

/// What waits for the reader in every workflow with generic pages, for the home page.
pub(crate) async fn waiting(ctx: &Ctx) -> Vec<(String, String, usize, bool)> {
    let mut out = Vec::new();
    waiting_in::<Alerts>(ctx, &mut out).await;
    waiting_in::<Notifications>(ctx, &mut out).await;
    waiting_in::<Submissions>(ctx, &mut out).await;
    waiting_in::<Solvit>(ctx, &mut out).await;
    waiting_in::<Surveys>(ctx, &mut out).await;
    out
}

async fn new_form<P: CasePage>(ctx: Ctx) -> Response {
    let outcome = new_body::<P>(&ctx).await;
    ctx.render(outcome)
}

async fn new_body<P: CasePage>(ctx: &Ctx) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let kind = P::CREATES.ok_or_else(missing)?;
    let Actor::User(p) = actor else {
        return Err(WebError::SignIn);
    };
    let mine = ctx.web.engine.authority(actor, p.authority()).await?;
    let catalogue = ctx.web.engine.catalogue();
    let procedures: Vec<_> = catalogue
        .procedures()
        .filter(|p| p.workflow.kind() == kind && mine.procedures().contains(&p.id))
        .collect();
    let title = ctx.s(&format!("new-{}", P::PATH));
    let body = html! {
        h1 { (title) }
        @if procedures.is_empty() {
            p { (ctx.t("no-procedures")) }
        } @else {
            form method="post" action=(format!("/{}/new", P::PATH)) {
                input type="hidden" name="csrf" value=(ctx.csrf());
                div.field {
                    label for="procedure" { (ctx.t("procedure")) }
                    select #procedure name="procedure" required {
                        @for p in &procedures {
                            option value=(p.id.to_string()) { (ctx.lt(&p.name)) }
                        }
                    }
                }
                button type="submit" { (ctx.t("create-draft")) }
            }
        }
    };
    Ok((title, body))
}

#[derive(Deserialize)]
pub(crate) struct NewForm {
    csrf: String,
    procedure: String,
}

async fn create<P: CasePage>(ctx: Ctx, Form(form): Form<NewForm>) -> Response {
    let outcome = async {
        let actor = ctx.user()?;
        if !same(&form.csrf, &ctx.csrf()) {
            return Err(WebError::Forged);
        }
        P::CREATES.ok_or_else(missing)?;
        let procedure = form
            .procedure
            .parse()
            .map_err(|_| WebError::BadInput("procedure".into()))?;
        let id = P::create(&ctx.web.engine, actor, &procedure).await?;
        Ok(format!("/{}/{id}", P::PATH))
    }
    .await;
    ctx.after_post(outcome)
}

/// A case page's parameters.
#[derive(Deserialize)]
pub(crate) struct CaseParams {
    /// Words to find an authority by, for the pickers.
    pub(crate) find: Option<String>,
}

async fn case<P: CasePage>(
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<CaseParams>,
) -> Response {
    let outcome = case_body::<P>(&ctx, &id, q.find.as_deref()).await;
    ctx.render(outcome)
}

async fn case_body<P: CasePage>(ctx: &Ctx, id: &str, find: Option<&str>) -> Result<Body, WebError> {
    let actor = ctx.user()?;
    let id: CaseId = id.parse().map_err(|_| missing())?;
    let engine = &ctx.web.engine;
    let (view, version) = P::read(engine, actor, id).await?;
    // Some readers see a case but not its history or commands (the authorities a survey
    // asks see the survey, not how its author ran it): for them, none is shown.
    let timeline = seen_only(P::timeline(engine, actor, id).await)?;
    let offered = seen_only(engine.case_commands(actor, P::KIND, id).await)?.unwrap_or_default();
    let h = P::head(&view);
    let catalogue = engine.catalogue();
    let set = catalogue.question_set(&h.question_set.id, h.question_set.version);
    let subject = Subject {
        path: format!("/{}/{id}", P::PATH),
        version,
        procedure: h.procedure,
        own: h.own,
        draft: h.draft,
        set,
        find,
        uploads: false,
        mine: h.mine,
    };
    let forms = command_forms(ctx, &subject, &offered).await;
    let mut args = FluentArgs::new();
    args.set("reference", h.reference.to_string());
    let title = ctx
        .web
        .texts
        .get(ctx.lang, &format!("case-{}", P::PATH), Some(&args))
        .text;
    let mut parties = Vec::new();
    for (role, a) in &h.parties {
        parties.push((*role, authority_name(ctx, *a).await));
    }
    let actors = match &timeline {
        Some(t) => timeline_actors(ctx, t).await,
        None => Vec::new(),
    };
    let extra = P::extra(ctx, &view).await?;
    let body = html! {
        h1 { (title) }
        dl.summary {
            dt { (ctx.t("procedure")) }
            dd { @match catalogue.procedure(h.procedure) { Some(p) => (ctx.lt(&p.name)), None => (h.procedure.to_string()) } }
            @for (role, name) in &parties { dt { (ctx.t(&format!("party-{role}"))) } dd { (name) } }
            dt { (ctx.t("stage")) } dd { (ctx.t(&format!("stage-{}", h.stage))) }
            @for (fact, value) in &h.facts { dt { (ctx.t(&format!("fact-{fact}"))) } dd { (value) } }
        }
        @if let Some(n) = h.notice { p.notice { (ctx.t(&format!("notice-{n}"))) } }
        @for (name, answers) in &h.answers {
            @if !answers.is_empty() {
                h2 { (ctx.t(&format!("answers-{name}"))) }
                (answers_list(ctx, answers, set))
            }
        }
        @if !forms.is_empty() {
            h2 { (ctx.t("actions")) }
            @for form in &forms { (form) }
        }
        (extra)
        @if let Some(timeline) = &timeline {
            (timeline_table(ctx, timeline, &actors, &|_| html! {}))
        }
    };
    Ok((title, body))
}

/// Who did each step of a timeline: the authority's name, or the system.
pub(crate) async fn timeline_actors<E>(ctx: &Ctx, timeline: &[TimelineEntry<E>]) -> Vec<Markup> {
    let mut actors = Vec::new();
    for e in timeline {
        actors.push(match e.actor {
            ActorRef::User { authority, .. } => authority_name(ctx, authority).await,
            ActorRef::Submitter => ctx.t("submitter"),
            ActorRef::System => ctx.t("system"),
        });
    }
    actors
}

/// A case's timeline, oldest first.
pub(crate) fn timeline_table<E: Serialize>(
    ctx: &Ctx,
    timeline: &[TimelineEntry<E>],
    actors: &[Markup],
    extra: &dyn Fn(&TimelineEntry<E>) -> Markup,
) -> Markup {
    html! {
        h2 { (ctx.t("timeline")) }
        table.timeline {
            thead { tr { th scope="col" { (ctx.t("when")) } th scope="col" { (ctx.t("who")) } th scope="col" { (ctx.t("what")) } } }
            tbody {
                @for (e, who) in timeline.iter().zip(actors) {
                    tr id=(format!("t{}", e.seq)) {
                        td { time datetime=(e.at.to_rfc3339()) { (e.at.format("%Y-%m-%d %H:%M")) } }
                        td { (who) }
                        td {
                            (ctx.t(&format!("event-{}", event_name(&e.event))))
                            @for said in event_texts(&e.event) { p.said { (said) } }
                            (extra(e))
                        }
                    }
                }
            }
        }
    }
}

async fn command<P: CasePage>(
    ctx: Ctx,
    Path((id, form)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let outcome = run_command::<P>(&ctx, &id, &form, &pairs).await;
    ctx.after_post(outcome.map(|id| format!("/{}/{id}", P::PATH)))
}

async fn run_command<P: CasePage>(
    ctx: &Ctx,
    id: &str,
    form: &str,
    pairs: &[(String, String)],
) -> Result<CaseId, WebError> {
    let actor = ctx.user()?;
    let posted = Posted(pairs);
    if !same(posted.value("csrf").unwrap_or_default(), &ctx.csrf()) {
        return Err(WebError::Forged);
    }
    let id: CaseId = id.parse().map_err(|_| missing())?;
    let version = posted.version()?;
    let engine = &ctx.web.engine;
    // Only a command the page offered: one the machine allows this reader now.
    let spec = engine
        .case_commands(actor, P::KIND, id)
        .await?
        .into_iter()
        .find(|s| s.id == form)
        .ok_or_else(|| not_offered(actor))?;
    let command = if spec.fields.iter().any(|f| f.kind == FieldKind::Answers) {
        // The question set and the saved answers (an audited read of the case).
        let (view, _) = P::read(engine, actor, id).await?;
        let h = P::head(&view);
        let catalogue = engine.catalogue();
        let set = catalogue.question_set(&h.question_set.id, h.question_set.version);
        posted.command(spec, set, h.draft)?
    } else {
        posted.command(spec, None, None)?
    };
    P::act(engine, actor, id, command, version).await?;
    Ok(id)
}

// ---- The workflows ----

/// A workflow's `read`, `timeline` and `act` in [`CasePage`]: the engine's methods of
/// those names, with the signed-in actor.
macro_rules! engine_calls {
    (read = $read:ident, timeline = $timeline:ident, act = $act:ident) => {
        async fn read(
            engine: &Engine,
            actor: &Actor,
            id: CaseId,
        ) -> Result<(Self::View, Version), EngineError> {
            engine.$read(actor, id).await
        }

        async fn timeline(
            engine: &Engine,
            actor: &Actor,
            id: CaseId,
        ) -> Result<Vec<TimelineEntry<Self::Event>>, EngineError> {
            engine.$timeline(actor, id).await
        }

        async fn act(
            engine: &Engine,
            actor: &Actor,
            id: CaseId,
            command: Self::Command,
            version: Version,
        ) -> Result<(), EngineError> {
            engine.$act(actor, id, command, Some(version)).await?;
            Ok(())
        }
    };
}

/// Countries as text, by code.
fn codes<'a>(it: impl IntoIterator<Item = &'a imi_core::Participant>) -> String {
    it.into_iter()
        .map(|p| p.code())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Alerts.
pub(crate) struct Alerts;

impl CasePage for Alerts {
    const PATH: &'static str = "alerts";
    const WAITING: &'static [&'static str] = &["handling", "validation", "incoming"];
    const KIND: CaseKind = CaseKind::Alert;
    const CREATES: Option<WorkflowKind> = Some(WorkflowKind::Alert);
    type View = AlertView;
    type Command = imi_core::alert::AlertCommand;
    type Event = imi_core::alert::AlertEvent;
    type Box = AlertBox;
    const BOXES: &'static [(&'static str, AlertBox)] = &[
        ("handling", AlertBox::Handling),
        ("sent", AlertBox::Sent),
        ("validation", AlertBox::Validation),
        ("incoming", AlertBox::Incoming),
    ];

    async fn list(
        engine: &Engine,
        actor: &Actor,
        which: AlertBox,
        page: PageRequest,
    ) -> Result<Page<AlertView>, EngineError> {
        engine.alerts(actor, which, None, page).await
    }

    engine_calls!(read = alert, timeline = alert_timeline, act = act_on_alert);

    async fn create(
        engine: &Engine,
        actor: &Actor,
        procedure: &ProcedureId,
    ) -> Result<CaseId, EngineError> {
        Ok(engine.create_alert(actor, procedure).await?.case.id)
    }

    fn head(v: &AlertView) -> Head<'_> {
        let c = &v.case;
        let a = &c.alert;
        let mut facts = Vec::new();
        if !a.recipients().is_empty() {
            facts.push(("recipients", codes(a.recipients())));
        }
        facts.push(("acknowledged", a.acknowledged().len().to_string()));
        Head {
            id: c.id,
            reference: &c.reference,
            procedure: &c.procedure,
            question_set: &c.question_set,
            stage: a.stage().name(),
            updated_at: c.updated_at,
            parties: vec![("sender", c.sender)],
            facts,
            answers: vec![("alert", a.answers())],
            notice: match v.visibility {
                imi_core::alert::AlertVisibility::Full => None,
                imi_core::alert::AlertVisibility::Summary => Some("summary-only"),
            },
            draft: Some(a.answers()),
            own: Some(c.sender),
            mine: Some((imi_core::catalogue::Side::Requester, a.answers())),
        }
    }
}

/// Notifications of draft measures.
pub(crate) struct Notifications;

impl CasePage for Notifications {
    const PATH: &'static str = "notifications";
    const WAITING: &'static [&'static str] = &["received"];
    const KIND: CaseKind = CaseKind::Notification;
    const CREATES: Option<WorkflowKind> = Some(WorkflowKind::Notification);
    type View = NotificationCase;
    type Command = imi_core::notification::NotificationCommand;
    type Event = imi_core::notification::NotificationEvent;
    type Box = NotificationBox;
    const BOXES: &'static [(&'static str, NotificationBox)] = &[
        ("received", NotificationBox::Received),
        ("sent", NotificationBox::Sent),
    ];

    async fn list(
        engine: &Engine,
        actor: &Actor,
        which: NotificationBox,
        page: PageRequest,
    ) -> Result<Page<NotificationCase>, EngineError> {
        engine.notifications(actor, which, None, page).await
    }

    engine_calls!(
        read = notification,
        timeline = notification_timeline,
        act = act_on_notification
    );

    async fn create(
        engine: &Engine,
        actor: &Actor,
        procedure: &ProcedureId,
    ) -> Result<CaseId, EngineError> {
        Ok(engine.create_notification(actor, procedure).await?.id)
    }

    fn head(c: &NotificationCase) -> Head<'_> {
        let n = &c.notification;
        let mut facts = Vec::new();
        if !n.recipients().is_empty() {
            facts.push(("recipients", codes(n.recipients())));
        }
        Head {
            id: c.id,
            reference: &c.reference,
            procedure: &c.procedure,
            question_set: &c.question_set,
            stage: n.stage().name(),
            updated_at: c.updated_at,
            parties: vec![("sender", c.sender)],
            facts,
            answers: vec![("notification", n.answers())],
            notice: None,
            draft: Some(n.answers()),
            own: Some(c.sender),
            mine: None,
        }
    }
}

/// Public submissions, as the competent authority handles them.
pub(crate) struct Submissions;

impl CasePage for Submissions {
    const PATH: &'static str = "submissions";
    const WAITING: &'static [&'static str] = &["new", "in-handling"];
    const KIND: CaseKind = CaseKind::Submission;
    const CREATES: Option<WorkflowKind> = None;
    type View = SubmissionCase;
    type Command = imi_core::submission::SubmissionCommand;
    type Event = imi_core::submission::SubmissionEvent;
    type Box = Option<SubmissionStage>;
    const BOXES: &'static [(&'static str, Option<SubmissionStage>)] = &[
        ("new", Some(SubmissionStage::Received)),
        ("in-handling", Some(SubmissionStage::InHandling)),
        (
            "awaiting-submitter",
            Some(SubmissionStage::AwaitingSubmitter),
        ),
        ("all", None),
    ];

    async fn list(
        engine: &Engine,
        actor: &Actor,
        which: Option<SubmissionStage>,
        page: PageRequest,
    ) -> Result<Page<SubmissionCase>, EngineError> {
        engine.submissions(actor, which, page).await
    }

    engine_calls!(
        read = submission,
        timeline = submission_timeline,
        act = act_on_submission
    );

    async fn create(
        _engine: &Engine,
        _actor: &Actor,
        _procedure: &ProcedureId,
    ) -> Result<CaseId, EngineError> {
        Err(EngineError::NotFound {
            kind: "page",
            id: "new submission".into(),
        })
    }

    fn head(c: &SubmissionCase) -> Head<'_> {
        let s = &c.submission;
        Head {
            id: c.id,
            reference: &c.reference,
            procedure: &c.procedure,
            question_set: &c.question_set,
            stage: s.stage().name(),
            updated_at: c.updated_at,
            parties: vec![("competent", c.authority)],
            facts: vec![("submitter-language", s.language().code().to_owned())],
            answers: vec![("submission", s.answers()), ("reply", s.reply())],
            notice: None,
            draft: None,
            own: Some(c.authority),
            mine: None,
        }
    }
}

/// SOLVIT cases between the centres.
pub(crate) struct Solvit;

impl CasePage for Solvit {
    const PATH: &'static str = "solvit";
    const WAITING: &'static [&'static str] = &["lead"];
    const KIND: CaseKind = CaseKind::Solvit;
    const CREATES: Option<WorkflowKind> = Some(WorkflowKind::Solvit);
    type View = SolvitCase;
    type Command = imi_core::solvit::SolvitCommand;
    type Event = imi_core::solvit::SolvitEvent;
    type Box = SolvitBox;
    const BOXES: &'static [(&'static str, SolvitBox)] =
        &[("home", SolvitBox::Home), ("lead", SolvitBox::Lead)];

    async fn list(
        engine: &Engine,
        actor: &Actor,
        which: SolvitBox,
        page: PageRequest,
    ) -> Result<Page<SolvitCase>, EngineError> {
        engine.solvit_cases(actor, which, None, page).await
    }

    engine_calls!(
        read = solvit_case,
        timeline = solvit_timeline,
        act = act_on_solvit_case
    );

    async fn create(
        engine: &Engine,
        actor: &Actor,
        procedure: &ProcedureId,
    ) -> Result<CaseId, EngineError> {
        Ok(engine
            .create_solvit_case(actor, procedure, None, None)
            .await?
            .id)
    }

    fn head(c: &SolvitCase) -> Head<'_> {
        let s = &c.solvit;
        let mut parties = vec![("home", c.home)];
        if let Some(lead) = s.state().lead() {
            parties.push(("lead", lead));
        }
        let mut facts = Vec::new();
        if let Some(due) = s.state().due() {
            facts.push(("due", due.to_string()));
        }
        Head {
            id: c.id,
            reference: &c.reference,
            procedure: &c.procedure,
            question_set: &c.question_set,
            stage: s.stage().name(),
            updated_at: c.updated_at,
            parties,
            facts,
            answers: vec![("solvit", s.answers())],
            notice: None,
            draft: Some(s.answers()),
            own: Some(c.home),
            mine: None,
        }
    }
}

/// Surveys of competent authorities, as their authors run them.
pub(crate) struct Surveys;

impl CasePage for Surveys {
    const PATH: &'static str = "surveys";
    const WAITING: &'static [&'static str] = &["received"];
    const KIND: CaseKind = CaseKind::Survey;
    const CREATES: Option<WorkflowKind> = Some(WorkflowKind::Survey);
    type View = SurveyCase;
    type Command = imi_core::survey::SurveyCommand;
    type Event = imi_core::survey::SurveyEvent;
    type Box = SurveyBox;
    const BOXES: &'static [(&'static str, SurveyBox)] = &[
        ("received", SurveyBox::Received),
        ("authored", SurveyBox::Authored),
    ];

    async fn list(
        engine: &Engine,
        actor: &Actor,
        which: SurveyBox,
        page: PageRequest,
    ) -> Result<Page<SurveyCase>, EngineError> {
        engine.surveys(actor, which, page).await
    }

    engine_calls!(
        read = survey,
        timeline = survey_timeline,
        act = act_on_survey
    );

    async fn create(
        engine: &Engine,
        actor: &Actor,
        procedure: &ProcedureId,
    ) -> Result<CaseId, EngineError> {
        Ok(engine.create_survey(actor, procedure).await?.id)
    }

    /// For an authority the survey asks: its answer so far, and the form that gives or
    /// changes it while the survey takes answers.
    async fn extra(ctx: &Ctx, c: &SurveyCase) -> Result<Markup, WebError> {
        let actor = ctx.user()?;
        let Actor::User(p) = actor else {
            return Ok(html! {});
        };
        if !c.survey.recipients().contains(&p.authority()) {
            return Ok(html! {});
        }
        let engine = &ctx.web.engine;
        let response = engine.survey_response(actor, c.id).await?;
        let catalogue = engine.catalogue();
        let set = catalogue.question_set(&c.question_set.id, c.question_set.version);
        let open = c.survey.takes_answers(engine.now().date_naive());
        let action = format!("/surveys/{}/response", c.id);
        Ok(html! {
            h2 { (ctx.t("survey-our-answer")) }
            @match &response {
                Some((r, _)) => (answers_list(ctx, &r.answers, set)),
                None => p { (ctx.t("survey-not-answered")) },
            }
            @if let (true, Some(set)) = (open, set) {
                form.command method="post" action=(action) {
                    input type="hidden" name="csrf" value=(ctx.csrf());
                    @if let Some((_, v)) = &response { input type="hidden" name="version" value=(v.raw()); }
                    fieldset {
                        legend { (ctx.t("survey-answer")) }
                        (crate::forms::answer_inputs(ctx, &crate::forms::AnswerForm { prefix: "survey-answers", member: "answers", set, side: imi_core::catalogue::Side::Requester, current: response.as_ref().map(|(r, _)| &r.answers), enforce: true, files: false, rectifying: false }))
                        button type="submit" { (ctx.t("survey-answer")) }
                    }
                }
            }
        })
    }

    fn head(c: &SurveyCase) -> Head<'_> {
        let s = &c.survey;
        let mut facts = vec![("recipients", s.recipients().len().to_string())];
        if let Some(d) = s.state().deadline() {
            facts.push(("deadline", d.to_string()));
        }
        Head {
            id: c.id,
            reference: &c.reference,
            procedure: &c.procedure,
            question_set: &c.question_set,
            stage: s.stage().name(),
            updated_at: c.updated_at,
            parties: vec![("author", c.author)],
            facts,
            answers: Vec::new(),
            notice: None,
            draft: None,
            own: Some(c.author),
            mine: None,
        }
    }
}

/// `POST /surveys/{id}/response`: the reader's authority answers a survey (again).
pub(crate) async fn survey_response(
    ctx: Ctx,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let posted = Posted(&pairs);
    let outcome = async {
        let actor = ctx.user()?;
        if !same(posted.value("csrf").unwrap_or_default(), &ctx.csrf()) {
            return Err(WebError::Forged);
        }
        let id: CaseId = id.parse().map_err(|_| missing())?;
        let engine = &ctx.web.engine;
        let (survey, _) = engine.survey(actor, id).await?;
        let catalogue = engine.catalogue();
        let set = catalogue.question_set(&survey.question_set.id, survey.question_set.version);
        let answers = serde_json::from_value(posted.answers("answers", set))
            .map_err(|e| WebError::BadInput(e.to_string()))?;
        let version = posted
            .value("version")
            .map(|_| posted.version())
            .transpose()?;
        engine.answer_survey(actor, id, answers, version).await?;
        Ok(format!("/surveys/{id}"))
    }
    .await;
    ctx.after_post(outcome)
}

/// `None` for what the reader may not have although it sees the case (a refusal or "not
/// found" of a part of it).
fn seen_only<T>(r: Result<T, EngineError>) -> Result<Option<T>, EngineError> {
    match r {
        Err(EngineError::NotFound { .. } | EngineError::Denied(_)) => Ok(None),
        other => other.map(Some),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::i18n::Texts;
    use imi_core::Language;

    /// Every text a workflow's pages ask for by its commands, members, boxes and paths.
    fn needed<P: CasePage>() -> Vec<String> {
        let mut out = vec![format!("nav-{}", P::PATH), format!("case-{}", P::PATH)];
        if P::CREATES.is_some() {
            out.push(format!("new-{}", P::PATH));
        }
        for (name, _) in P::BOXES {
            out.push(format!("box-{name}"));
        }
        for spec in <P::Command as Command>::SPECS {
            out.push(format!("command-{}", spec.id));
            for f in spec.fields {
                out.push(format!("field-{}", f.name));
                if let FieldKind::OneOf(values) = f.kind {
                    out.extend(values.iter().map(|v| format!("value-{v}")));
                }
            }
        }
        out
    }

    /// The texts of a command table's forms and members.
    fn forms<C: Command>() -> Vec<String> {
        let mut out = Vec::new();
        for spec in C::SPECS {
            out.push(format!("command-{}", spec.id));
            for f in spec.fields {
                out.push(format!("field-{}", f.name));
            }
        }
        out
    }

    #[test]
    fn every_workflow_has_the_texts_its_pages_use() {
        let english = Texts::ids(Language::English);
        let mut missing: Vec<String> = [
            needed::<Alerts>(),
            needed::<Notifications>(),
            needed::<Submissions>(),
            needed::<Solvit>(),
            needed::<Surveys>(),
            forms::<imi_core::request::RequestCommand>(),
            forms::<imi_core::repository::RecordCommand>(),
        ]
        .concat()
        .into_iter()
        .filter(|id| !english.contains(id))
        .collect();
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "no English text for {missing:?}");
    }
}
