//! The Scoreboard's indicators per responding country and area, computed from the
//! requests' timelines.

use super::Engine;
use crate::access::Actor;
use crate::case::RequestCase;
use crate::error::EngineError;
use crate::ids::AuthorityId;
use crate::record::decode;
use crate::store::{Scan, StoreExt};

/// The Scoreboard indicators of one responding country and area over a period.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Indicator {
    /// The responding country.
    pub country: crate::country::Participant,
    /// The legislative area.
    pub area: crate::catalogue::AreaId,
    /// Requests sent to the country in the period.
    pub requests: usize,
    /// Share of them accepted within 7 days of being sent (0 to 1).
    pub accepted_within_7_days: f64,
    /// Average days from sending to the (first) answer, over the answered ones.
    pub average_days_to_answer: Option<f64>,
    /// Share of the answered ones answered by the date agreed in IMI (0 to 1).
    pub answered_by_agreed_date: Option<f64>,
}

#[derive(Default)]
struct Tally {
    requests: usize,
    accepted_in_7: usize,
    answered: usize,
    answer_days: f64,
    on_time: usize,
}

/// **Indicators**: the Scoreboard figures, without personal data.
impl Engine {
    /// The Scoreboard indicators per responding country and area, for requests sent in
    /// `[from, to)`: acceptance within 7 days, average days to answer, answers by the
    /// agreed date. They carry no personal data; any registered user may read them.
    pub async fn indicators(
        &self,
        actor: &Actor,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    ) -> Result<Vec<Indicator>, EngineError> {
        crate::access::decide(actor, &crate::access::Action::ReadDirectory).into_result()?;
        let mut tallies: std::collections::BTreeMap<
            (AuthorityId, crate::catalogue::AreaId),
            Tally,
        > = std::collections::BTreeMap::new();
        let prefix = crate::keys::Key::new(crate::keys::Space::Case).into_bytes();
        let scan = Scan::prefix(&prefix, 1_000);
        let mut pages = self.store.pages(scan);
        while let Some(entries) = pages.next().await? {
            for e in &entries {
                let case: RequestCase = decode(&e.key, &e.value)?;
                let m = case.request.milestones();
                let (Some(sent), Some(recipient)) = (m.sent_at, case.request.state().recipient())
                else {
                    continue;
                };
                if sent.date_naive() < from || sent.date_naive() >= to {
                    continue;
                }
                let t = tallies.entry((recipient, case.area.clone())).or_default();
                t.requests += 1;
                if m.accepted_at
                    .is_some_and(|a| a - sent <= chrono::Duration::days(7))
                {
                    t.accepted_in_7 += 1;
                }
                if let Some(answered) = m.answered_at {
                    t.answered += 1;
                    t.answer_days += (answered - sent).num_seconds() as f64 / 86_400.0;
                    if case.request.answered_on_time() == Some(true) {
                        t.on_time += 1;
                    }
                }
            }
        }
        // Per authority first, then per country: one directory read per authority.
        let mut by_country: std::collections::BTreeMap<
            (crate::country::Participant, crate::catalogue::AreaId),
            Tally,
        > = std::collections::BTreeMap::new();
        for ((authority, area), t) in tallies {
            let country = self.authority_doc(authority).await?.participant();
            let c = by_country.entry((country, area)).or_default();
            c.requests += t.requests;
            c.accepted_in_7 += t.accepted_in_7;
            c.answered += t.answered;
            c.answer_days += t.answer_days;
            c.on_time += t.on_time;
        }
        Ok(by_country
            .into_iter()
            .map(|((country, area), t)| Indicator {
                country,
                area,
                requests: t.requests,
                accepted_within_7_days: t.accepted_in_7 as f64 / t.requests.max(1) as f64,
                average_days_to_answer: (t.answered > 0).then(|| t.answer_days / t.answered as f64),
                answered_by_agreed_date: (t.answered > 0)
                    .then(|| t.on_time as f64 / t.answered as f64),
            })
            .collect())
    }
}
