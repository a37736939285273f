//! The demo catalogue, translation round trips, version pinning, a brand-new area added
//! as files only, and a property test of answer validation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::catalogue::{
    AnswerProblem, AnswerValue, Answers, Catalogue, CatalogueIssue, CatalogueSource, ExportScope,
    ProcedureId, QuestionId, ValidationLevel,
};
use imi_core::{EngineError, Language, ManualClock, access::Actor, store::MemoryStore};
use imi_examples::{demo_catalogue_dir, read_catalogue_dir};
use proptest::prelude::*;

fn demo() -> Catalogue {
    Catalogue::load(&read_catalogue_dir(&demo_catalogue_dir()).unwrap()).unwrap()
}

fn engine() -> imi_core::Engine {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    imi_core::Engine::new(Arc::new(MemoryStore::new()), clock)
}

fn q(id: &str) -> QuestionId {
    id.parse().unwrap()
}

#[test]
fn the_demo_catalogue_loads_with_every_area_and_every_kind() {
    let c = demo();
    let areas: Vec<_> = c.areas().map(|a| a.id.to_string()).collect();
    assert_eq!(
        areas,
        [
            "euro-cash",
            "posting-of-workers",
            "professional-qualifications",
            "services",
            "solvit",
            "surveys"
        ]
    );
    assert_eq!(c.procedures().count(), 11);
    let kinds: Vec<_> = c.procedures().map(|p| p.workflow.kind().name()).collect();
    for kind in [
        "request",
        "alert",
        "notification",
        "repository",
        "solvit",
        "survey",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing");
    }
    let public: Vec<_> = c
        .procedures()
        .filter(|p| {
            matches!(
                p.workflow,
                imi_core::catalogue::Workflow::Request {
                    public_submission: true,
                    ..
                }
            )
        })
        .map(|p| p.id.to_string())
        .collect();
    assert_eq!(public, ["pq-recognition-application", "solvit-complaint"]);
    let alert = c
        .latest_question_set(&"pq-restriction-alert".parse().unwrap())
        .unwrap();
    assert!(alert.question(&q("scope")).unwrap().summary);
    let set = c
        .latest_question_set(&"pq-diploma-check".parse().unwrap())
        .unwrap();
    let sanction = set.question(&q("sanction-details")).unwrap();
    assert!(sanction.personal_data && sanction.special_category.is_some());
    assert!(sanction.show_if.is_some());
}

#[test]
fn each_side_answers_its_own_questions() {
    let c = demo();
    let set = c
        .latest_question_set(&"pq-diploma-check".parse().unwrap())
        .unwrap();
    let mut request = Answers::new();
    request
        .set(q("holder-name"), AnswerValue::Text("Marie Dubois".into()))
        .set(
            q("holder-birth-date"),
            AnswerValue::Date("1990-04-02".parse().unwrap()),
        )
        .set(
            q("profession"),
            AnswerValue::Choice("nurse".parse().unwrap()),
        )
        .set(
            q("diploma-copy"),
            AnswerValue::Attachments(vec![
                imi_core::IdGenerator::seeded(1).attachment(chrono::Utc::now()),
            ]),
        );
    let none = Answers::new();
    set.validate_side(
        &request,
        &none,
        imi_core::catalogue::Side::Requester,
        ValidationLevel::Send,
    )
    .unwrap();
    // The requester may not answer the responder's questions.
    let mut overreach = request.clone();
    overreach.set(q("right-to-practise"), AnswerValue::YesNo(true));
    let e = set
        .validate_side(
            &overreach,
            &none,
            imi_core::catalogue::Side::Requester,
            ValidationLevel::Send,
        )
        .unwrap_err();
    assert_eq!(
        (e.0[0].question.as_str(), &e.0[0].problem),
        ("right-to-practise", &AnswerProblem::OtherSide)
    );
    // The responder's answer: the sanction question appears only when practice is not allowed.
    let mut reply = Answers::new();
    reply.set(q("right-to-practise"), AnswerValue::YesNo(false));
    let e = set.validate_side(
        &reply,
        &request,
        imi_core::catalogue::Side::Responder,
        ValidationLevel::Send,
    );
    assert!(e.is_ok(), "the sanction details are optional: {e:?}");
    reply.set(
        q("sanction-details"),
        AnswerValue::Text("Suspended for six months in 2025".into()),
    );
    set.validate_side(
        &reply,
        &request,
        imi_core::catalogue::Side::Responder,
        ValidationLevel::Send,
    )
    .unwrap();
    reply.set(q("right-to-practise"), AnswerValue::YesNo(true));
    let e = set
        .validate_side(
            &reply,
            &request,
            imi_core::catalogue::Side::Responder,
            ValidationLevel::Send,
        )
        .unwrap_err();
    assert_eq!(e.0[0].problem, AnswerProblem::HiddenButAnswered);
}

#[test]
fn the_coverage_report_of_the_demo_catalogue() {
    let report = demo().coverage();
    assert_eq!(report.total, 107);
    for complete in [
        Language::English,
        Language::Danish,
        Language::German,
        Language::French,
    ] {
        let c = report.language(complete).unwrap();
        assert_eq!((c.translated, c.missing.len()), (107, 0), "{complete}");
    }
    let untranslated: Vec<_> = report
        .languages
        .iter()
        .filter(|c| c.translated == 0)
        .collect();
    assert_eq!(
        untranslated.len(),
        22,
        "the other 22 languages are reported missing, not faked"
    );
    assert!(untranslated.iter().all(|c| c.missing.len() == 107));
    let sv = report.language(Language::Swedish).unwrap();
    assert!(
        sv.missing
            .contains(&"qs/pq-diploma-check/1/q/holder-name/label".to_owned())
    );
    let text = report.to_string();
    assert!(
        text.contains("da    Danish               107        0    100.0%"),
        "{text}"
    );
}

#[test]
fn missing_text_falls_back_to_the_source_and_says_so() {
    let c = demo();
    let area = c.area(&"services".parse().unwrap()).unwrap();
    let r = area.name.resolve(Language::Swedish);
    assert_eq!(
        (r.text, r.language, r.fallback),
        ("Services", Language::English, true)
    );
    let r = area.name.resolve(Language::Danish);
    assert_eq!((r.text, r.fallback), ("Tjenesteydelser", false));
}

fn with_translation(lang: &str, xliff: &str) -> Vec<CatalogueSource> {
    let mut sources = read_catalogue_dir(&demo_catalogue_dir()).unwrap();
    sources.push(CatalogueSource::new(
        format!("translations/{lang}.xlf"),
        xliff,
    ));
    sources
}

#[test]
fn xliff_export_and_import_round_trip() {
    let c = demo();
    let export = c.export_xliff(Language::English, Language::Swedish, ExportScope::Missing);
    assert!(export.contains(r#"srcLang="en" trgLang="sv""#));
    assert_eq!(export.matches("<unit ").count(), 107);
    assert!(
        c.export_xliff(Language::English, Language::Danish, ExportScope::Missing)
            .matches("<unit ")
            .count()
            == 0
    );
    // A "translator" fills every target (here: a marked copy of the source).
    let translated: String = export
        .lines()
        .map(|line| match line.trim().strip_prefix("<source>") {
            Some(rest) => format!(
                "{line}<target>[sv] {}\n",
                rest.replace("</source>", "</target>")
            ),
            None => format!("{line}\n"),
        })
        .collect();
    let loaded = Catalogue::load(&with_translation("sv", &translated)).unwrap();
    let sv = loaded.coverage();
    assert_eq!(sv.language(Language::Swedish).unwrap().missing.len(), 0);
    let area = loaded.area(&"services".parse().unwrap()).unwrap();
    assert_eq!(area.name.get(Language::Swedish), Some("[sv] Services"));
    // Escaped characters survive the trip.
    let fr = loaded
        .area(&"services".parse().unwrap())
        .unwrap()
        .description
        .clone()
        .unwrap();
    assert!(fr.get(Language::French).unwrap().contains("« services »"));
}

#[test]
fn xliff_import_refuses_translations_of_a_changed_source() {
    let c = demo();
    let export = c.export_xliff(Language::English, Language::Swedish, ExportScope::Missing);
    let stale = export.replace(
        "<source>Services</source>",
        "<source>Servicez</source><target>Tjänster</target>",
    );
    let problems = Catalogue::load(&with_translation("sv", &stale))
        .unwrap_err()
        .0;
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].to_string().contains("source text changed"),
        "{}",
        problems[0]
    );
}

#[test]
fn open_cases_keep_their_question_set_version() {
    let engine = engine();
    engine.publish_catalogue(&Actor::System, demo()).unwrap();
    let procedure: ProcedureId = "pw-employment-conditions".parse().unwrap();
    let pinned_v1 = engine.pin_question_set(&procedure).unwrap();
    assert_eq!(pinned_v1.version, 1);
    let mut answers = Answers::new();
    answers
        .set(q("worker-name"), AnswerValue::Text("Jan Kowalski".into()))
        .set(
            q("employer-name"),
            AnswerValue::Text("Budowa Sp. z o.o.".into()),
        );
    engine
        .check_answers(&pinned_v1, &answers, ValidationLevel::Send)
        .unwrap();

    // Version 2 adds a question required to send.
    let dir = demo_catalogue_dir().join("question-sets/pw-employment-conditions.v1.toml");
    let v1_text = std::fs::read_to_string(dir).unwrap();
    let v2_text = v1_text.replacen("version = 1", "version = 2", 1)
        + "\n[[group.question]]\nid = \"posting-end\"\ntype = \"date\"\nrequired = \"to-send\"\n[group.question.label]\nen = \"End of the posting\"\n";
    let mut sources = read_catalogue_dir(&demo_catalogue_dir()).unwrap();
    sources.push(CatalogueSource::new(
        "question-sets/pw-employment-conditions.v2.toml",
        v2_text,
    ));
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();

    let pinned_v2 = engine.pin_question_set(&procedure).unwrap();
    assert_eq!(pinned_v2.version, 2, "new cases take the new version");
    engine
        .check_answers(&pinned_v1, &answers, ValidationLevel::Send)
        .expect("the open case still validates against v1");
    let err = engine
        .check_answers(&pinned_v2, &answers, ValidationLevel::Send)
        .unwrap_err();
    let EngineError::InvalidAnswers(errors) = err else {
        panic!("{err}")
    };
    assert_eq!(errors.0[0].question, q("posting-end"));

    // Changing a published version is refused, and changes nothing.
    let changed = v1_text.replace(
        "required = \"to-save\"\npersonal_data = true\nmax_length = 200",
        "required = \"optional\"\npersonal_data = true\nmax_length = 200",
    );
    let mut sources = read_catalogue_dir(&demo_catalogue_dir()).unwrap();
    sources.retain(|s| !s.path.contains("pw-employment-conditions"));
    sources.push(CatalogueSource::new(
        "question-sets/pw-employment-conditions.v1.toml",
        changed,
    ));
    let err = engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap_err();
    let EngineError::Catalogue(problems) = err else {
        panic!("{err}")
    };
    assert!(matches!(
        problems.0[0].issue,
        CatalogueIssue::PublishedVersionChanged { version: 1, .. }
    ));
    assert_eq!(engine.pin_question_set(&procedure).unwrap().version, 2);

    // Adding translations to a published version is allowed.
    let export =
        engine
            .catalogue()
            .export_xliff(Language::English, Language::Polish, ExportScope::Missing);
    let one = export.replacen(
        "<source>Posting of workers</source>",
        "<source>Posting of workers</source><target>Delegowanie pracowników</target>",
        1,
    );
    let mut sources = read_catalogue_dir(&demo_catalogue_dir()).unwrap();
    sources.push(CatalogueSource::new("translations/pl.xlf", one));
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let area = engine
        .catalogue()
        .area(&"posting-of-workers".parse().unwrap())
        .unwrap()
        .name
        .clone();
    assert_eq!(area.get(Language::Polish), Some("Delegowanie pracowników"));
}

#[test]
fn a_new_area_needs_no_code() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("areas")).unwrap();
    std::fs::create_dir_all(dir.path().join("question-sets")).unwrap();
    std::fs::write(
        dir.path().join("areas/cultural-objects.toml"),
        r#"
id = "cultural-objects"
[name]
en = "Return of cultural objects"
de = "Rückgabe von Kulturgütern"
[[procedure]]
id = "cultural-object-search"
kind = "request"
question_set = "cultural-object-search"
answer_days = 30
[procedure.name]
en = "Search for an unlawfully removed cultural object"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("question-sets/cultural-object-search.toml"),
        r#"
id = "cultural-object-search"
version = 1
[title]
en = "Search for a cultural object"
[[group]]
id = "object"
[group.title]
en = "The object"
[[group.question]]
id = "description"
type = "free-text"
required = "to-save"
max_length = 2000
[group.question.label]
en = "Description of the object"
[[group.question]]
id = "found"
type = "yes-no"
required = "to-send"
[group.question.label]
en = "Has the object been found on your territory?"
[[group.question]]
id = "location"
type = "free-text"
required = "to-send"
show_if = { question = "found", equals = "yes" }
[group.question.label]
en = "Where is it?"
"#,
    )
    .unwrap();
    let catalogue = Catalogue::load(&read_catalogue_dir(dir.path()).unwrap()).unwrap();
    let engine = engine();
    engine.publish_catalogue(&Actor::System, catalogue).unwrap();
    let pinned = engine
        .pin_question_set(&"cultural-object-search".parse().unwrap())
        .unwrap();

    let mut answers = Answers::new();
    answers.set(
        q("description"),
        AnswerValue::Text("Gothic altarpiece, oak, 1480".into()),
    );
    engine
        .check_answers(&pinned, &answers, ValidationLevel::Save)
        .expect("enough to save a draft");
    let err = engine
        .check_answers(&pinned, &answers, ValidationLevel::Send)
        .unwrap_err();
    let EngineError::InvalidAnswers(e) = err else {
        panic!("{err}")
    };
    assert_eq!(e.0.len(), 1);
    assert_eq!(
        (e.0[0].question.as_str(), &e.0[0].problem),
        (
            "found",
            &AnswerProblem::Missing {
                level: ValidationLevel::Send
            }
        )
    );
    answers.set(q("found"), AnswerValue::YesNo(true));
    let err = engine
        .check_answers(&pinned, &answers, ValidationLevel::Send)
        .unwrap_err();
    let EngineError::InvalidAnswers(e) = err else {
        panic!("{err}")
    };
    assert_eq!(
        e.0[0].question.as_str(),
        "location",
        "the conditional question is now shown and required"
    );
    answers.set(
        q("location"),
        AnswerValue::Text("Musée de Cluny, Paris".into()),
    );
    engine
        .check_answers(&pinned, &answers, ValidationLevel::Send)
        .unwrap();
    answers.set(q("found"), AnswerValue::YesNo(false));
    let err = engine
        .check_answers(&pinned, &answers, ValidationLevel::Send)
        .unwrap_err();
    let EngineError::InvalidAnswers(e) = err else {
        panic!("{err}")
    };
    assert_eq!(e.0[0].problem, AnswerProblem::HiddenButAnswered);
}

fn arb_value() -> impl Strategy<Value = AnswerValue> {
    let option = prop_oneof![
        Just("nurse"),
        Just("doctor"),
        Just("architect"),
        Just("pilot")
    ]
    .prop_map(|s| s.parse().unwrap());
    prop_oneof![
        any::<bool>().prop_map(AnswerValue::YesNo),
        option.clone().prop_map(AnswerValue::Choice),
        proptest::collection::vec(option, 0..4).prop_map(AnswerValue::Choices),
        (1900i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| AnswerValue::Date(
            chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
        )),
        prop_oneof![any::<f64>(), Just(f64::NAN), -10.0f64..2000.0].prop_map(AnswerValue::Number),
        ".{0,300}".prop_map(AnswerValue::Text),
    ]
}

fn arb_question() -> impl Strategy<Value = QuestionId> {
    prop_oneof![
        Just("holder-name"),
        Just("holder-birth-date"),
        Just("profession"),
        Just("diploma-copy"),
        Just("diploma-authentic"),
        Just("right-to-practise"),
        Just("sanction-details"),
        Just("not-a-question"),
    ]
    .prop_map(|s| s.parse().unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any answers either validate, or are refused with errors that each name a question
    /// of the set or one the answers mention; validation never panics.
    #[test]
    fn answers_validate_or_name_a_question(
        entries in proptest::collection::vec((arb_question(), arb_value()), 0..10),
        send in any::<bool>(),
    ) {
        let catalogue = demo();
        let set = catalogue.latest_question_set(&"pq-diploma-check".parse().unwrap()).unwrap();
        let mut answers = Answers::new();
        for (q, v) in entries {
            answers.set(q, v);
        }
        let level = if send { ValidationLevel::Send } else { ValidationLevel::Save };
        if let Err(errors) = set.validate(&answers, level) {
            prop_assert!(!errors.0.is_empty());
            for e in &errors.0 {
                let known = set.question(&e.question).is_some();
                let mentioned = answers.get(&e.question).is_some();
                prop_assert!(known || mentioned, "{e} names no question");
                prop_assert!(e.to_string().contains(e.question.as_str()));
            }
        } else {
            // Valid answers really contain what the level requires.
            prop_assert!(answers.get(&"holder-name".parse().unwrap()).is_some());
        }
    }
}

#[test]
fn a_missing_catalogue_directory_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = read_catalogue_dir(&dir.path().join("no-such-catalogue")).unwrap_err();
    assert!(err.to_string().contains("no-such-catalogue"), "{err}");
}
