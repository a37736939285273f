//! Loading catalogues: every malformed input gives the right problem, with file and path,
//! and nothing panics.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed step should panic

use imi_core::catalogue::{Catalogue, CatalogueIssue, CatalogueProblem, CatalogueSource};

const AREA: &str = r#"
id = "demo-area"
[name]
en = "Demo area"
[[procedure]]
id = "demo-request"
kind = "request"
question_set = "demo-set"
[procedure.name]
en = "Demo request"
"#;

const SET: &str = r#"
id = "demo-set"
version = 1
[title]
en = "Demo set"
[[group]]
id = "main"
[group.title]
en = "Main"
[[group.question]]
id = "has-licence"
type = "yes-no"
required = "to-send"
[group.question.label]
en = "Does the person hold a licence?"
[[group.question]]
id = "licence-kind"
type = "single-choice"
show_if = { question = "has-licence", equals = "yes" }
[group.question.label]
en = "Which licence?"
[[group.question.option]]
id = "full"
[group.question.option.label]
en = "Full"
[[group.question.option]]
id = "partial"
[group.question.option.label]
en = "Partial"
"#;

fn load(files: &[(&str, &str)]) -> Result<Catalogue, Vec<CatalogueProblem>> {
    let sources: Vec<_> = files
        .iter()
        .map(|(p, t)| CatalogueSource::new(*p, *t))
        .collect();
    Catalogue::load(&sources).map_err(|e| e.0)
}

/// Loads the base catalogue with one file's text replaced, and returns the problems.
fn problems_with(area: &str, set: &str) -> Vec<CatalogueProblem> {
    load(&[("areas/demo.toml", area), ("question-sets/demo.toml", set)])
        .expect_err("the catalogue should be refused")
}

fn one(area: &str, set: &str) -> CatalogueProblem {
    let mut p = problems_with(area, set);
    assert_eq!(p.len(), 1, "expected exactly one problem, got {p:#?}");
    p.remove(0)
}

#[test]
fn the_base_catalogue_loads() {
    let c = load(&[("areas/demo.toml", AREA), ("question-sets/demo.toml", SET)]).unwrap();
    assert_eq!(c.procedures().count(), 1);
}

type Case = (
    &'static str,
    String,
    String,
    &'static str,
    fn(&CatalogueIssue) -> bool,
);

fn cases() -> Vec<Case> {
    let a = |from: &str, to: &str| AREA.replacen(from, to, 1);
    let s = |from: &str, to: &str| SET.replacen(from, to, 1);
    vec![
        ("toml syntax", a("[name]", "[name"), SET.into(), "areas/demo.toml", |i| matches!(i, CatalogueIssue::Syntax { .. })),
        ("unknown field", a("kind = \"request\"", "kind = \"request\"\nanswer_dayz = 3"), SET.into(), "areas/demo.toml", |i| matches!(i, CatalogueIssue::Syntax { message } if message.contains("answer_dayz"))),
        ("bad area id", a("id = \"demo-area\"", "id = \"Demo_Area\""), SET.into(), "id", |i| matches!(i, CatalogueIssue::BadId(_))),
        ("unknown question set", a("question_set = \"demo-set\"", "question_set = \"nope\""), SET.into(), "procedure[0].question_set", |i| matches!(i, CatalogueIssue::UnknownReference { kind: "question set", .. })),
        ("bad language tag", a("en = \"Demo area\"", "en = \"Demo area\"\nxx = \"?\""), SET.into(), "name.xx", |i| matches!(i, CatalogueIssue::BadLanguage(_))),
        ("missing source text", a("en = \"Demo area\"", "da = \"Demoområde\""), SET.into(), "name", |i| matches!(i, CatalogueIssue::MissingSourceText { .. })),
        ("empty translation", a("en = \"Demo area\"", "en = \"Demo area\"\nde = \"  \""), SET.into(), "name.de", |i| matches!(i, CatalogueIssue::EmptyText { .. })),
        ("unknown kind", a("kind = \"request\"", "kind = \"requets\""), SET.into(), "procedure[0].kind", |i| matches!(i, CatalogueIssue::UnknownValue { .. })),
        ("blocking beyond 18 months", a("kind = \"request\"", "kind = \"request\"\nblocking_months = 24"), SET.into(), "procedure[0].blocking_months", |i| matches!(i, CatalogueIssue::OutOfRange { value: 24, max: 18, .. })),
        ("setting of another kind", a("kind = \"request\"", "kind = \"request\"\noutgoing_validation = true"), SET.into(), "procedure[0].outgoing_validation", |i| matches!(i, CatalogueIssue::DoesNotApply { .. })),
        ("right of another kind", a("kind = \"request\"", "kind = \"request\"\nrights = [\"incoming-alert-handler\"]"), SET.into(), "procedure[0].rights[0]", |i| matches!(i, CatalogueIssue::RightDoesNotApply { .. })),
        ("unknown right", a("kind = \"request\"", "kind = \"request\"\nrights = [\"boss\"]"), SET.into(), "procedure[0].rights[0]", |i| matches!(i, CatalogueIssue::UnknownValue { .. })),
        ("zero answer days", a("kind = \"request\"", "kind = \"request\"\nanswer_days = 0"), SET.into(), "procedure[0].answer_days", |i| matches!(i, CatalogueIssue::OutOfRange { .. })),
        ("special category without personal data", AREA.into(), s("type = \"yes-no\"", "type = \"yes-no\"\nspecial_category = \"sanctions\""), "group[0].question[0].special_category", |i| matches!(i, CatalogueIssue::SpecialCategoryWithoutPersonalData)),
        ("one option only", AREA.into(), SET.replace("[[group.question.option]]\nid = \"partial\"\n[group.question.option.label]\nen = \"Partial\"\n", ""), "group[0].question[1].option", |i| matches!(i, CatalogueIssue::TooFewOptions)),
        ("duplicate option", AREA.into(), s("id = \"partial\"", "id = \"full\""), "group[0].question[1].option[1].id", |i| matches!(i, CatalogueIssue::Duplicate { kind: "option", .. })),
        ("condition on a later question", AREA.into(), s("type = \"yes-no\"", "type = \"yes-no\"\nshow_if = { question = \"licence-kind\", any_of = [\"full\"] }"), "group[0].question[0].show_if.question", |i| matches!(i, CatalogueIssue::ConditionNotEarlier { .. })),
        ("condition shape", AREA.into(), s("equals = \"yes\" }", "equals = \"yes\", any_of = [\"x\"] }"), "group[0].question[1].show_if", |i| matches!(i, CatalogueIssue::ConditionShape)),
        ("condition that does not fit", AREA.into(), s("equals = \"yes\" }", "any_of = [\"full\"] }"), "group[0].question[1].show_if", |i| matches!(i, CatalogueIssue::ConditionDoesNotFit { .. })),
        ("condition word", AREA.into(), s("equals = \"yes\" }", "equals = \"maybe\" }"), "group[0].question[1].show_if.equals", |i| matches!(i, CatalogueIssue::UnknownValue { .. })),
        ("duplicate question", AREA.into(), s("id = \"licence-kind\"", "id = \"has-licence\""), "group[0].question[1].id", |i| matches!(i, CatalogueIssue::Duplicate { kind: "question", .. })),
        ("unknown answer type", AREA.into(), s("type = \"yes-no\"", "type = \"essay\""), "group[0].question[0].type", |i| matches!(i, CatalogueIssue::UnknownValue { .. })),
        ("options on a yes-no question", AREA.into(), s("type = \"single-choice\"", "type = \"yes-no\""), "group[0].question[1].option", |i| matches!(i, CatalogueIssue::DoesNotApply { .. })),
        ("min above max", AREA.into(), s("type = \"yes-no\"", "type = \"number\"\nmin = 10\nmax = 1").replace("show_if = { question = \"has-licence\", equals = \"yes\" }\n", ""), "group[0].question[0].min", |i| matches!(i, CatalogueIssue::MinAboveMax { .. })),
        ("version zero", AREA.into(), s("version = 1", "version = 0"), "version", |i| matches!(i, CatalogueIssue::OutOfRange { .. })),
        ("empty group", AREA.into(), format!("{}\n[[group]]\nid = \"empty\"\n[group.title]\nen = \"Empty\"\n", SET), "group[1]", |i| matches!(i, CatalogueIssue::Empty(_))),
        ("unknown side", AREA.into(), s("type = \"yes-no\"", "type = \"yes-no\"\nanswered_by = \"both\""), "group[0].question[0].answered_by", |i| matches!(i, CatalogueIssue::UnknownValue { .. })),
        ("bad question id", AREA.into(), s("id = \"licence-kind\"", "id = \"licence kind\""), "group[0].question[1].id", |i| matches!(i, CatalogueIssue::BadId(_))),
        ("wrong value type", AREA.into(), s("version = 1", "version = \"one\""), "question-sets/demo.toml", |i| matches!(i, CatalogueIssue::Syntax { .. })),
    ]
}

#[test]
fn each_malformed_catalogue_gives_the_right_problem() {
    let cases = cases();
    assert!(cases.len() >= 15);
    for (name, area, set, where_, expected) in cases {
        let problem = one(&area, &set);
        assert!(
            expected(&problem.issue),
            "{name}: unexpected issue {problem}"
        );
        assert!(
            problem.path == where_ || problem.file == where_,
            "{name}: expected the problem at {where_}, got {problem}"
        );
        assert!(!problem.to_string().is_empty());
    }
}

#[test]
fn syntax_errors_carry_a_line_number() {
    let p = one(&AREA.replacen("[name]", "[name", 1), SET);
    assert_eq!(p.line, Some(3), "{p}");
    assert!(p.to_string().starts_with("areas/demo.toml:3: "), "{p}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let area = AREA.replacen(
        "kind = \"request\"",
        "kind = \"request\"\nblocking_months = 99",
        1,
    );
    let set = SET.replacen("type = \"yes-no\"", "type = \"essay\"", 1);
    let problems = problems_with(&area, &set);
    assert!(problems.len() >= 2, "{problems:#?}");
    assert!(problems.iter().any(|p| p.file == "areas/demo.toml"));
    assert!(problems.iter().any(|p| p.file == "question-sets/demo.toml"));
}

#[test]
fn duplicates_across_files_and_misplaced_files() {
    let p = load(&[
        ("areas/demo.toml", AREA),
        (
            "areas/again.toml",
            &AREA.replace("demo-request", "other-request"),
        ),
        ("question-sets/demo.toml", SET),
        ("question-sets/copy.toml", SET),
        ("notes/readme.toml", "x = 1"),
        ("areas/sub/deep.toml", AREA),
    ])
    .unwrap_err();
    let issues: Vec<_> = p.iter().map(|p| (&p.issue, p.file.as_str())).collect();
    assert!(
        issues.iter().any(
            |(i, f)| matches!(i, CatalogueIssue::Duplicate { kind: "area", .. })
                && *f == "areas/again.toml"
        ),
        "{p:#?}"
    );
    assert!(
        issues.iter().any(|(i, _)| matches!(
            i,
            CatalogueIssue::Duplicate {
                kind: "question set version",
                ..
            }
        )),
        "{p:#?}"
    );
    assert_eq!(
        issues
            .iter()
            .filter(|(i, _)| matches!(i, CatalogueIssue::UnknownLocation))
            .count(),
        2
    );
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "\u{0}\u{1}\u{2}",
        "id = 5",
        "[[[",
        "id = \"x\"\nversion = 1e99",
        &"[a]\n".repeat(1000),
    ] {
        for path in ["areas/x.toml", "question-sets/x.toml", "translations/x.xlf"] {
            assert!(load(&[(path, text)]).is_err(), "{path}: {text:?}");
        }
    }
}

#[test]
fn translation_files_report_unknown_units_and_bad_xml() {
    let xliff = r#"<?xml version="1.0"?>
<xliff xmlns="urn:oasis:names:tc:xliff:document:2.0" version="2.0" srcLang="en" trgLang="da">
 <file id="f"><unit id="area/nope/name"><segment><source>x</source><target>y</target></segment></unit></file>
</xliff>"#;
    let p = load(&[
        ("areas/demo.toml", AREA),
        ("question-sets/demo.toml", SET),
        ("translations/da.xlf", xliff),
    ])
    .unwrap_err();
    assert!(
        matches!(
            p[0].issue,
            CatalogueIssue::UnknownReference { kind: "text", .. }
        ),
        "{p:#?}"
    );
    let p = load(&[
        ("areas/demo.toml", AREA),
        ("question-sets/demo.toml", SET),
        ("translations/da.xlf", "<xliff"),
    ])
    .unwrap_err();
    assert!(matches!(p[0].issue, CatalogueIssue::Syntax { .. }));
    let bad_lang = xliff.replace("trgLang=\"da\"", "trgLang=\"klingon\"");
    let p = load(&[
        ("areas/demo.toml", AREA),
        ("question-sets/demo.toml", SET),
        ("translations/da.xlf", &bad_lang),
    ])
    .unwrap_err();
    assert!(matches!(p[0].issue, CatalogueIssue::BadLanguage(_)));
}
