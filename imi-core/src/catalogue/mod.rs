//! The catalogue: legislative areas, procedures and multilingual question sets, as data.
//!
//! A new area or procedure is added by writing files, not code: [`Catalogue::load`]
//! parses and checks them, [`Catalogue::coverage`] says what is untranslated,
//! [`Catalogue::export_xliff`] hands the rest to translators, and question sets validate
//! answers ([`QuestionSet::validate`]) at the two levels IMI uses (save a draft, send).

mod answers;
mod coverage;
mod load;
mod model;
mod texts;
mod xliff;

pub use answers::{
    AnswerError, AnswerErrors, AnswerProblem, AnswerValue, Answers, ValidationLevel,
};
pub use coverage::{CoverageReport, LanguageCoverage};
pub use load::{CatalogueErrors, CatalogueIssue, CatalogueProblem, CatalogueSource};
pub use model::*;
pub use xliff::ExportScope;
