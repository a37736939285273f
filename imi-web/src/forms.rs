//! Command forms, written once for every workflow: a form per command the engine offers
//! the reader now ([`imi_core::Engine::case_commands`]), its inputs generated from the
//! command's [`CommandSpec`] (and, for answers, from the case's pinned question set), and
//! the way back from the posted fields to the workflow's command.

use imi_core::catalogue::{
    AnswerType, AnswerValue, Answers, ConditionAnswer, ProcedureId, Question, QuestionSet,
    Requirement, Side,
};
use imi_core::store::Version;
use imi_core::workflow::{Command, CommandSpec, FieldKind, FieldSpec};
use imi_core::{AuthorityId, Country, DirectoryQuery, PageRequest, Participant};
use maud::{Markup, html};
use serde::Serialize;

use crate::{Ctx, WebError};

/// The case a form acts on, as far as its inputs need it.
pub(crate) struct Subject<'a> {
    /// Where the case's page is (`/alerts/<id>`); forms post to `<path>/commands/<form>`.
    pub(crate) path: String,
    /// The case's version, for `If-Match`.
    pub(crate) version: Version,
    /// Its procedure (authority pickers offer authorities that handle it).
    pub(crate) procedure: &'a ProcedureId,
    /// The reader's own authority, left out of pickers of a counterpart.
    pub(crate) own: Option<AuthorityId>,
    /// The answers a draft form starts with.
    pub(crate) draft: Option<&'a Answers>,
    /// The pinned question set.
    pub(crate) set: Option<&'a QuestionSet>,
    /// Words to find an authority by in the directory (the page's `find` parameter), for
    /// authority pickers.
    pub(crate) find: Option<&'a str>,
    /// Whether answer forms take files for attachment questions (requests).
    pub(crate) uploads: bool,
    /// The reader's side in the case and the answers it gave (what a rectification
    /// corrects), when it has one.
    pub(crate) mine: Option<(Side, &'a Answers)>,
}

/// The forms for the commands `offered`, leaving out those whose members the browser
/// cannot fill in yet (they stay available over the API).
pub(crate) async fn command_forms(
    ctx: &Ctx,
    subject: &Subject<'_>,
    offered: &[&'static CommandSpec],
) -> Vec<Markup> {
    let mut forms = Vec::new();
    for spec in offered {
        if let Some(form) = command_form(ctx, subject, spec).await {
            forms.push(form);
        }
    }
    forms
}

/// A form for one command, or `None` when one of its members has no input yet.
async fn command_form(ctx: &Ctx, subject: &Subject<'_>, spec: &CommandSpec) -> Option<Markup> {
    let mut inputs = Vec::new();
    for field in spec.fields {
        inputs.push(field_input(ctx, subject, spec, field).await?);
    }
    let action = format!("{}/commands/{}", subject.path, spec.id);
    let name = ctx.t(&format!("command-{}", spec.id));
    let picks = spec
        .fields
        .iter()
        .any(|f| matches!(f.kind, FieldKind::Authority | FieldKind::Authorities));
    // Files go with the answers of a request's draft or answer (multipart).
    let uploads = subject.uploads
        && spec.fields.iter().any(|f| f.kind == FieldKind::Answers)
        && answering(spec, subject).is_some_and(|(side, _)| {
            subject.set.is_some_and(|set| {
                set.questions().any(|q| {
                    q.answered_by == side && matches!(q.answer, AnswerType::Attachment { .. })
                })
            })
        });
    Some(html! {
        @if picks {
            // A directory search narrows the authorities offered below (it reloads this
            // page: forms cannot nest).
            form.find method="get" action=(subject.path) {
                @let fid = format!("{}-find", spec.id);
                label for=(fid) { (ctx.t("find-authority")) }
                " "
                input id=(fid) type="search" name="find" value=(subject.find.unwrap_or_default());
                " "
                button type="submit" { (ctx.t("search")) }
            }
        }
        @if uploads {
            form.command method="post" action=(action) enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(ctx.csrf());
                input type="hidden" name="version" value=(subject.version.raw());
                fieldset {
                    legend { (name) }
                    @for input in &inputs { (input) }
                    button type="submit" { (name) }
                }
            }
        } @else {
        form.command method="post" action=(action) {
            input type="hidden" name="csrf" value=(ctx.csrf());
            input type="hidden" name="version" value=(subject.version.raw());
            @if inputs.is_empty() {
                button type="submit" { (name) }
            } @else {
                fieldset {
                    legend { (name) }
                    @for input in &inputs { (input) }
                    button type="submit" { (name) }
                }
            }
        }
        }
    })
}

/// The input of one member, by its kind; `None` for kinds the browser cannot fill in yet.
async fn field_input(
    ctx: &Ctx,
    subject: &Subject<'_>,
    spec: &CommandSpec,
    field: &FieldSpec,
) -> Option<Markup> {
    let id = format!("{}-{}", spec.id, field.name);
    let label = html! {
        label for=(id) {
            (ctx.t(&format!("field-{}", field.name)))
            @if !field.required { " " span.note { (ctx.t("optional")) } }
        }
    };
    let input = match field.kind {
        FieldKind::Text => {
            html! { textarea id=(id) name=(field.name) rows="3" required[field.required] {} }
        }
        FieldKind::Days => {
            html! { input id=(id) type="number" name=(field.name) min="1" max="365" value="10" required[field.required]; }
        }
        FieldKind::Score => {
            html! { input id=(id) type="number" name=(field.name) min="1" max="5" required[field.required]; }
        }
        FieldKind::Date => {
            html! { input id=(id) type="date" name=(field.name) required[field.required]; }
        }
        FieldKind::Bool => html! {
            select id=(id) name=(field.name) required[field.required] {
                @if !field.required { option value="" { "—" } }
                option value="true" { (ctx.t("yes")) }
                option value="false" { (ctx.t("no")) }
            }
        },
        FieldKind::OneOf(values) => html! {
            select id=(id) name=(field.name) required[field.required] {
                @if !field.required { option value="" { "—" } }
                @for v in values { option value=(v) { (ctx.t(&format!("value-{v}"))) } }
            }
        },
        FieldKind::Authority => {
            let hits = authorities(ctx, subject, None).await?;
            html! {
                select id=(id) name=(field.name) required[field.required] {
                    @for (value, name, lang) in &hits {
                        option value=(value) lang=(lang) { (name) }
                    }
                }
            }
        }
        FieldKind::Authorities => {
            // Distribution within the reader's own country.
            let mine = match ctx.actor.as_ref()? {
                imi_core::access::Actor::User(p) => p.participant(),
                _ => return None,
            };
            let hits = authorities(ctx, subject, Some(mine)).await?;
            return Some(checkboxes(ctx, &id, field, &hits));
        }
        FieldKind::Participants | FieldKind::Countries => {
            let countries = country_items();
            return Some(checkboxes(ctx, &id, field, &countries));
        }
        FieldKind::User => {
            let imi_core::access::Actor::User(p) = ctx.actor.as_ref()? else {
                return None;
            };
            let first = PageRequest::first(100).ok()?;
            let users = ctx
                .web
                .engine
                .users_of(ctx.actor.as_ref()?, p.authority(), first)
                .await
                .ok()?;
            html! {
                select id=(id) name=(field.name) required[field.required] {
                    @for u in &users.items { option value=(u.id().to_string()) { (u.name()) } }
                }
            }
        }
        FieldKind::Rating => {
            return Some(html! {
                fieldset.rating {
                    legend { (ctx.t("field-rating")) " " span.note { (ctx.t("optional")) } }
                    @for part in ["timeliness", "effort"] {
                        @let pid = format!("{id}-{part}");
                        div.field {
                            label for=(pid) { (ctx.t(&format!("field-{part}"))) }
                            select id=(pid) name=(format!("{}.{part}", field.name)) {
                                option value="" { "—" }
                                @for n in 1..=5 { option value=(n) { (n) } }
                            }
                        }
                    }
                }
            });
        }
        FieldKind::Targeting => {
            let catalogue = ctx.web.engine.catalogue();
            let countries = country_items();
            let areas: Vec<Item> = catalogue
                .areas()
                .map(|a| item(&a.id, &a.name, ctx))
                .collect();
            let procedures: Vec<Item> = catalogue
                .procedures()
                .map(|p| item(&p.id, &p.name, ctx))
                .collect();
            return Some(html! {
                fieldset.targeting {
                    legend { (ctx.t("field-targeting")) }
                    p.hint { (ctx.t("targeting-hint")) }
                    @for (part, items) in [("countries", &countries), ("areas", &areas), ("procedures", &procedures)] {
                        (checkbox_group(ctx, &format!("{id}-{part}"), targeting_member(part), &format!("targeting-{part}"), false, items))
                    }
                }
            });
        }
        FieldKind::Audience => html! {
            select id=(id) name=(field.name) {
                option value="area" { (ctx.t("audience-area")) }
                option value="own" { (ctx.t("audience-own")) }
            }
        },
        FieldKind::Answers => {
            let (side, current) = answering(spec, subject)?;
            return Some(answer_inputs(
                ctx,
                &AnswerForm {
                    prefix: &format!("{}-{}", spec.id, field.name),
                    member: field.name,
                    set: subject.set?,
                    side,
                    current,
                    enforce: spec.id != "save-draft",
                    files: subject.uploads && spec.id != "rectify",
                    rectifying: spec.id == "rectify",
                },
            ));
        }
        FieldKind::Questions => {
            let set = subject.set?;
            let items: Vec<Item> = set
                .questions()
                .map(|q| item(&q.id, &q.label, ctx))
                .collect();
            return Some(checkboxes(ctx, &id, field, &items));
        }
        // A case the engine mints (a split's new request): nothing to fill in.
        FieldKind::Case => return Some(html! {}),
        _ => return None,
    };
    Some(html! { div.field { (label) (input) } })
}

/// Which side's questions an answers member fills, and what it starts with: a draft's
/// own answers, or the other side's answer. `None` for commands whose answers the browser
/// does not edit (a rectification stays with the API).
fn answering<'a>(
    spec: &CommandSpec,
    subject: &'a Subject<'a>,
) -> Option<(Side, Option<&'a Answers>)> {
    match spec.id {
        "save-draft" | "update" => Some((Side::Requester, subject.draft)),
        "answer" => Some((Side::Responder, None)),
        "rectify" => subject.mine.map(|(side, answers)| (side, Some(answers))),
        _ => None,
    }
}

/// Authorities handling the subject's procedure (of `participant`, when given), other than
/// the reader's own: `(id, name, name's language)`.
async fn authorities(
    ctx: &Ctx,
    subject: &Subject<'_>,
    participant: Option<Participant>,
) -> Option<Vec<Item>> {
    let actor = ctx.actor.as_ref()?;
    let query = DirectoryQuery {
        procedure: Some(subject.procedure.clone()),
        participant,
        text: subject
            .find
            .map(str::to_owned)
            .filter(|t| !t.trim().is_empty()),
        ..Default::default()
    };
    let first = PageRequest::first(100).ok()?;
    let hits = ctx
        .web
        .engine
        .search_directory(actor, &query, &ctx.prefs, first)
        .await
        .ok()?;
    Some(
        hits.items
            .iter()
            .filter(|h| Some(h.authority.id()) != subject.own)
            .map(|h| {
                (
                    h.authority.id().to_string(),
                    format!("{} ({})", h.name, h.authority.participant().code()),
                    h.name_language.code().to_owned(),
                )
            })
            .collect(),
    )
}

/// One choice of a group of checkboxes: value, label, the label's language.
type Item = (String, String, String);

/// A choice labelled with `text` in the reader's language.
fn item(value: &impl std::fmt::Display, text: &imi_core::LocalisedText, ctx: &Ctx) -> Item {
    let r = text.resolve_for(&ctx.prefs);
    (
        value.to_string(),
        r.text.to_owned(),
        r.language.code().to_owned(),
    )
}

/// The countries as choices (their English names, marked as such).
fn country_items() -> Vec<Item> {
    Country::ALL
        .iter()
        .map(|c| {
            (
                c.code().to_owned(),
                format!("{} ({})", c.english_name(), c.code()),
                "en".to_owned(),
            )
        })
        .collect()
}

/// The form member of one part of a survey's targeting.
fn targeting_member(part: &str) -> &'static str {
    match part {
        "countries" => "targeting.countries",
        "areas" => "targeting.areas",
        _ => "targeting.procedures",
    }
}

/// A group of checkboxes for a list member.
fn checkboxes(ctx: &Ctx, id: &str, field: &FieldSpec, items: &[Item]) -> Markup {
    checkbox_group(
        ctx,
        id,
        field.name,
        &format!("field-{}", field.name),
        field.required,
        items,
    )
}

/// Checkboxes named `name` under the legend text `legend`.
fn checkbox_group(
    ctx: &Ctx,
    id: &str,
    name: &str,
    legend: &str,
    required: bool,
    items: &[Item],
) -> Markup {
    html! {
        fieldset.choices {
            legend {
                (ctx.t(legend))
                @if !required { " " span.note { (ctx.t("optional")) } }
            }
            @for (value, label, lang) in items {
                @let cid = format!("{id}-{value}");
                div {
                    input id=(cid) type="checkbox" name=(name) value=(value);
                    label for=(cid) lang=(lang) { (label) }
                }
            }
        }
    }
}

/// Which questions an answers form shows, and how.
pub(crate) struct AnswerForm<'a> {
    /// The inputs' id prefix.
    pub(crate) prefix: &'a str,
    /// The form member the answers go to (`answers`, `fields`).
    pub(crate) member: &'a str,
    /// The question set.
    pub(crate) set: &'a QuestionSet,
    /// The side whose questions are shown.
    pub(crate) side: Side,
    /// The answers the inputs start with.
    pub(crate) current: Option<&'a Answers>,
    /// Whether the browser requires what the engine requires to send.
    pub(crate) enforce: bool,
    /// Whether attachment questions take files.
    pub(crate) files: bool,
    /// Only the personal-data questions already answered (a rectification).
    pub(crate) rectifying: bool,
}

/// Inputs for the questions `side` answers, generated from the pinned question set group
/// by group, filled with `current` answers (a draft being edited: saving replaces them
/// all). Each question says whether it is personal data, whether it is needed to send or
/// to save, and, for a question shown only after another's answer, which answer that is
/// (with JavaScript off every question is shown; the engine checks the conditions).
pub(crate) fn answer_inputs(ctx: &Ctx, f: &AnswerForm<'_>) -> Markup {
    let shown = |q: &&Question| {
        q.answered_by == f.side
            && (f.files || !matches!(q.answer, AnswerType::Attachment { .. }))
            && (!f.rectifying
                || (q.personal_data
                    && !matches!(q.answer, AnswerType::Attachment { .. })
                    && f.current.is_some_and(|a| a.get(&q.id).is_some())))
    };
    html! {
        @for group in &f.set.groups {
            @let questions: Vec<&Question> = group.questions.iter().filter(shown).collect();
            @if !questions.is_empty() {
                fieldset.group {
                    legend { (ctx.lt(&group.title)) }
                    @for q in questions {
                        (question_input(ctx, f.prefix, f.member, f.set, q, f.current, f.enforce))
                    }
                }
            }
        }
    }
}

/// The input of one question.
fn question_input(
    ctx: &Ctx,
    prefix: &str,
    member: &str,
    set: &QuestionSet,
    q: &Question,
    current: Option<&Answers>,
    enforce: bool,
) -> Markup {
    let id = format!("{prefix}-{}", q.id);
    let name = format!("{member}.{}", q.id);
    let now = current.and_then(|a| a.get(&q.id));
    let text = match now {
        Some(AnswerValue::Text(t)) => t.clone(),
        Some(AnswerValue::Date(d)) => d.to_string(),
        Some(AnswerValue::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let chosen = |o: &imi_core::catalogue::OptionId| match now {
        Some(AnswerValue::Choice(c)) => c == o,
        Some(AnswerValue::Choices(cs)) => cs.contains(o),
        _ => false,
    };
    let yes = match now {
        Some(AnswerValue::YesNo(b)) => Some(*b),
        _ => None,
    };
    // Required in the browser only where the engine requires it and no condition may
    // hide the question.
    let required =
        enforce && q.show_if.is_none() && !matches!(q.requirement, Requirement::Optional);
    let hint_id = format!("{id}-hint");
    let marks = html! {
        @if q.personal_data { " " span.note { "(" (ctx.t("personal-data")) ")" } }
        @match q.requirement {
            Requirement::ToSave => { " " span.note { (ctx.t("needed-to-save")) } }
            Requirement::ToSend => { " " span.note { (ctx.t("needed-to-send")) } }
            Requirement::Optional => {}
        }
    };
    let hint = q.show_if.as_ref().map(|c| {
        let earlier = set.question(&c.question);
        html! {
            p.hint id=(hint_id) {
                (ctx.t("only-when")) " "
                @match earlier { Some(e) => (ctx.lt(&e.label)), None => (c.question.to_string()) }
                ": "
                @match &c.when {
                    ConditionAnswer::Yes => (ctx.t("yes")),
                    ConditionAnswer::No => (ctx.t("no")),
                    ConditionAnswer::AnyOf(os) => {
                        @for (i, o) in os.iter().enumerate() {
                            @if i > 0 { " / " }
                            (option_label(ctx, earlier, o))
                        }
                    }
                }
            }
        }
    });
    let described = hint.as_ref().map(|_| hint_id.clone());
    html! {
        @match &q.answer {
            AnswerType::MultipleChoice { options } => {
                fieldset aria-describedby=[described.as_deref()] {
                    legend { (ctx.lt(&q.label)) (marks) }
                    @if let Some(h) = &hint { (h) }
                    @for o in options {
                        @let oid = format!("{id}-{}", o.id);
                        div {
                            input id=(oid) type="checkbox" name=(name) value=(o.id.to_string()) checked[chosen(&o.id)];
                            label for=(oid) { (ctx.lt(&o.label)) }
                        }
                    }
                }
            }
            other => {
                div.field {
                    label for=(id) { (ctx.lt(&q.label)) (marks) }
                    @if let Some(h) = &hint { (h) }
                    @match other {
                        AnswerType::YesNo => {
                            select id=(id) name=(name) required[required] aria-describedby=[described.as_deref()] {
                                option value="" { "—" }
                                option value="true" selected[yes == Some(true)] { (ctx.t("yes")) }
                                option value="false" selected[yes == Some(false)] { (ctx.t("no")) }
                            }
                        }
                        AnswerType::SingleChoice { options } => {
                            select id=(id) name=(name) required[required] aria-describedby=[described.as_deref()] {
                                option value="" { "—" }
                                @for o in options { option value=(o.id.to_string()) selected[chosen(&o.id)] { (ctx.lt(&o.label)) } }
                            }
                        }
                        AnswerType::Date => { input id=(id) type="date" name=(name) value=(text) required[required] aria-describedby=[described.as_deref()]; }
                        AnswerType::Number { .. } => { input id=(id) type="number" step="any" name=(name) value=(text) required[required] aria-describedby=[described.as_deref()]; }
                        AnswerType::Attachment { .. } => {
                            @if let Some(AnswerValue::Attachments(kept)) = now {
                                p.note { (kept.len()) " 📎 " (ctx.t("attachments-kept")) }
                            }
                            input id=(id) type="file" name=(format!("files.{}", q.id)) multiple aria-describedby=[described.as_deref()];
                        }
                        _ => { textarea id=(id) name=(name) rows="3" required[required] aria-describedby=[described.as_deref()] { (text) } }
                    }
                }
            }
        }
    }
}

/// The posted fields of a form.
pub(crate) struct Posted<'a>(pub(crate) &'a [(String, String)]);

impl Posted<'_> {
    /// The first non-empty value of `name`.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Every non-blank value of `name`.
    pub(crate) fn values(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The form's version field.
    pub(crate) fn version(&self) -> Result<Version, WebError> {
        self.value("version")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Version::from_raw)
            .ok_or_else(|| WebError::BadInput("version".into()))
    }

    /// The command `spec` with the posted members, as workflow command `C`. `kept`: the
    /// draft's answers, whose attachments (not on the form) a saved draft keeps.
    pub(crate) fn command<C: Command>(
        &self,
        spec: &CommandSpec,
        set: Option<&QuestionSet>,
        kept: Option<&Answers>,
    ) -> Result<C, WebError> {
        let mut values = serde_json::Map::new();
        for field in spec.fields {
            let json = match field.kind {
                FieldKind::Days | FieldKind::Score => self
                    .value(field.name)
                    .map(|v| v.parse::<u64>().map(serde_json::Value::from))
                    .transpose()
                    .map_err(|_| WebError::BadInput(field.name.into()))?,
                FieldKind::Bool => self
                    .value(field.name)
                    .map(|v| serde_json::Value::from(v == "true")),
                FieldKind::Rating => {
                    let part = |p: &str| {
                        self.value(&format!("{}.{p}", field.name))
                            .and_then(|v| v.parse::<u8>().ok())
                    };
                    match (part("timeliness"), part("effort")) {
                        (Some(t), Some(e)) => {
                            Some(serde_json::json!({"timeliness": t, "effort": e}))
                        }
                        _ => None,
                    }
                }
                FieldKind::Targeting => Some(serde_json::json!({
                    "countries": self.values("targeting.countries"),
                    "areas": self.values("targeting.areas"),
                    "procedures": self.values("targeting.procedures"),
                })),
                // The engine mints it; the command's form needs a value of the kind.
                FieldKind::Case => Some(serde_json::json!("00000000-0000-7000-8000-000000000000")),
                FieldKind::Questions => Some(serde_json::json!(self.values(field.name))),
                FieldKind::Audience => match self.value(field.name) {
                    Some("own") => {
                        Some(serde_json::json!({"audience": "group", "authorities": []}))
                    }
                    Some(_) => Some(serde_json::json!({"audience": "area"})),
                    None => None,
                },
                FieldKind::Authorities | FieldKind::Participants | FieldKind::Countries => {
                    let given = self.values(field.name);
                    (field.required || !given.is_empty()).then(|| serde_json::json!(given))
                }
                FieldKind::Answers => {
                    let mut answers = self.answers(field.name, set);
                    if spec.id == "save-draft"
                        && let (Some(set), Some(kept), Some(object)) =
                            (set, kept, answers.as_object_mut())
                    {
                        for q in set.questions() {
                            if let (
                                AnswerType::Attachment { .. },
                                Some(AnswerValue::Attachments(k)),
                            ) = (&q.answer, kept.get(&q.id))
                            {
                                // The draft's files, then those just uploaded.
                                let mut ids: Vec<serde_json::Value> =
                                    k.iter().map(|id| id.to_string().into()).collect();
                                if let Some(new) = object
                                    .get(q.id.as_str())
                                    .and_then(|a| a.get("value"))
                                    .and_then(|v| v.as_array())
                                {
                                    ids.extend(new.iter().cloned());
                                }
                                object.insert(
                                    q.id.to_string(),
                                    serde_json::json!({"type": "attachments", "value": ids}),
                                );
                            }
                        }
                    }
                    Some(answers)
                }
                _ => self.value(field.name).map(serde_json::Value::from),
            };
            if let Some(json) = json {
                values.insert(field.name.to_owned(), json);
            }
        }
        spec.build(values)
            .map_err(|e| WebError::BadInput(e.to_string()))
    }

    /// The answers of a generated form (`<member>.<question>` fields), typed by the
    /// question.
    pub(crate) fn answers(&self, member: &str, set: Option<&QuestionSet>) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        let Some(set) = set else {
            return serde_json::Value::Object(out);
        };
        for q in set.questions() {
            let given = self.values(&format!("{member}.{}", q.id));
            let Some(first) = given.first().copied() else {
                continue;
            };
            let answer = match &q.answer {
                AnswerType::YesNo => {
                    serde_json::json!({"type": "yes-no", "value": first == "true"})
                }
                AnswerType::SingleChoice { .. } => {
                    serde_json::json!({"type": "choice", "value": first})
                }
                AnswerType::MultipleChoice { .. } => {
                    serde_json::json!({"type": "choices", "value": given})
                }
                AnswerType::Date => serde_json::json!({"type": "date", "value": first}),
                AnswerType::Number { .. } => match first.parse::<f64>() {
                    Ok(n) => serde_json::json!({"type": "number", "value": n}),
                    Err(_) => serde_json::json!({"type": "text", "value": first}),
                },
                AnswerType::Attachment { .. } => {
                    serde_json::json!({"type": "attachments", "value": given})
                }
                _ => serde_json::json!({"type": "text", "value": first}),
            };
            out.insert(q.id.to_string(), answer);
        }
        serde_json::Value::Object(out)
    }
}

/// The kind of a timeline event, as the engine names it (its `event` member).
pub(crate) fn event_name<E: Serialize>(event: &E) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// What an event says in words (its `text`, `comment` or `reason` member), as the engine
/// gives it to this reader.
pub(crate) fn event_texts<E: Serialize>(event: &E) -> Vec<String> {
    let Ok(serde_json::Value::Object(members)) = serde_json::to_value(event) else {
        return Vec::new();
    };
    ["text", "comment", "reason"]
        .iter()
        .filter_map(|k| members.get(*k).and_then(|v| v.as_str()).map(str::to_owned))
        .collect()
}

/// Answers as a definition list, labelled from the question set in the reader's
/// language, personal data marked.
pub(crate) fn answers_list(ctx: &Ctx, answers: &Answers, set: Option<&QuestionSet>) -> Markup {
    html! {
        dl.answers {
            @for (q, v) in answers.iter() {
                @let question = set.and_then(|s| s.question(q));
                dt {
                    @match question {
                        Some(question) => (ctx.lt(&question.label)),
                        None => (q.to_string()),
                    }
                    @if question.is_some_and(|q| q.personal_data) { " " span.note { "(" (ctx.t("personal-data")) ")" } }
                }
                dd {
                    @match v {
                        AnswerValue::Text(t) => (t),
                        AnswerValue::YesNo(b) => (ctx.t(if *b { "yes" } else { "no" })),
                        AnswerValue::Date(d) => (d.to_string()),
                        AnswerValue::Number(n) => (n),
                        AnswerValue::Choice(o) => (option_label(ctx, question, o)),
                        AnswerValue::Choices(os) => {
                            @for (i, o) in os.iter().enumerate() {
                                @if i > 0 { ", " }
                                (option_label(ctx, question, o))
                            }
                        },
                        AnswerValue::Attachments(ids) => {
                            ul.files {
                                @for (i, id) in ids.iter().enumerate() {
                                    li { a href=(format!("/attachments/{id}")) download { "📎 " (ctx.t("attachment")) " " (i + 1) } }
                                }
                            }
                        },
                    }
                }
            }
        }
    }
}

/// An option's label in the reader's language.
fn option_label(
    ctx: &Ctx,
    question: Option<&Question>,
    o: &imi_core::catalogue::OptionId,
) -> Markup {
    match question.and_then(|q| q.answer.options().iter().find(|x| &x.id == o)) {
        Some(opt) => ctx.lt(&opt.label),
        None => html! { (o.to_string()) },
    }
}
