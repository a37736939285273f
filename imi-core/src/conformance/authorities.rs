//! Engine scenarios: authorities, the directory and former users.

#[allow(unused_imports)]
use super::*;

/// The engine registers an authority with a multilingual name and contact details, and
/// reads it back unchanged through the backend.
pub async fn engine_registers_and_reads_an_authority(store: Arc<dyn Store>) {
    use crate::{Country, Language, LocalisedText, access::Actor, authority::NewAuthority};
    let engine = engine_on(store);
    let name = LocalisedText::from_pairs([
        (Language::French, "Ordre national des infirmiers"),
        (Language::English, "National Order of Nurses"),
    ])
    .unwrap();
    let contact = crate::authority::ContactDetails {
        email: Some("imi@ordre-infirmiers.fr".parse().unwrap()),
        phone: Some("+33 1 71 93 84 50".into()),
        address: Some("228 rue du Faubourg Saint-Martin\n75010 Paris".into()),
        website: None,
    };
    let mut new = NewAuthority::new(Country::France, name);
    new.contact = contact;
    let registered = engine
        .register_authority(&Actor::System, new.clone())
        .await
        .unwrap();
    let read = engine
        .authority(&Actor::System, registered.id())
        .await
        .unwrap();
    assert_eq!(read, registered);
    assert_eq!(read.name(), &new.name);
    assert_eq!(read.contact(), &new.contact);
    assert_eq!(
        read.name().resolve(Language::German).text,
        "Ordre national des infirmiers"
    );

    let unknown = crate::IdGenerator::seeded(1).authority(read.registered_at());
    assert!(matches!(
        engine.authority(&Actor::System, unknown).await,
        Err(crate::EngineError::NotFound { .. })
    ));
}

/// Authorities are listed per country, in registration order, page by page, and a cursor
/// from another listing is refused.
pub async fn engine_lists_authorities_by_country(store: Arc<dyn Store>) {
    use crate::{
        Country, Language, LocalisedText, PageRequest, access::Actor, authority::NewAuthority,
    };
    let engine = engine_on(store);
    let mut danish = Vec::new();
    for i in 0..7 {
        for country in [Country::Denmark, Country::Germany] {
            let name = LocalisedText::new(Language::English, format!("{country} authority {i}"));
            let new = NewAuthority::new(country, name.unwrap());
            let a = engine
                .register_authority(&Actor::System, new)
                .await
                .unwrap();
            if country == Country::Denmark {
                danish.push(a.id());
            }
        }
    }
    let mut seen = Vec::new();
    let mut request = PageRequest::first(3).unwrap();
    loop {
        let page = engine
            .authorities_of(&Actor::System, Country::Denmark.into(), request.clone())
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|a| a.id()));
        assert!(
            page.items
                .iter()
                .all(|a| a.participant() == Country::Denmark.into())
        );
        match page.next {
            Some(cursor) => request = request.after(cursor),
            None => break,
        }
    }
    let mut expected = danish.clone();
    expected.sort();
    assert_eq!(seen.len(), 7);
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    assert_eq!(sorted_seen, expected);

    let german_first = engine
        .authorities_of(
            &Actor::System,
            Country::Germany.into(),
            PageRequest::first(2).unwrap(),
        )
        .await
        .unwrap();
    let foreign_cursor = german_first.next.unwrap();
    let err = engine
        .authorities_of(
            &Actor::System,
            Country::Denmark.into(),
            PageRequest::first(2).unwrap().after(foreign_cursor),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, crate::EngineError::Page(_)), "{err}");
}

/// Directory search finds authorities by free text in several languages with case and
/// accent folding, filters by country, region, area, procedure and competence, resolves
/// names for the reader, pages without gaps or repeats, and leaves out deregistered
/// authorities. Identical on every backend.
pub async fn engine_directory_search(store: Arc<dyn Store>) {
    use crate::catalogue::{Catalogue, CatalogueSource};
    use crate::{
        Country, DirectoryQuery, Language, LanguagePreferences, LocalisedText, PageRequest,
        access::Actor, authority::Competence, authority::NewAuthority,
    };
    let engine = engine_on(store);
    let sources = [
        CatalogueSource::new(
            "areas/h.toml",
            "id = \"health\"\n[name]\nen = \"Health\"\n[[procedure]]\nid = \"health-request\"\nkind = \"request\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"R\"\n",
        ),
        CatalogueSource::new(
            "question-sets/qs.toml",
            "id = \"qs\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"q\"\ntype = \"yes-no\"\n[group.question.label]\nen = \"Q?\"\n",
        ),
    ];
    engine
        .publish_catalogue(&Actor::System, Catalogue::load(&sources).unwrap())
        .unwrap();
    let sys = Actor::System;
    let register =
        |country: Country, names: &[(Language, &str)], region: Option<&str>, keywords: &[&str]| {
            let mut n = NewAuthority::new(
                country,
                LocalisedText::from_pairs(names.iter().copied()).unwrap(),
            );
            n.region = region.map(|r| r.parse().unwrap());
            n.competences = vec![Competence {
                area: "health".parse().unwrap(),
                keywords: keywords.iter().map(|k| k.to_string()).collect(),
            }];
            n.confirmed_not_duplicate = true;
            let engine = &engine;
            async move { engine.register_authority(&Actor::System, n).await.unwrap() }
        };
    let berlin = register(
        Country::Germany,
        &[
            (Language::German, "Ärztekammer Berlin"),
            (Language::English, "Berlin Medical Association"),
        ],
        Some("DE-BE"),
        &["Krankenpflege", "Ärzte"],
    )
    .await;
    let paris = register(
        Country::France,
        &[(Language::French, "Ordre national des infirmiers")],
        None,
        &["soins infirmiers"],
    )
    .await;
    let athens = register(
        Country::Greece,
        &[
            (Language::Greek, "Ιατρικός Σύλλογος Αθηνών"),
            (Language::English, "Athens Medical Association"),
        ],
        None,
        &[],
    )
    .await;
    let lodz = register(
        Country::Poland,
        &[(Language::Polish, "Okręgowa Izba Lekarska w Łodzi")],
        None,
        &[],
    )
    .await;
    let copenhagen = register(
        Country::Denmark,
        &[
            (Language::Danish, "Styrelsen for Patientsikkerhed"),
            (Language::English, "Danish Patient Safety Authority"),
        ],
        None,
        &["sygeplejersker"],
    )
    .await;
    let helsinki = register(
        Country::Finland,
        &[
            (
                Language::Finnish,
                "Sosiaali- ja terveysalan lupa- ja valvontavirasto",
            ),
            (
                Language::Swedish,
                "Tillstånds- och tillsynsverket för social- och hälsovården",
            ),
        ],
        None,
        &[],
    )
    .await;
    engine
        .grant_procedure(&sys, copenhagen.id(), &"health-request".parse().unwrap())
        .await
        .unwrap();

    let english = LanguagePreferences::only(Language::English);
    let search = |q: DirectoryQuery, page: PageRequest| {
        let engine = &engine;
        let english = english.clone();
        async move {
            engine
                .search_directory(&Actor::System, &q, &english, page)
                .await
                .unwrap()
        }
    };
    let text = |t: &str| DirectoryQuery {
        text: Some(t.to_owned()),
        ..Default::default()
    };
    let ids = |p: &crate::Page<crate::DirectoryHit>| {
        p.items.iter().map(|h| h.authority.id()).collect::<Vec<_>>()
    };
    let first = || PageRequest::first(50).unwrap();

    assert_eq!(
        ids(&search(text("arztekammer"), first()).await),
        [berlin.id()],
        "German, folded"
    );
    assert_eq!(
        ids(&search(text("ÄRZTEKAMMER berl"), first()).await),
        [berlin.id()],
        "every word, as prefixes"
    );
    assert_eq!(
        ids(&search(text("ordre infirm"), first()).await),
        [paris.id()],
        "French prefixes"
    );
    assert_eq!(
        ids(&search(text("ιατρικος"), first()).await),
        [athens.id()],
        "Greek without tonos"
    );
    assert_eq!(
        ids(&search(text("lodzi izba"), first()).await),
        [lodz.id()],
        "Polish ł and ę"
    );
    assert_eq!(
        ids(&search(text("patientsikkerhed"), first()).await),
        [copenhagen.id()],
        "Danish"
    );
    assert_eq!(
        ids(&search(text("halsovarden"), first()).await),
        [helsinki.id()],
        "Swedish translation, å and ä"
    );
    assert_eq!(
        ids(&search(text("medical"), first()).await).len(),
        2,
        "English translations"
    );
    assert!(search(text("zzz"), first()).await.items.is_empty());
    assert_eq!(
        ids(&search(text("krankenpflege"), first()).await),
        [berlin.id()],
        "competence keywords"
    );

    let hit = &search(text("athens"), first()).await.items[0];
    assert_eq!(
        (hit.name.as_str(), hit.name_language, hit.fallback),
        ("Athens Medical Association", Language::English, false)
    );
    let hit = &search(text("lodz"), first()).await.items[0];
    assert_eq!(
        (hit.name_language, hit.fallback),
        (Language::Polish, true),
        "labelled fallback"
    );

    let filtered = |q: DirectoryQuery| async { ids(&search(q, first()).await) };
    assert_eq!(
        filtered(DirectoryQuery {
            participant: Some(Country::Germany.into()),
            ..Default::default()
        })
        .await,
        [berlin.id()]
    );
    assert_eq!(
        filtered(DirectoryQuery {
            region: Some("DE-BE".parse().unwrap()),
            ..Default::default()
        })
        .await,
        [berlin.id()]
    );
    assert_eq!(
        filtered(DirectoryQuery {
            procedure: Some("health-request".parse().unwrap()),
            ..Default::default()
        })
        .await,
        [copenhagen.id()]
    );
    assert_eq!(
        filtered(DirectoryQuery {
            competence: Some("sygepleje".into()),
            area: Some("health".parse().unwrap()),
            ..Default::default()
        })
        .await,
        [copenhagen.id()]
    );
    assert_eq!(
        filtered(DirectoryQuery {
            text: Some("medical".into()),
            participant: Some(Country::Greece.into()),
            ..Default::default()
        })
        .await,
        [athens.id()]
    );
    assert_eq!(filtered(DirectoryQuery::default()).await.len(), 6);

    // Pagination: 25 more, pages of 10, no gaps, no repeats, stable order.
    for i in 0..25 {
        register(
            Country::Austria,
            &[(Language::German, &format!("Gesundheitsamt Bezirk {i}"))],
            None,
            &[],
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut page = PageRequest::first(10).unwrap();
    loop {
        let p = search(text("gesundheitsamt"), page.clone()).await;
        assert!(p.items.len() <= 10);
        seen.extend(ids(&p));
        match p.next {
            Some(c) => page = page.after(c),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(seen.len(), 25);
    assert_eq!(sorted, seen, "stable id order without repeats");

    // Deregistered authorities leave the search.
    engine
        .deregister_authority(&sys, berlin.id(), "test")
        .await
        .unwrap();
    assert!(search(text("arztekammer"), first()).await.items.is_empty());
}

/// Former users' own data: blocked in normal reads from the day they stop being users,
/// deleted 3 years later, once; their id stays so past actions remain attributable.
/// Identical on every backend.
pub async fn engine_former_users(store: Arc<dyn Store>) {
    use crate::catalogue::Right;
    use crate::{Language, access::Actor, user::Grant, user::GrantScope, user::NewUser};
    let day =
        |d: &str| -> chrono::DateTime<chrono::Utc> { format!("{d}T09:00:00Z").parse().unwrap() };
    let w = request_world_with(Arc::clone(&store), REQUEST_AREA, REQUEST_QS, false).await;
    let engine = &w.engine;
    let fr = w.ids[1];
    let admin = engine
        .create_user(
            &Actor::System,
            fr,
            NewUser {
                name: "Admin".into(),
                email: "admin@x.fr".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    engine
        .set_grants(
            &Actor::System,
            admin.id(),
            vec![Grant::new(Right::Administrator, GrantScope::Everything)],
        )
        .await
        .unwrap();
    let admin = engine.actor_for(admin.id()).await.unwrap();
    let leaver = engine
        .create_user(
            &admin,
            fr,
            NewUser {
                name: "Zyxw-Former-User".into(),
                email: "zyxw.former@x.fr".parse().unwrap(),
                language: Language::French,
            },
        )
        .await
        .unwrap();
    engine.disable_user(&admin, leaver.id()).await.unwrap();
    let shown = engine.user(&admin, leaver.id()).await.unwrap();
    assert_eq!(shown.name(), "(blocked former user)");
    assert!(!shown.email().as_str().contains("zyxw"));
    let listed = engine
        .users_of(&admin, fr, crate::PageRequest::default())
        .await
        .unwrap();
    assert!(
        !format!("{listed:?}").contains("Zyxw-Former-User"),
        "blocked in listings too"
    );
    assert_eq!(
        engine
            .user(&Actor::System, leaver.id())
            .await
            .unwrap()
            .name(),
        "Zyxw-Former-User",
        "kept as proof"
    );
    assert_eq!(
        engine
            .tick(day("2029-11-21"), 100)
            .await
            .unwrap()
            .former_users_erased,
        0
    );
    assert_eq!(
        engine
            .tick(day("2029-11-22"), 100)
            .await
            .unwrap()
            .former_users_erased,
        1,
        "deleted 3 years later"
    );
    assert_eq!(
        engine
            .tick(day("2029-11-22"), 100)
            .await
            .unwrap()
            .former_users_erased,
        0,
        "once"
    );
    let erased = engine.user(&Actor::System, leaver.id()).await.unwrap();
    assert_eq!(
        (erased.id(), erased.name()),
        (leaver.id(), "(deleted former user)")
    );
    let everything = store.scan(&Scan::all(100_000)).await.unwrap();
    assert!(
        everything
            .entries
            .iter()
            .all(|e| !e.value.windows(16).any(|x| x == b"Zyxw-Former-User"))
    );
    assert!(
        everything
            .entries
            .iter()
            .all(|e| !e.value.windows(11).any(|x| x == b"zyxw.former"))
    );
}
