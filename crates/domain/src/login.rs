//! Readable, unique logins: `prenom.nom`, ASCII, deduplicated with a number.

use unicode_normalization::UnicodeNormalization;

/// Folds a name to lower-case ASCII letters and digits, keeping inner hyphens:
/// "Zoé" → "zoe", "N'Diaye" → "ndiaye", "Le Goff" → "le-goff".
pub fn fold_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.nfkd() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ß' => out.push_str("ss"),
            ' ' | '-' | '_' | '.' if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            // Combining accents, apostrophes and anything else vanish.
            _ => {}
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// The login every account starts from, before deduplication.
pub fn base_login(first_name: &str, last_name: &str) -> String {
    let first = fold_name(first_name);
    let last = fold_name(last_name);
    match (first.is_empty(), last.is_empty()) {
        (false, false) => format!("{first}.{last}"),
        (false, true) => first,
        (true, false) => last,
        (true, true) => "utilisateur".to_owned(),
    }
}

/// The first free login among `base`, `base2`, `base3`… given a predicate telling which are taken.
pub fn dedupe_login(base: &str, mut is_taken: impl FnMut(&str) -> bool) -> String {
    if !is_taken(base) {
        return base.to_owned();
    }
    (2u32..)
        .map(|n| format!("{base}{n}"))
        .find(|candidate| !is_taken(candidate))
        .unwrap_or_else(|| base.to_owned())
}

/// Logins as typed at sign-in: trimmed and lower-cased, so "Camille.Martin " works.
pub fn normalize_typed_login(typed: &str) -> String {
    typed.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_french_names() {
        assert_eq!(base_login("Zoé", "Lefèvre"), "zoe.lefevre");
        assert_eq!(base_login("Jean-Noël", "N'Diaye"), "jean-noel.ndiaye");
        assert_eq!(base_login("Anaïs", "Le Goff"), "anais.le-goff");
        assert_eq!(base_login("Œdipe", "Çà"), "oedipe.ca");
        assert_eq!(base_login("", ""), "utilisateur");
    }

    #[test]
    fn dedupes_with_numbers() {
        let taken = ["lea.martin", "lea.martin2"];
        assert_eq!(
            dedupe_login("lea.martin", |l| taken.contains(&l)),
            "lea.martin3"
        );
        assert_eq!(
            dedupe_login("tom.petit", |l| taken.contains(&l)),
            "tom.petit"
        );
    }
}
