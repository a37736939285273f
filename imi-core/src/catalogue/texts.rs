//! Every translatable text of a catalogue, under a stable key.
//!
//! Keys name the text's place, e.g. `qs/pq-diploma-check/1/q/holder-name/label`; they
//! are the unit ids of XLIFF exports and the entries of the coverage report.

use super::model::{Catalogue, QuestionSet};
use crate::localised::LocalisedText;

impl Catalogue {
    /// Every text with its key, in a stable order.
    pub fn texts(&self) -> Vec<(String, &LocalisedText)> {
        let mut out = Vec::new();
        for a in self.areas.values() {
            out.push((format!("area/{}/name", a.id), &a.name));
            if let Some(d) = &a.description {
                out.push((format!("area/{}/description", a.id), d));
            }
        }
        for p in self.procedures.values() {
            out.push((format!("procedure/{}/name", p.id), &p.name));
        }
        for set in self.question_sets() {
            set_texts(set, &mut |k, t| out.push((k, t)));
        }
        out
    }

    /// Calls `f` with every text and its key, for changing translations.
    pub(crate) fn for_each_text_mut(&mut self, f: &mut dyn FnMut(String, &mut LocalisedText)) {
        for a in self.areas.values_mut() {
            f(format!("area/{}/name", a.id), &mut a.name);
            if let Some(d) = &mut a.description {
                f(format!("area/{}/description", a.id), d);
            }
        }
        for p in self.procedures.values_mut() {
            f(format!("procedure/{}/name", p.id), &mut p.name);
        }
        for versions in self.question_sets.values_mut() {
            for set in versions.values_mut() {
                set_texts_mut(set, f);
            }
        }
    }
}

fn prefix(set: &QuestionSet) -> String {
    format!("qs/{}/{}", set.id, set.version)
}

fn set_texts<'a>(set: &'a QuestionSet, f: &mut dyn FnMut(String, &'a LocalisedText)) {
    let p = prefix(set);
    f(format!("{p}/title"), &set.title);
    for g in &set.groups {
        f(format!("{p}/group/{}/title", g.id), &g.title);
        for q in &g.questions {
            f(format!("{p}/q/{}/label", q.id), &q.label);
            if let Some(h) = &q.help {
                f(format!("{p}/q/{}/help", q.id), h);
            }
            for o in q.answer.options() {
                f(format!("{p}/q/{}/option/{}/label", q.id, o.id), &o.label);
            }
        }
    }
}

fn set_texts_mut(set: &mut QuestionSet, f: &mut dyn FnMut(String, &mut LocalisedText)) {
    let p = prefix(set);
    f(format!("{p}/title"), &mut set.title);
    for g in &mut set.groups {
        f(format!("{p}/group/{}/title", g.id), &mut g.title);
        for q in &mut g.questions {
            f(format!("{p}/q/{}/label", q.id), &mut q.label);
            if let Some(h) = &mut q.help {
                f(format!("{p}/q/{}/help", q.id), h);
            }
            if let super::model::AnswerType::SingleChoice { options }
            | super::model::AnswerType::MultipleChoice { options } = &mut q.answer
            {
                for o in options {
                    f(
                        format!("{p}/q/{}/option/{}/label", q.id, o.id),
                        &mut o.label,
                    );
                }
            }
        }
    }
}

impl QuestionSet {
    /// The set with every text reduced to its source language: what must never change
    /// once a version is published (translations may still be added or corrected).
    pub fn structure(&self) -> QuestionSet {
        let mut copy = self.clone();
        set_texts_mut(&mut copy, &mut |_, t| *t = t.source_only());
        copy
    }
}
