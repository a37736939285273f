//! The request state machine: every branch, every illegal (state, command) pair, wrong
//! parties, and random command sequences from random parties.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::needless_pass_by_value
)] // test code: a failed step should panic

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use imi_core::catalogue::{AnswerValue, Answers, Catalogue, CatalogueSource, QuestionSet};
use imi_core::request::{
    Context, Intervention, Rating, Request, RequestCommand as C, RequestError, RequestEvent,
    RequestState, Roles, Stage,
};
use imi_core::{AuthorityId, CaseId, IdGenerator, UserId};
use proptest::prelude::*;

const SET: &str = r#"
id = "qs"
version = 1
[title]
en = "Diploma"
[[group]]
id = "g"
[group.title]
en = "G"
[[group.question]]
id = "name"
type = "free-text"
required = "to-send"
personal_data = true
[group.question.label]
en = "Name"
[[group.question]]
id = "authentic"
type = "yes-no"
required = "to-send"
answered_by = "responder"
[group.question.label]
en = "Authentic?"
[[group.question]]
id = "registered"
type = "yes-no"
answered_by = "responder"
[group.question.label]
en = "Registered?"
"#;

fn set() -> QuestionSet {
    let c = Catalogue::load(&[CatalogueSource::new("question-sets/qs.toml", SET)]).unwrap();
    c.question_set(&"qs".parse().unwrap(), 1).unwrap().clone()
}

struct World {
    set: QuestionSet,
    now: DateTime<Utc>,
    requester: AuthorityId,
    responder: AuthorityId,
    other: AuthorityId,
    third: AuthorityId,
    child: CaseId,
    handler: UserId,
}

fn world() -> World {
    let ids = IdGenerator::seeded(9);
    let now: DateTime<Utc> = "2026-11-22T09:00:00Z".parse().unwrap();
    World {
        set: set(),
        now,
        requester: ids.authority(now),
        responder: ids.authority(now),
        other: ids.authority(now),
        third: ids.authority(now),
        child: ids.case(now),
        handler: ids.user(now),
    }
}

const REQUESTER: Roles = Roles {
    requester: true,
    responder: false,
    allocator: false,
    requester_coordinator: false,
    responder_coordinator: false,
};
const RESPONDER: Roles = Roles {
    requester: false,
    responder: true,
    allocator: false,
    requester_coordinator: false,
    responder_coordinator: false,
};
const ALLOCATOR: Roles = Roles {
    requester: false,
    responder: false,
    allocator: true,
    requester_coordinator: false,
    responder_coordinator: false,
};
const COORDINATOR: Roles = Roles {
    requester: false,
    responder: false,
    allocator: false,
    requester_coordinator: false,
    responder_coordinator: true,
};
const NOBODY: Roles = Roles {
    requester: false,
    responder: false,
    allocator: false,
    requester_coordinator: false,
    responder_coordinator: false,
};

fn text(s: &str) -> AnswerValue {
    AnswerValue::Text(s.into())
}

fn answers(pairs: &[(&str, AnswerValue)]) -> Answers {
    let mut a = Answers::new();
    for (q, v) in pairs {
        a.set(q.parse().unwrap(), v.clone());
    }
    a
}

impl World {
    fn ctx(&self) -> Context<'_> {
        Context {
            now: self.now,
            questions: &self.set,
            requester: self.requester,
        }
    }

    fn run(
        &self,
        r: &mut Request,
        roles: Roles,
        cmd: C,
    ) -> Result<Vec<RequestEvent>, RequestError> {
        let events = r.decide(roles, &cmd, &self.ctx())?;
        for e in &events {
            r.apply(e, self.now);
        }
        Ok(events)
    }

    fn ok(&self, r: &mut Request, roles: Roles, cmd: C) {
        let name = cmd.name();
        self.run(r, roles, cmd)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }

    fn reply(&self) -> Answers {
        answers(&[("authentic", AnswerValue::YesNo(true))])
    }

    /// Drives a new request to `stage`.
    fn at(&self, stage: Stage) -> Request {
        let mut r = Request::new();
        self.ok(
            &mut r,
            REQUESTER,
            C::SaveDraft {
                answers: answers(&[("name", text("Marie Dubois"))]),
            },
        );
        if stage == Stage::Draft {
            return r;
        }
        self.ok(
            &mut r,
            REQUESTER,
            C::Send {
                recipient: self.responder,
                needed_by: self.now.date_naive() + Duration::days(20),
            },
        );
        match stage {
            Stage::AwaitingAcceptance => return r,
            Stage::Withdrawn => {
                self.ok(
                    &mut r,
                    REQUESTER,
                    C::Withdraw {
                        reason: "sent in error".into(),
                    },
                );
                return r;
            }
            _ => {}
        }
        self.ok(&mut r, RESPONDER, C::Accept { days: 14 });
        if stage == Stage::Accepted {
            return r;
        }
        self.ok(
            &mut r,
            RESPONDER,
            C::Answer {
                answers: self.reply(),
            },
        );
        match stage {
            Stage::Answered => r,
            Stage::ClarificationRequested => {
                self.ok(
                    &mut r,
                    REQUESTER,
                    C::AskClarification {
                        text: "Which register?".into(),
                    },
                );
                r
            }
            Stage::Closed => {
                self.ok(&mut r, REQUESTER, C::AcceptAnswer { rating: None });
                r
            }
            _ => unreachable!(),
        }
    }

    fn every_command(&self) -> Vec<C> {
        vec![
            C::SaveDraft {
                answers: Answers::new(),
            },
            C::Send {
                recipient: self.responder,
                needed_by: self.now.date_naive() + Duration::days(5),
            },
            C::Withdraw { reason: "r".into() },
            C::Accept { days: 5 },
            C::ProposeDate {
                date: self.now.date_naive() + Duration::days(30),
            },
            C::AcceptDate,
            C::RefuseDate,
            C::Forward { to: self.other },
            C::Split {
                to: self.other,
                questions: ["registered".parse().unwrap()].into(),
                child: self.child,
            },
            C::Allocate {
                handler: self.handler,
            },
            C::Answer {
                answers: self.reply(),
            },
            C::AskClarification { text: "t".into() },
            C::ReplyClarification { text: "t".into() },
            C::Comment { text: "t".into() },
            C::Refer {
                comment: "t".into(),
            },
            C::Intervene(Intervention::Remind),
            C::AcceptAnswer { rating: None },
        ]
    }
}

/// The legal (stage, command) pairs, from IMI-REFERENCE Part 1 (Accepted here has no
/// pending date proposal).
fn legal(stage: Stage, command: &str) -> bool {
    use Stage::*;
    let open = matches!(
        stage,
        AwaitingAcceptance | Accepted | Answered | ClarificationRequested
    );
    match command {
        "save-draft" | "send" => stage == Draft,
        "withdraw" | "forward" | "split" => matches!(stage, AwaitingAcceptance | Accepted),
        "accept" => stage == AwaitingAcceptance,
        "propose-date" | "answer" => stage == Accepted,
        "accept-date" | "refuse-date" => false,
        "allocate" => matches!(
            stage,
            AwaitingAcceptance | Accepted | ClarificationRequested
        ),
        "ask-clarification" | "accept-answer" => stage == Answered,
        "reply-clarification" => stage == ClarificationRequested,
        "comment" | "refer" | "intervene" => open,
        other => panic!("unknown command {other}"),
    }
}

fn roles_for(command: &str) -> Roles {
    match command {
        "accept" | "propose-date" | "forward" | "split" | "answer" | "reply-clarification" => {
            RESPONDER
        }
        "allocate" => ALLOCATOR,
        "intervene" => COORDINATOR,
        _ => REQUESTER,
    }
}

#[test]
fn every_illegal_pair_is_refused_naming_state_and_command() {
    let w = world();
    let stages = [
        Stage::Draft,
        Stage::AwaitingAcceptance,
        Stage::Accepted,
        Stage::Answered,
        Stage::ClarificationRequested,
        Stage::Closed,
        Stage::Withdrawn,
    ];
    let mut checked = 0;
    for stage in stages {
        let r = w.at(stage);
        assert_eq!(r.state().stage(), stage);
        for cmd in w.every_command() {
            let name = cmd.name();
            let result = r.decide(roles_for(name), &cmd, &w.ctx());
            if legal(stage, name) {
                assert!(
                    result.is_ok(),
                    "{name} in {stage} should be allowed: {result:?}"
                );
            } else {
                let Err(RequestError::IllegalInStage {
                    stage: arrived,
                    command,
                    expected,
                }) = &result
                else {
                    panic!("{name} in {stage}: {result:?}");
                };
                assert_eq!((*arrived, *command), (stage, name));
                // What the refusal says was expected is where the command can be legal
                // (accept-date and refuse-date also need a pending proposal).
                let needs_proposal = matches!(name, "accept-date" | "refuse-date");
                assert!(
                    !expected.contains(&stage) || needs_proposal,
                    "{name} in {stage}"
                );
                assert_eq!(expected, &imi_core::workflow::Command::possible_in(&cmd));
                for s in stages.iter().filter(|s| !expected.contains(s)) {
                    assert!(!legal(*s, name), "{name} is legal in {s}, not expected");
                }
                assert!(result.unwrap_err().to_string().contains(stage.name()));
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 7 * 17);
}

/// The command forms offered to a party are exactly what the legal table and the party
/// allow: derived from `decide`, they cannot drift from it.
#[test]
fn offered_forms_follow_the_legal_table() {
    let w = world();
    let stages = [
        Stage::Draft,
        Stage::AwaitingAcceptance,
        Stage::Accepted,
        Stage::Answered,
        Stage::ClarificationRequested,
        Stage::Closed,
        Stage::Withdrawn,
    ];
    for stage in stages {
        let r = w.at(stage);
        let nobody: Vec<_> = imi_core::workflow::offered(&r, NOBODY, &w.ctx())
            .iter()
            .map(|s| s.id)
            .collect();
        assert!(nobody.is_empty(), "{stage}: {nobody:?}");
        for roles in [REQUESTER, RESPONDER, ALLOCATOR, COORDINATOR] {
            let offered = imi_core::workflow::offered(&r, roles, &w.ctx());
            for spec in &offered {
                // Corrections have rules of their own (any stage after sending, the
                // party's own answers), outside the table.
                if !matches!(spec.command, "rectify" | "erase-unlawful") {
                    assert!(legal(stage, spec.command), "{} offered in {stage}", spec.id);
                }
            }
            for cmd in w.every_command() {
                let name = cmd.name();
                if legal(stage, name) && roles_for(name) == roles {
                    assert!(
                        offered.iter().any(|s| s.command == name),
                        "{name} not offered in {stage} to {roles:?}"
                    );
                }
            }
        }
    }
    let sent = w.at(Stage::AwaitingAcceptance);
    let names = |roles| {
        imi_core::workflow::offered(&sent, roles, &w.ctx())
            .iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    assert!(names(RESPONDER).contains(&"accept") && !names(RESPONDER).contains(&"answer"));
    assert!(!names(REQUESTER).contains(&"accept"));
}

#[test]
fn the_wrong_party_is_refused() {
    let w = world();
    let r = w.at(Stage::AwaitingAcceptance);
    for (roles, cmd) in [
        (REQUESTER, C::Accept { days: 3 }),
        (NOBODY, C::Accept { days: 3 }),
        (RESPONDER, C::Withdraw { reason: "x".into() }),
        (RESPONDER, C::Intervene(Intervention::Remind)),
        (COORDINATOR, C::Comment { text: "x".into() }),
        (REQUESTER, C::Allocate { handler: w.handler }),
    ] {
        let name = cmd.name();
        assert!(
            matches!(
                r.decide(roles, &cmd, &w.ctx()),
                Err(RequestError::WrongParty { .. })
            ),
            "{name}"
        );
    }
}

#[test]
fn plain_path_with_need_to_know_and_rating() {
    let w = world();
    let mut r = Request::new();
    // A draft can be saved incomplete, but not sent.
    w.ok(
        &mut r,
        REQUESTER,
        C::SaveDraft {
            answers: Answers::new(),
        },
    );
    let send = C::Send {
        recipient: w.responder,
        needed_by: w.now.date_naive() + Duration::days(10),
    };
    assert!(matches!(
        w.run(&mut r, REQUESTER, send.clone()),
        Err(RequestError::Answers(_))
    ));
    w.ok(
        &mut r,
        REQUESTER,
        C::SaveDraft {
            answers: answers(&[("name", text("Marie Dubois"))]),
        },
    );
    assert!(matches!(
        w.run(
            &mut r,
            REQUESTER,
            C::Send {
                recipient: w.requester,
                needed_by: w.now.date_naive()
            }
        ),
        Err(RequestError::Invalid { .. })
    ));
    assert!(matches!(
        w.run(
            &mut r,
            REQUESTER,
            C::Send {
                recipient: w.responder,
                needed_by: w.now.date_naive() - Duration::days(1)
            }
        ),
        Err(RequestError::Invalid { .. })
    ));
    w.ok(&mut r, REQUESTER, send);
    assert!(
        !r.state().recipient_may_see_personal_data(),
        "need to know: nothing before acceptance"
    );
    assert!(matches!(
        w.run(&mut r, RESPONDER, C::Accept { days: 0 }),
        Err(RequestError::Invalid { .. })
    ));
    w.ok(&mut r, RESPONDER, C::Accept { days: 14 });
    assert!(r.state().recipient_may_see_personal_data());
    assert!(
        matches!(r.state(), RequestState::Accepted { answer_by, .. } if *answer_by == NaiveDate::from_ymd_opt(2026, 12, 6).unwrap())
    );
    // The responder may not answer the requester's questions, and must answer its own.
    assert!(
        w.run(
            &mut r,
            RESPONDER,
            C::Answer {
                answers: answers(&[("name", text("x"))])
            }
        )
        .is_err()
    );
    assert!(
        w.run(
            &mut r,
            RESPONDER,
            C::Answer {
                answers: Answers::new()
            }
        )
        .is_err()
    );
    w.ok(&mut r, RESPONDER, C::Answer { answers: w.reply() });
    assert_eq!(r.answered_on_time(), Some(true));
    let bad_rating = C::AcceptAnswer {
        rating: Some(Rating {
            timeliness: 6,
            effort: 3,
        }),
    };
    assert!(matches!(
        w.run(&mut r, REQUESTER, bad_rating),
        Err(RequestError::Invalid { .. })
    ));
    w.ok(
        &mut r,
        REQUESTER,
        C::AcceptAnswer {
            rating: Some(Rating {
                timeliness: 5,
                effort: 4,
            }),
        },
    );
    assert!(
        matches!(r.state(), RequestState::Closed { by_coordinator: false, recipient: Some(x), .. } if *x == w.responder)
    );
    assert_eq!(
        r.rating(),
        Some(Rating {
            timeliness: 5,
            effort: 4
        })
    );
}

#[test]
fn forward_before_and_after_acceptance() {
    let w = world();
    let mut r = w.at(Stage::AwaitingAcceptance);
    assert!(matches!(
        w.run(&mut r, RESPONDER, C::Forward { to: w.responder }),
        Err(RequestError::Invalid { .. })
    ));
    assert!(matches!(
        w.run(&mut r, RESPONDER, C::Forward { to: w.requester }),
        Err(RequestError::Invalid { .. })
    ));
    w.ok(&mut r, RESPONDER, C::Forward { to: w.other });
    assert_eq!(
        r.state(),
        &RequestState::AwaitingAcceptance { recipient: w.other }
    );
    w.ok(&mut r, RESPONDER, C::Accept { days: 5 });
    w.ok(&mut r, ALLOCATOR, C::Allocate { handler: w.handler });
    assert_eq!(r.handler(), Some(w.handler));
    w.ok(&mut r, RESPONDER, C::Forward { to: w.third });
    assert_eq!(
        r.state(),
        &RequestState::AwaitingAcceptance { recipient: w.third },
        "back to awaiting acceptance at the new recipient"
    );
    assert_eq!(
        r.handler(),
        None,
        "the allocation stays with the old recipient"
    );
}

#[test]
fn split_moves_questions_to_a_child() {
    let w = world();
    let mut r = w.at(Stage::Accepted);
    let all: BTreeSet<_> = ["authentic".parse().unwrap(), "registered".parse().unwrap()].into();
    let split = |qs: BTreeSet<imi_core::catalogue::QuestionId>| C::Split {
        to: w.other,
        questions: qs,
        child: w.child,
    };
    assert!(
        matches!(
            w.run(&mut r, RESPONDER, split(all.clone())),
            Err(RequestError::Invalid { .. })
        ),
        "not every question"
    );
    assert!(
        matches!(
            w.run(&mut r, RESPONDER, split(["name".parse().unwrap()].into())),
            Err(RequestError::Invalid { .. })
        ),
        "only responder questions"
    );
    assert!(matches!(
        w.run(&mut r, RESPONDER, split(BTreeSet::new())),
        Err(RequestError::Invalid { .. })
    ));
    let events = w
        .run(
            &mut r,
            RESPONDER,
            split(["authentic".parse().unwrap()].into()),
        )
        .unwrap();
    assert!(matches!(&events[0], RequestEvent::SplitOff { child, .. } if *child == w.child));
    // The parent no longer answers the moved question (even though it is required).
    w.ok(
        &mut r,
        RESPONDER,
        C::Answer {
            answers: answers(&[("registered", AnswerValue::YesNo(true))]),
        },
    );
    // The child answers only the moved question.
    let child = Request::child_of(&r, &["authentic".parse().unwrap()].into(), all.into_iter());
    assert_eq!(child.request_answers(), r.request_answers());
    assert_eq!(child.split_off().len(), 1);
}

#[test]
fn clarification_loop_dates_referral_intervention_withdrawal() {
    let w = world();
    let mut r = w.at(Stage::Answered);
    w.ok(
        &mut r,
        REQUESTER,
        C::AskClarification {
            text: "Which register?".into(),
        },
    );
    assert!(matches!(
        w.run(
            &mut r,
            RESPONDER,
            C::ReplyClarification { text: " ".into() }
        ),
        Err(RequestError::Invalid { .. })
    ));
    w.ok(
        &mut r,
        RESPONDER,
        C::ReplyClarification {
            text: "The national register.".into(),
        },
    );
    assert_eq!(r.state().stage(), Stage::Answered);
    w.ok(
        &mut r,
        REQUESTER,
        C::Refer {
            comment: "The answer is incomplete".into(),
        },
    );
    assert_eq!(
        r.open_referral(),
        Some(imi_core::catalogue::Side::Requester)
    );
    w.ok(
        &mut r,
        COORDINATOR,
        C::Intervene(Intervention::Comment {
            text: "Please complete".into(),
        }),
    );
    w.ok(
        &mut r,
        COORDINATOR,
        C::Intervene(Intervention::Close {
            reason: "Settled by phone".into(),
        }),
    );
    assert!(matches!(
        r.state(),
        RequestState::Closed {
            by_coordinator: true,
            ..
        }
    ));

    // Date changes: accepted and refused.
    let mut r = w.at(Stage::Accepted);
    let later = w.now.date_naive() + Duration::days(40);
    w.ok(&mut r, RESPONDER, C::ProposeDate { date: later });
    assert!(
        w.run(&mut r, RESPONDER, C::ProposeDate { date: later })
            .is_err(),
        "one proposal at a time"
    );
    w.ok(&mut r, REQUESTER, C::RefuseDate);
    assert!(
        matches!(r.state(), RequestState::Accepted { proposed: None, answer_by, .. } if *answer_by != later)
    );
    w.ok(&mut r, RESPONDER, C::ProposeDate { date: later });
    w.ok(&mut r, REQUESTER, C::AcceptDate);
    assert!(
        matches!(r.state(), RequestState::Accepted { proposed: None, answer_by, .. } if *answer_by == later)
    );
    // Coordinators reassign; the requester withdraws.
    w.ok(
        &mut r,
        COORDINATOR,
        C::Intervene(Intervention::Reassign { to: w.third }),
    );
    assert_eq!(
        r.state(),
        &RequestState::AwaitingAcceptance { recipient: w.third }
    );
    w.ok(
        &mut r,
        REQUESTER,
        C::Withdraw {
            reason: "No longer needed".into(),
        },
    );
    assert!(
        matches!(r.state(), RequestState::Withdrawn { recipient: Some(x), .. } if *x == w.third)
    );
}

#[test]
fn a_late_answer_is_recorded_as_late() {
    let mut w = world();
    let mut r = w.at(Stage::Accepted);
    w.now += Duration::days(15);
    w.ok(&mut r, RESPONDER, C::Answer { answers: w.reply() });
    assert_eq!(r.answered_on_time(), Some(false));
}

fn arb_roles() -> impl Strategy<Value = Roles> {
    any::<[bool; 5]>().prop_map(|b| Roles {
        requester: b[0],
        responder: b[1],
        allocator: b[2],
        requester_coordinator: b[3],
        responder_coordinator: b[4],
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Random commands from random parties: refused commands change nothing, accepted
    /// ones lead only to states of the table, closed and withdrawn requests never move,
    /// and the recipient sees personal data only after an acceptance.
    #[test]
    fn random_sequences_keep_the_invariants(steps in proptest::collection::vec((arb_roles(), 0..22usize, 0..3i64), 1..40)) {
        let mut w = world();
        let commands: Vec<C> = {
            let mut v = w.every_command();
            v.extend([
                C::SaveDraft { answers: answers(&[("name", text("Marie"))]) },
                C::Intervene(Intervention::Close { reason: "done".into() }),
                C::Intervene(Intervention::Reassign { to: w.third }),
                C::Forward { to: w.third },
                C::AcceptAnswer { rating: Some(Rating { timeliness: 3, effort: 3 }) },
            ]);
            v
        };
        let mut r = Request::new();
        let mut ever_accepted = false;
        for (roles, pick, days) in steps {
            w.now += Duration::days(days);
            let cmd = &commands[pick % commands.len()];
            let before = r.clone();
            let stage_before = r.state().stage();
            match r.decide(roles, cmd, &w.ctx()) {
                Err(_) => prop_assert_eq!(&r, &before),
                Ok(events) => {
                    prop_assert!(!matches!(stage_before, Stage::Closed | Stage::Withdrawn), "{} moved a finished request", cmd.name());
                    for e in &events {
                        r.apply(e, w.now);
                        if matches!(e, RequestEvent::Accepted { .. }) {
                            ever_accepted = true;
                        }
                        if matches!(e, RequestEvent::Forwarded { .. }) {
                            ever_accepted = false;
                        }
                    }
                }
            }
            if r.state().recipient_may_see_personal_data() {
                prop_assert!(ever_accepted || matches!(r.state(), RequestState::Closed { .. }), "personal data visible without an acceptance: {:?}", r.state());
            }
            if let RequestState::Accepted { answer_by, proposed, .. } = r.state() {
                prop_assert!(proposed.is_none_or(|p| p != *answer_by));
            }
            prop_assert_eq!(r.state().recipient().is_none(), matches!(r.state(), RequestState::Draft | RequestState::Closed { recipient: None, .. } | RequestState::Withdrawn { recipient: None, .. }));
        }
    }
}

#[test]
fn waiting_for_tells_whose_turn_it_is() {
    use imi_core::catalogue::Side::{Requester, Responder};
    let w = world();
    let turn = |stage| {
        let r = w.at(stage);
        (
            r.state().waiting_for(Requester),
            r.state().waiting_for(Responder),
        )
    };
    assert_eq!(turn(Stage::Draft), (true, false));
    assert_eq!(turn(Stage::AwaitingAcceptance), (false, true));
    assert_eq!(turn(Stage::Accepted), (false, true));
    assert_eq!(turn(Stage::Answered), (true, false));
    assert_eq!(turn(Stage::ClarificationRequested), (false, true));
    assert_eq!(turn(Stage::Closed), (false, false));
    let mut r = w.at(Stage::Accepted);
    w.ok(
        &mut r,
        RESPONDER,
        C::ProposeDate {
            date: w.now.date_naive() + Duration::days(60),
        },
    );
    assert!(
        r.state().waiting_for(Requester),
        "a proposed date waits for the requester"
    );
}
