//! Every string shown to people comes from the Fluent catalogues in `locales/`.
//! French is the language of reference; other languages fall back to it key by key.

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "fr",
        // No Unicode isolation marks around arguments: they would end up in the HTML.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static FRENCH: LazyLock<LanguageIdentifier> = LazyLock::new(|| "fr".parse().unwrap_or_default());

/// The interface languages with a catalogue.
static AVAILABLE: LazyLock<Vec<LanguageIdentifier>> =
    LazyLock::new(|| LOCALES.locales().cloned().collect());

/// French messages without arguments, formatted once: a page shows dozens of them.
static FRENCH_PLAIN: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
    include_str!("../locales/fr/main.ftl")
        .lines()
        .filter(|line| line.starts_with(|c: char| c.is_ascii_lowercase()))
        .filter_map(|line| line.split_once(" = ").map(|(key, _)| key.trim()))
        .filter_map(|key| LOCALES.try_lookup(&FRENCH, key).map(|text| (key, text)))
        .collect()
});

/// A translator for one language, handed to every template as `t`.
#[derive(Clone, Copy)]
pub struct Tr {
    lang: &'static LanguageIdentifier,
}

impl Default for Tr {
    fn default() -> Self {
        Self::french()
    }
}

impl Tr {
    pub fn french() -> Self {
        Self { lang: &FRENCH }
    }

    /// The interface in a person's language when there is a catalogue for it, else French.
    pub fn for_language(code: &str) -> Self {
        AVAILABLE
            .iter()
            .find(|l| l.language.as_str() == code && l.language.as_str() != "fr")
            .map_or_else(Self::french, |lang| Self { lang })
    }

    /// Codes of the interface languages people may choose.
    pub fn languages() -> Vec<String> {
        let mut codes: Vec<String> = AVAILABLE.iter().map(|l| l.language.to_string()).collect();
        codes.sort();
        codes.dedup();
        codes
    }

    /// The text of `key`.
    pub fn get(&self, key: &str) -> String {
        let french = std::ptr::eq(self.lang, &*FRENCH);
        if let Some(text) = FRENCH_PLAIN.get(key).filter(|_| french) {
            return text.clone();
        }
        LOCALES.lookup(self.lang, key)
    }

    /// The text of `key` with named arguments.
    pub fn with(&self, key: &str, args: &[(&'static str, &str)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.to_string())))
            .collect();
        LOCALES.lookup_with_args(self.lang, key, &args)
    }

    /// Shortcut for one argument, convenient in templates.
    pub fn with1(&self, key: &str, name: &'static str, value: &str) -> String {
        self.with(key, &[(name, value)])
    }

    /// Whether the catalogue has this key (tests check every key used exists).
    pub fn has(&self, key: &str) -> bool {
        // Messages with arguments only format when given them; offer every name we use.
        let args: HashMap<Cow<'static, str>, FluentValue> = [
            "children",
            "class",
            "budget",
            "day",
            "half",
            "mark",
            "reason",
            "title",
            "used",
            "code",
            "count",
            "date",
            "file",
            "guardian",
            "guardians",
            "link",
            "login",
            "min",
            "minutes",
            "name",
            "pupil",
            "place",
            "pupils",
            "reporter",
            "school",
            "sender",
            "who",
            "year",
            "years",
        ]
        .into_iter()
        .map(|n| (Cow::Borrowed(n), FluentValue::from("x")))
        .collect();
        LOCALES
            .try_lookup_with_args(self.lang, key, &args)
            .is_some()
    }

    pub fn lang(&self) -> String {
        self.lang.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `t.get("…")`, `t.with…("…"` and `tr.get("…")` key used in templates and code exists.
    #[test]
    fn every_key_used_is_in_the_french_catalogue() {
        let t = Tr::french();
        let mut missing = Vec::new();
        let mut stack = vec![
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates")),
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        ];
        let mut files = 0;
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).into_iter().flatten().flatten() {
                    stack.push(entry.path());
                }
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            files += 1;
            for marker in [
                "t.get(\"",
                "t.with(\"",
                "t.with1(\"",
                "tr.get(\"",
                "key: \"",
            ] {
                for part in text.split(marker).skip(1) {
                    let key: String = part.chars().take_while(|c| *c != '"').collect();
                    let is_key = !key.is_empty()
                        && key
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                    if is_key && !t.has(&key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(files > 10, "templates not found");
        assert!(
            missing.is_empty(),
            "missing French strings:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn arguments_are_substituted_without_isolation_marks() {
        let t = Tr::french();
        assert_eq!(t.with1("home-hello", "name", "Léa"), "Bonjour Léa");
    }
}
