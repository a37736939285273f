//! Case and diacritic folding for search and duplicate detection.
//!
//! `Ärztekammer` and `arztekammer` fold to the same text; so do `Ελληνικός` and
//! `ελληνικος`. Letters that do not decompose (`ß`, `æ`, `ø`, `ł`, ...) are spelt out.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds `text` to lower case without diacritics, with every run of non-alphanumeric
/// characters turned into one space, trimmed.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            let spelt: Option<&str> = match lower {
                'ß' => Some("ss"),
                'æ' => Some("ae"),
                'œ' => Some("oe"),
                'ø' => Some("o"),
                'đ' | 'ð' => Some("d"),
                'ł' => Some("l"),
                'þ' => Some("th"),
                'ı' => Some("i"),
                'ς' => Some("σ"),
                _ => None,
            };
            if lower.is_alphanumeric() {
                if pending_space && !out.is_empty() {
                    out.push(' ');
                }
                pending_space = false;
                match spelt {
                    Some(s) => out.push_str(s),
                    None => out.push(lower),
                }
            } else {
                pending_space = true;
            }
        }
    }
    out
}

/// The longest word kept by [`tokens`], in bytes: longer words are cut (at a character
/// boundary) to this length, in the index and in queries alike, so a search word of any
/// length is a valid key and still finds what it starts with.
pub const MAX_TOKEN_BYTES: usize = 100;

/// The folded words of `text`, each at most [`MAX_TOKEN_BYTES`] long.
pub fn tokens(text: &str) -> impl Iterator<Item = String> {
    fold(text)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(|t| {
            let mut end = t.len().min(MAX_TOKEN_BYTES);
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            t[..end].to_owned()
        })
        .collect::<Vec<_>>()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_diacritics() {
        assert_eq!(fold("Ärztekammer"), "arztekammer");
        assert_eq!(fold("  Straße  der   Einheit! "), "strasse der einheit");
        assert_eq!(fold("Sundhedsstyrelsen / Ærø"), "sundhedsstyrelsen aero");
        assert_eq!(fold("Ελληνικός Οργανισμός"), "ελληνικοσ οργανισμοσ");
        assert_eq!(fold("Łódź"), "lodz");
        assert_eq!(fold("ÍSLAND þjóð"), "island thjod");
        assert_eq!(
            fold("Ordre national des infirmiers (ONI)"),
            "ordre national des infirmiers oni"
        );
        assert_eq!(fold("---"), "");
    }

    #[test]
    fn long_words_are_cut_at_a_character_boundary() {
        let word = "é".repeat(3_000);
        let t: Vec<_> = tokens(&format!("a {word}")).collect();
        assert_eq!(t[0], "a");
        assert!(t[1].len() <= MAX_TOKEN_BYTES && t[1].chars().all(|c| c == 'e'));
        let greek = "λ".repeat(5_000);
        let t: Vec<_> = tokens(&greek).collect();
        assert!(t[0].len() <= MAX_TOKEN_BYTES && t[0].len() >= MAX_TOKEN_BYTES - 1);
    }

    #[test]
    fn tokens_split_words() {
        let t: Vec<_> = tokens("Agence nationale d'évaluation").collect();
        assert_eq!(t, ["agence", "nationale", "d", "evaluation"]);
    }
}
