//! Normalisation of names and dates of birth into keyed blind indexes, so that a clinician can
//! find a patient without the server decrypting every row.
//!
//! A name is split into tokens at whitespace and dashes. A token written in Latin script is
//! decomposed (Unicode NFKD), stripped of combining marks and lower-cased, so "Kaśka" and
//! "kaska" give the same token. A token in another script, such as "Анна" or "王芳", is only
//! composed (NFKC) and lower-cased, because stripping marks there would change letters, such as
//! Cyrillic "й" to "и". Characters that are neither letters nor digits, such as apostrophes and
//! dots, are dropped from every token.
//!
//! Each token is stored as HMAC-SHA-256 of the clinic id and the token under the blind-index
//! key, so equal names in two clinics give unrelated indexes.

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::identity::server::email::BlindIndexKey;
use crate::ids::ClinicId;

const NAME_TOKEN_PURPOSE: &str = "patient.name_token";
const DATE_OF_BIRTH_PURPOSE: &str = "patient.date_of_birth";

/// Splits a name into its normalised search tokens, without duplicates, in order of appearance.
pub fn name_tokens(name: &str) -> Vec<String> {
    let mut tokens: Vec<String> = Vec::new();
    for word in name.split(|c: char| c.is_whitespace() || is_dash(c)) {
        let token = normalize_token(word);
        if !token.is_empty() && !tokens.contains(&token) {
            tokens.push(token);
        }
    }
    tokens
}

fn normalize_token(word: &str) -> String {
    let stripped: String = word.nfkd().filter(|c| !is_combining_mark(*c)).collect();
    let base = if stripped.chars().all(is_latin_or_common) {
        stripped
    } else {
        word.nfkc().collect()
    };
    base.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Tells whether `c` is a dash that separates parts of a double-barrelled name.
fn is_dash(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2212}'
    )
}

/// Tells whether `c` is ASCII or in a Latin block of Unicode (Latin-1 Supplement, Latin
/// Extended-A to E and Latin Extended Additional).
fn is_latin_or_common(c: char) -> bool {
    matches!(
        c,
        '\u{0000}'..='\u{024F}'
            | '\u{1E00}'..='\u{1EFF}'
            | '\u{2C60}'..='\u{2C7F}'
            | '\u{A720}'..='\u{A7FF}'
            | '\u{AB30}'..='\u{AB6F}'
    )
}

/// Blind index of one normalised name token in a clinic.
pub fn name_token_index(key: &BlindIndexKey, clinic_id: ClinicId, token: &str) -> Vec<u8> {
    key.index(NAME_TOKEN_PURPOSE, &format!("{clinic_id}:{token}"))
}

/// Blind index of a date of birth in a clinic.
pub fn date_of_birth_index(key: &BlindIndexKey, clinic_id: ClinicId, date: NaiveDate) -> Vec<u8> {
    key.index(DATE_OF_BIRTH_PURPOSE, &format!("{clinic_id}:{date}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_and_case_removed() {
        assert_eq!(name_tokens("Kaśka Nowak"), ["kaska", "nowak"]);
        assert_eq!(name_tokens("  ZOË  Brontë "), ["zoe", "bronte"]);
        assert_eq!(name_tokens("Ångström"), ["angstrom"]);
    }

    #[test]
    fn hyphens_and_dashes_split_tokens() {
        assert_eq!(
            name_tokens("Anna-Maria Lopez–García"),
            ["anna", "maria", "lopez", "garcia"]
        );
    }

    #[test]
    fn punctuation_dropped_and_duplicates_removed() {
        assert_eq!(name_tokens("O'Brien, O'Brien Jr."), ["obrien", "jr"]);
        assert!(name_tokens(" - ").is_empty());
    }

    #[test]
    fn non_latin_scripts_keep_letters() {
        assert_eq!(name_tokens("Анна Йорданова"), ["анна", "йорданова"]);
        assert_eq!(name_tokens("王芳"), ["王芳"]);
        assert_eq!(name_tokens("Ｋａｔｅ"), ["kate"]);
    }

    #[test]
    fn index_depends_on_clinic() {
        let key = BlindIndexKey::new([7; 32]);
        let first = ClinicId(uuid::Uuid::from_u128(1));
        let second = ClinicId(uuid::Uuid::from_u128(2));
        assert_eq!(
            name_token_index(&key, first, "anna"),
            name_token_index(&key, first, "anna")
        );
        assert_ne!(
            name_token_index(&key, first, "anna"),
            name_token_index(&key, second, "anna")
        );
    }
}
