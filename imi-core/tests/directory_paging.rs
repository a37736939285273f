//! Directory search over a directory big enough that common words have more than a
//! thousand matches: the search then streams the word's completions merged in id order
//! instead of collecting every candidate. Paged to the end, every query returns exactly
//! the authorities a brute-force filter finds, in id order, each once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed step should panic

use std::sync::Arc;

use imi_core::{
    AuthorityId, Country, DirectoryQuery, Engine, Language, LanguagePreferences, LocalisedText,
    ManualClock, PageRequest, Participant, access::Actor, authority::Competence,
    authority::NewAuthority, store::MemoryStore,
};

const AREA: &str = "id = \"health\"\n[name]\nen = \"Health\"\n[[procedure]]\nid = \"health-request\"\nkind = \"request\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"Health request\"\n";
const QS: &str = "id = \"qs\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"q\"\ntype = \"yes-no\"\n[group.question.label]\nen = \"Q?\"\n";

/// Each kind has more than 1 024 authorities; the last has both completions of "health".
const KINDS: [&str; 4] = [
    "Health Office",
    "Healthcare Board",
    "Harbour Authority",
    "Healthcare Health Centre",
];

async fn world() -> (Engine, Vec<(AuthorityId, Country, String)>) {
    let clock = Arc::new(ManualClock::new("2026-11-22T09:00:00Z".parse().unwrap()));
    let engine = Engine::new(Arc::new(MemoryStore::new()), clock);
    let sources = [
        imi_core::catalogue::CatalogueSource::new("areas/health.toml", AREA),
        imi_core::catalogue::CatalogueSource::new("question-sets/qs.toml", QS),
    ];
    engine
        .publish_catalogue(
            &Actor::System,
            imi_core::catalogue::Catalogue::load(&sources).unwrap(),
        )
        .unwrap();
    let mut all = Vec::new();
    for i in 0..4_400usize {
        let country = [Country::Germany, Country::France, Country::Denmark][i % 3];
        let name = format!("{} {i}", KINDS[(i / 3) % 4]);
        let mut n = NewAuthority::new(
            country,
            LocalisedText::new(Language::English, name.clone()).unwrap(),
        );
        n.competences = vec![Competence {
            area: "health".parse().unwrap(),
            keywords: vec![],
        }];
        n.confirmed_not_duplicate = true;
        let a = engine.register_authority(&Actor::System, n).await.unwrap();
        all.push((a.id(), country, name.to_lowercase()));
    }
    (engine, all)
}

/// Every page of a query, concatenated.
async fn all_pages(engine: &Engine, query: &DirectoryQuery, limit: usize) -> Vec<AuthorityId> {
    let reader = LanguagePreferences::only(Language::English);
    let mut page = PageRequest::first(limit).unwrap();
    let mut out = Vec::new();
    loop {
        let got = engine
            .search_directory(&Actor::System, query, &reader, page.clone())
            .await
            .unwrap();
        out.extend(got.items.iter().map(|h| h.authority.id()));
        match got.next {
            Some(c) => page = PageRequest::first(limit).unwrap().after(c),
            None => return out,
        }
    }
}

#[tokio::test]
async fn streamed_and_collected_candidates_give_every_match_once_in_id_order() {
    let (engine, all) = world().await;
    let words_match = |name: &str, text: &str| {
        text.split(' ')
            .all(|q| name.split(' ').any(|w| w.starts_with(q)))
    };
    let cases: Vec<(Option<&str>, Option<Country>)> = vec![
        (Some("health"), None),        // "health" and "healthcare": two merged runs
        (Some("healthcare"), None),    // one run
        (Some("h"), None),             // too many completions: collected
        (Some("office health"), None), // two common words
        (Some("harbour"), Some(Country::France)), // common word + country
        (Some("office 12"), None),     // a rarer word: collected
        (None, Some(Country::Denmark)), // the participant index, streamed
        (None, None),                  // every authority, streamed
    ];
    for (text, country) in cases {
        let query = DirectoryQuery {
            text: text.map(str::to_owned),
            participant: country.map(Participant::Country),
            ..DirectoryQuery::default()
        };
        let mut expected: Vec<AuthorityId> = all
            .iter()
            .filter(|(_, c, name)| {
                text.is_none_or(|t| words_match(name, t)) && country.is_none_or(|x| *c == x)
            })
            .map(|(id, _, _)| *id)
            .collect();
        expected.sort();
        assert!(!expected.is_empty(), "{text:?} {country:?}");
        for limit in [50, 500] {
            let got = all_pages(&engine, &query, limit).await;
            assert_eq!(
                got.len(),
                expected.len(),
                "{text:?} {country:?} limit {limit}"
            );
            assert_eq!(got, expected, "{text:?} {country:?} limit {limit}");
        }
    }
}
