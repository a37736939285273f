//! Shared set-up for the criterion benchmarks in `benches/`.
//!
//! Run them with `cargo bench -p imi-benches`; figures and the machine they were taken on
//! are in `BENCHMARKS.md`.

use std::sync::Arc;

pub mod lifecycle;

/// The value at quantile `q` (0.0..=1.0) of a sorted sample; zero for an empty one.
pub fn quantile(sorted: &[std::time::Duration], q: f64) -> std::time::Duration {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )] // an index into a sorted sample
    let i = ((sorted.len() as f64 - 1.0) * q.clamp(0.0, 1.0)).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// A small seeded generator (splitmix64) for reproducible load runs.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi` (`lo` when `hi < lo`).
    pub fn in_range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi.saturating_sub(lo) + 1)
    }
}

use imi_core::store::MemoryStore;
use imi_core::store::{Store, StoreError};
use imi_store_sled::{SledConfig, SledStore};
use imi_store_sqlite::{SqliteConfig, SqliteStore};

/// A backend under measurement, with the directory that holds its files.
pub struct Backend {
    /// Short name for the report.
    pub name: &'static str,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Keeps on-disk backends' files until the bench ends.
    pub dir: Option<tempfile::TempDir>,
}

/// The three backends with their default (durable) settings, on fresh temporary storage.
pub async fn backends() -> Result<Vec<Backend>, StoreError> {
    let io = |e: std::io::Error| StoreError::backend("creating a temporary directory", e);
    let sqlite_dir = tempfile::tempdir().map_err(io)?;
    let sled_dir = tempfile::tempdir().map_err(io)?;
    let sqlite =
        SqliteStore::open(sqlite_dir.path().join("bench.db"), SqliteConfig::default()).await?;
    let sled = SledStore::open(sled_dir.path().join("bench"), SledConfig::default()).await?;
    Ok(vec![
        Backend {
            name: "memory",
            store: Arc::new(MemoryStore::new()),
            dir: None,
        },
        Backend {
            name: "sqlite",
            store: Arc::new(sqlite),
            dir: Some(sqlite_dir),
        },
        Backend {
            name: "sled",
            store: Arc::new(sled),
            dir: Some(sled_dir),
        },
    ])
}

/// Builds a directory of `n` active authorities spread over all 30 countries (the `i`th in
/// `Country::ALL[i % 30]`), with names in two or three languages (the country's own,
/// English, and for some German or French), regions, competences in two areas (see
/// [`world_area`]), and access to the health request procedure for one in five health
/// authorities (see [`world_request_access`]). Returns their ids in order. Progress goes
/// to standard error.
#[allow(clippy::print_stderr)] // progress of a long set-up, for the person waiting
pub async fn directory_world(
    engine: &imi_core::Engine,
    n: usize,
) -> Result<Vec<imi_core::AuthorityId>, imi_core::EngineError> {
    use imi_core::{
        Country, Language, LocalisedText, access::Actor, authority::Competence,
        authority::NewAuthority,
    };
    let request: imi_core::catalogue::ProcedureId =
        "health-request"
            .parse()
            .map_err(|_| imi_core::EngineError::Internal {
                detail: "id".into(),
            })?;
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let country = Country::ALL[i % 30];
        let own = country.official_languages()[0];
        let (en, de) = KINDS[i % KINDS.len()];
        let place = PLACES[(i / 30) % PLACES.len()];
        let mut pairs = vec![
            (own, format!("{de} {place} {i}")),
            (Language::English, format!("{en} {place} {i}")),
        ];
        if own == Language::English {
            pairs[0].1 = format!("{en} {place} {i}");
            pairs.pop();
        }
        if i % 3 == 0 && own != Language::French && own != Language::English {
            pairs.push((Language::French, format!("Office {place} {i}")));
        }
        let name =
            LocalisedText::from_pairs(pairs).map_err(|e| imi_core::EngineError::Internal {
                detail: e.to_string(),
            })?;
        let mut new = NewAuthority::new(country, name);
        new.region = format!("{}{}", country.code(), i % 5).parse().ok();
        let area = world_area(i);
        new.competences = vec![Competence {
            area: area.parse().map_err(|_| imi_core::EngineError::Internal {
                detail: "id".into(),
            })?,
            keywords: vec![format!("{en} services")],
        }];
        new.confirmed_not_duplicate = true;
        let a = engine.register_authority(&Actor::System, new).await?;
        ids.push(a.id());
        if world_request_access(i) {
            engine
                .grant_procedure(&Actor::System, a.id(), &request)
                .await?;
        }
        if (i + 1) % 20_000 == 0 {
            eprintln!("  directory world: {} / {n} authorities", i + 1);
        }
    }
    Ok(ids)
}

const KINDS: [(&str, &str); 8] = [
    ("Health Authority", "Gesundheitsamt"),
    ("Medical Council", "Ärztekammer"),
    ("Nursing Board", "Pflegekammer"),
    ("Trade Licensing Office", "Gewerbeamt"),
    ("Labour Inspectorate", "Arbeitsinspektorat"),
    ("Architects Chamber", "Architektenkammer"),
    ("Transport Agency", "Verkehrsbehörde"),
    ("Consumer Protection Office", "Verbraucherschutzamt"),
];
const PLACES: [&str; 16] = [
    "Nord", "Süd", "Ost", "West", "Zentrum", "Küste", "Berg", "Tal", "Insel", "Hafen", "Mark",
    "Land", "Stadt", "Fjord", "Heide", "Wald",
];

/// Words that find the `i`th authority of [`directory_world`] and few others: its English
/// name (every authority has one), as in "Medical Council Hafen 273".
pub fn world_name_query(i: usize) -> String {
    format!(
        "{} {} {i}",
        KINDS[i % KINDS.len()].0,
        PLACES[(i / 30) % PLACES.len()]
    )
}

/// The area of the `i`th authority of [`directory_world`]: every country has as many
/// health authorities as transport ones (`i / 30` alternates, so that each country gets
/// both, which `i % 2` would not: 30 is even).
pub fn world_area(i: usize) -> &'static str {
    if (i / 30).is_multiple_of(2) {
        "health"
    } else {
        "transport"
    }
}

/// Whether the `i`th authority of [`directory_world`] has access to `health-request`:
/// one in five health authorities.
pub fn world_request_access(i: usize) -> bool {
    i.is_multiple_of(5) && world_area(i) == "health"
}

/// A small catalogue with the areas and procedures [`directory_world`] uses: a request
/// procedure in each area (`health-request`, `transport-request`) and an alert procedure
/// in health (`health-alert`, without outgoing validation).
pub fn bench_catalogue()
-> Result<imi_core::catalogue::Catalogue, imi_core::catalogue::CatalogueErrors> {
    use imi_core::catalogue::{Catalogue, CatalogueSource};
    let qs = "id = \"qs\"\nversion = 1\n[title]\nen = \"Q\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"q\"\ntype = \"yes-no\"\n[group.question.label]\nen = \"Q?\"\n";
    let mut sources = vec![CatalogueSource::new("question-sets/qs.toml", qs)];
    let alert_qs = "id = \"alert-qs\"\nversion = 1\n[title]\nen = \"Alert\"\n[[group]]\nid = \"g\"\n[group.title]\nen = \"G\"\n[[group.question]]\nid = \"professional\"\ntype = \"free-text\"\nrequired = \"to-send\"\npersonal_data = true\n[group.question.label]\nen = \"Name\"\n";
    sources.push(CatalogueSource::new(
        "question-sets/alert-qs.toml",
        alert_qs,
    ));
    for area in ["health", "transport"] {
        let mut text = format!(
            "id = \"{area}\"\n[name]\nen = \"{area}\"\n[[procedure]]\nid = \"{area}-request\"\nkind = \"request\"\nquestion_set = \"qs\"\n[procedure.name]\nen = \"{area}\"\n"
        );
        if area == "health" {
            text.push_str("[[procedure]]\nid = \"health-alert\"\nkind = \"alert\"\nquestion_set = \"alert-qs\"\n[procedure.name]\nen = \"Health alert\"\n");
        }
        sources.push(CatalogueSource::new(format!("areas/{area}.toml"), text));
    }
    Catalogue::load(&sources)
}
