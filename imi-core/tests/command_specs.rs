//! Every workflow lists its commands as data (`Command::SPECS`): each form builds into the
//! workflow's command type, names that command, and ids are unique.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::collections::BTreeSet;

use imi_core::workflow::Command;

fn check<C: Command>(expected_commands: &[&str]) {
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for spec in C::SPECS {
        assert!(ids.insert(spec.id), "{} listed twice", spec.id);
        let example: C = spec
            .example()
            .unwrap_or_else(|e| panic!("{}: the example does not build: {e}", spec.id));
        assert_eq!(example.name(), spec.command, "{}", spec.id);
        names.insert(spec.command);
        // Leaving out a required member is refused when building.
        for f in spec.fields.iter().filter(|f| f.required) {
            let values = spec
                .fields
                .iter()
                .filter(|g| g.name != f.name)
                .map(|g| (g.name.to_owned(), serde_json::Value::Null))
                .collect();
            assert!(
                spec.build::<C>(values).is_err(),
                "{} builds without {}",
                spec.id,
                f.name
            );
        }
    }
    let expected: BTreeSet<&str> = expected_commands.iter().copied().collect();
    assert_eq!(names, expected, "every command is listed");
}

#[test]
fn every_command_of_every_workflow_is_listed_and_builds() {
    check::<imi_core::request::RequestCommand>(&[
        "save-draft",
        "send",
        "withdraw",
        "accept",
        "propose-date",
        "accept-date",
        "refuse-date",
        "forward",
        "split",
        "allocate",
        "answer",
        "ask-clarification",
        "reply-clarification",
        "comment",
        "refer",
        "intervene",
        "accept-answer",
        "rectify",
        "erase-unlawful",
    ]);
    check::<imi_core::alert::AlertCommand>(&[
        "save-draft",
        "submit",
        "approve",
        "return",
        "reject",
        "distribute",
        "acknowledge",
        "add-information",
        "rectify",
        "propose-closure",
        "close",
        "withdraw",
    ]);
    check::<imi_core::notification::NotificationCommand>(&[
        "save-draft",
        "send",
        "comment",
        "close",
    ]);
    check::<imi_core::submission::SubmissionCommand>(&[
        "take",
        "ask-submitter",
        "answer",
        "close",
        "reply",
        "withdraw",
    ]);
    check::<imi_core::repository::RecordCommand>(&["update", "retire"]);
    check::<imi_core::solvit::SolvitCommand>(&[
        "save-draft",
        "submit",
        "accept",
        "reject",
        "comment",
        "propose-solution",
        "contest",
        "close",
        "withdraw",
        "record-feedback",
    ]);
    check::<imi_core::survey::SurveyCommand>(&["send", "extend-deadline", "close"]);
}
