//! Communication rules: who may write to whom.
//!
//! A rule belongs to a structure and joins two audiences of it with a direction. Audiences are
//! the automatic groups of the directory (a profile in the structure, a profile within each
//! class, a profile in the structures attached to it); a store materialises the rules onto those
//! groups so that "may A write to B" and "whom may A reach" are indexed reads.

use crate::StructureKind;
use crate::profile::NationalProfile;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A set of people named relative to the structure that owns the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Audience {
    /// Everyone holding the profile in the structure.
    Profile(NationalProfile),
    /// In each class of the structure, its pupils (`Eleve`), teachers (`Enseignant`) or pupils'
    /// guardians (`Tuteur`). A rule between two class audiences joins people of the same class.
    Class(NationalProfile),
    /// Holders of the profile in the schools attached to the structure (the schools of a
    /// circonscription or of a commune).
    Attached(NationalProfile),
}

/// Profiles a class audience can name.
pub const CLASS_PROFILES: [NationalProfile; 3] = [
    NationalProfile::Eleve,
    NationalProfile::Enseignant,
    NationalProfile::Tuteur,
];

impl Audience {
    pub fn code(self) -> String {
        match self {
            Self::Profile(p) => format!("profile:{}", p.code()),
            Self::Class(p) => format!("class:{}", p.code()),
            Self::Attached(p) => format!("attached:{}", p.code()),
        }
    }

    pub fn profile(self) -> NationalProfile {
        match self {
            Self::Profile(p) | Self::Class(p) | Self::Attached(p) => p,
        }
    }

    /// Key of the audience's kind in the i18n catalogue (with the profile as argument).
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Profile(_) => "audience-profile",
            Self::Class(_) => "audience-class",
            Self::Attached(_) => "audience-attached",
        }
    }
}

impl FromStr for Audience {
    type Err = BadRule;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, profile) = s.split_once(':').ok_or(BadRule::Audience)?;
        let profile: NationalProfile = profile.parse().map_err(|_| BadRule::Audience)?;
        match kind {
            "profile" => Ok(Self::Profile(profile)),
            "class" if CLASS_PROFILES.contains(&profile) => Ok(Self::Class(profile)),
            "attached" => Ok(Self::Attached(profile)),
            _ => Err(BadRule::Audience),
        }
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

crate::directory::code_enum!(
    /// How a rule lets its two audiences talk: each side may write to the other (`Both`); the
    /// first may write to the second, who may answer what they receive (`Write`); the first
    /// may write to the second, who may not answer (`Broadcast`).
    Mode {
        Both => "both",
        Write => "write",
        Broadcast => "broadcast",
    }
);

impl Mode {
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Both => "rule-mode-both",
            Self::Write => "rule-mode-write",
            Self::Broadcast => "rule-mode-broadcast",
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BadRule {
    #[error("public inconnu")]
    Audience,
    #[error("une règle entre classes ne peut nommer qu'une classe d'une école")]
    ClassOutsideSchool,
    #[error("les écoles rattachées n'existent que pour une commune ou une circonscription")]
    AttachedOutsideGroup,
    #[error("vers les écoles rattachées : leurs directeurs, ou leurs familles en diffusion")]
    IntoSchools,
}

/// One rule of a structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rule {
    pub from: Audience,
    pub to: Audience,
    pub mode: Mode,
}

impl Rule {
    const fn new(from: Audience, to: Audience, mode: Mode) -> Self {
        Self { from, to, mode }
    }

    /// Whether the rule makes sense for a structure of this kind. A circonscription or a
    /// commune only opens its own people towards the schools' directeurs, or towards their
    /// families in broadcast: what happens inside a school is the school's to decide.
    pub fn check(&self, kind: StructureKind) -> Result<(), BadRule> {
        for a in [self.from, self.to] {
            match a {
                Audience::Class(_) if !kind.is_school() => return Err(BadRule::ClassOutsideSchool),
                Audience::Attached(_) if kind.is_school() => {
                    return Err(BadRule::AttachedOutsideGroup);
                }
                _ => {}
            }
        }
        if let Audience::Attached(_) = self.from {
            return Err(BadRule::IntoSchools);
        }
        match self.to {
            Audience::Attached(NationalProfile::Direction) => Ok(()),
            Audience::Attached(NationalProfile::Tuteur) if self.mode == Mode::Broadcast => Ok(()),
            Audience::Attached(_) => Err(BadRule::IntoSchools),
            _ => Ok(()),
        }
    }

    /// The (writer, reader, broadcast) pairs of audiences the rule opens.
    pub fn directions(&self) -> Vec<(Audience, Audience, bool)> {
        match self.mode {
            Mode::Both if self.from == self.to => vec![(self.from, self.to, false)],
            Mode::Both => vec![(self.from, self.to, false), (self.to, self.from, false)],
            Mode::Write => vec![(self.from, self.to, false)],
            Mode::Broadcast => vec![(self.from, self.to, true)],
        }
    }
}

/// A school's staff: they reach everyone in their school.
const SCHOOL_STAFF: [NationalProfile; 5] = [
    NationalProfile::Direction,
    NationalProfile::Enseignant,
    NationalProfile::VieScolaire,
    NationalProfile::Technique,
    NationalProfile::Documentaliste,
];

/// The rules a structure starts with. Guardians of a class reaching each other, and pupils
/// reaching their classmates, are left out: the school (or, for pupils, the teacher of the
/// class) opens them.
pub fn default_rules(kind: StructureKind) -> Vec<Rule> {
    use Audience::{Attached, Class, Profile};
    use NationalProfile as P;
    let mut rules = Vec::new();
    if kind.is_school() {
        for (i, a) in SCHOOL_STAFF.iter().enumerate() {
            for b in &SCHOOL_STAFF[i..] {
                rules.push(Rule::new(Profile(*a), Profile(*b), Mode::Both));
            }
            rules.push(Rule::new(Profile(*a), Profile(P::Tuteur), Mode::Write));
            rules.push(Rule::new(Profile(*a), Profile(P::Eleve), Mode::Write));
        }
        rules.push(Rule::new(
            Class(P::Tuteur),
            Class(P::Enseignant),
            Mode::Both,
        ));
        rules.push(Rule::new(
            Profile(P::Tuteur),
            Profile(P::Direction),
            Mode::Both,
        ));
        rules.push(Rule::new(Class(P::Eleve), Class(P::Enseignant), Mode::Both));
        return rules;
    }
    match kind {
        StructureKind::Circonscription => {
            rules.push(Rule::new(
                Profile(P::Academique),
                Profile(P::Academique),
                Mode::Both,
            ));
            rules.push(Rule::new(
                Profile(P::Academique),
                Attached(P::Direction),
                Mode::Both,
            ));
        }
        StructureKind::Commune => {
            rules.push(Rule::new(
                Profile(P::Collectivite),
                Profile(P::Collectivite),
                Mode::Both,
            ));
            rules.push(Rule::new(
                Profile(P::Collectivite),
                Attached(P::Direction),
                Mode::Both,
            ));
            rules.push(Rule::new(
                Profile(P::Collectivite),
                Attached(P::Tuteur),
                Mode::Broadcast,
            ));
        }
        _ => {}
    }
    rules
}

/// Rules a school may switch on beside its defaults, offered on the rules page.
pub fn optional_rules(kind: StructureKind) -> Vec<Rule> {
    use Audience::Class;
    use NationalProfile as P;
    if kind.is_school() {
        vec![
            Rule::new(Class(P::Tuteur), Class(P::Tuteur), Mode::Both),
            Rule::new(Class(P::Eleve), Class(P::Eleve), Mode::Both),
        ]
    } else {
        Vec::new()
    }
}

/// The rule a class's teacher switches on to let pupils write to their classmates.
pub const CLASSMATES: Rule = Rule::new(
    Audience::Class(NationalProfile::Eleve),
    Audience::Class(NationalProfile::Eleve),
    Mode::Both,
);

/// An automatic group as rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupRole {
    /// The structure's own group of a profile.
    Profile(NationalProfile),
    /// A class's group of a profile.
    Class(Uuid, NationalProfile),
    /// A profile group of a school attached to the structure.
    Attached(NationalProfile),
}

/// The (writer group, reader group, broadcast) rows a structure's rules open on its groups.
/// `rules` pairs each rule with the one class it is limited to, if any. Where two rules open
/// the same pair, the one allowing replies wins.
pub fn materialize(
    rules: &[(Option<Uuid>, Rule)],
    groups: &[(Uuid, GroupRole)],
) -> Vec<(Uuid, Uuid, bool)> {
    let matches = |a: Audience, role: GroupRole| match (a, role) {
        (Audience::Profile(p), GroupRole::Profile(q)) => p == q,
        (Audience::Attached(p), GroupRole::Attached(q)) => p == q,
        (Audience::Class(p), GroupRole::Class(_, q)) => p == q,
        _ => false,
    };
    let class_of = |role: GroupRole| match role {
        GroupRole::Class(c, _) => Some(c),
        _ => None,
    };
    let mut out: std::collections::BTreeMap<(Uuid, Uuid), bool> = Default::default();
    for (only_class, rule) in rules {
        for (writer, reader, broadcast) in rule.directions() {
            for &(wg, wrole) in groups.iter().filter(|(_, r)| matches(writer, *r)) {
                for &(rg, rrole) in groups.iter().filter(|(_, r)| matches(reader, *r)) {
                    let (wc, rc) = (class_of(wrole), class_of(rrole));
                    // Two class audiences: the same class only.
                    if wc.is_some() && rc.is_some() && wc != rc {
                        continue;
                    }
                    if let Some(c) = only_class
                        && wc.or(rc) != Some(*c)
                    {
                        continue;
                    }
                    let slot = out.entry((wg, rg)).or_insert(broadcast);
                    *slot = *slot && broadcast;
                }
            }
        }
    }
    out.into_iter().map(|((w, r), b)| (w, r, b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use NationalProfile as P;

    #[test]
    fn audience_codes_round_trip_and_bad_ones_are_refused() {
        for a in [
            Audience::Profile(P::Direction),
            Audience::Class(P::Tuteur),
            Audience::Attached(P::Direction),
        ] {
            assert_eq!(a.code().parse::<Audience>(), Ok(a));
        }
        assert!("class:National_DIR".parse::<Audience>().is_err());
        assert!("nowhere:National_ELV".parse::<Audience>().is_err());
        assert!("profile".parse::<Audience>().is_err());
    }

    #[test]
    fn school_defaults_keep_families_apart_and_let_them_reach_teachers() {
        let rules = default_rules(StructureKind::EcoleElementaire);
        let opens = |from: Audience, to: Audience| {
            rules
                .iter()
                .flat_map(Rule::directions)
                .any(|(w, r, _)| w == from && r == to)
        };
        assert!(opens(
            Audience::Class(P::Tuteur),
            Audience::Class(P::Enseignant)
        ));
        assert!(opens(
            Audience::Class(P::Enseignant),
            Audience::Class(P::Tuteur)
        ));
        assert!(opens(
            Audience::Profile(P::Tuteur),
            Audience::Profile(P::Direction)
        ));
        assert!(opens(
            Audience::Profile(P::Technique),
            Audience::Profile(P::Tuteur)
        ));
        assert!(!opens(
            Audience::Class(P::Tuteur),
            Audience::Class(P::Tuteur)
        ));
        assert!(!opens(Audience::Class(P::Eleve), Audience::Class(P::Eleve)));
        assert!(!opens(
            Audience::Profile(P::Tuteur),
            Audience::Profile(P::Tuteur)
        ));
        for r in &rules {
            assert_eq!(r.check(StructureKind::EcoleElementaire), Ok(()));
        }
    }

    #[test]
    fn the_mairie_broadcasts_to_families_without_replies() {
        let rules = default_rules(StructureKind::Commune);
        let to_families: Vec<_> = rules
            .iter()
            .flat_map(Rule::directions)
            .filter(|(_, r, _)| *r == Audience::Attached(P::Tuteur))
            .collect();
        assert_eq!(
            to_families,
            vec![(
                Audience::Profile(P::Collectivite),
                Audience::Attached(P::Tuteur),
                true
            )]
        );
        assert!(
            !rules
                .iter()
                .flat_map(Rule::directions)
                .any(|(w, _, _)| w == Audience::Attached(P::Tuteur))
        );
    }

    #[test]
    fn class_audiences_only_in_schools() {
        assert_eq!(
            CLASSMATES.check(StructureKind::Commune),
            Err(BadRule::ClassOutsideSchool)
        );
        let ien = Rule::new(
            Audience::Profile(P::Academique),
            Audience::Attached(P::Direction),
            Mode::Both,
        );
        assert_eq!(
            ien.check(StructureKind::EcolePrimaire),
            Err(BadRule::AttachedOutsideGroup)
        );
        assert_eq!(ien.check(StructureKind::Circonscription), Ok(()));
        // A grouping structure does not open writing between the people of its schools.
        let inside = Rule::new(
            Audience::Attached(P::Tuteur),
            Audience::Attached(P::Eleve),
            Mode::Both,
        );
        assert_eq!(
            inside.check(StructureKind::Commune),
            Err(BadRule::IntoSchools)
        );
        let families = Rule::new(
            Audience::Profile(P::Collectivite),
            Audience::Attached(P::Tuteur),
            Mode::Both,
        );
        assert_eq!(
            families.check(StructureKind::Commune),
            Err(BadRule::IntoSchools)
        );
        for r in default_rules(StructureKind::Commune)
            .iter()
            .chain(&default_rules(StructureKind::Circonscription))
        {
            assert_eq!(r.check(StructureKind::Commune), Ok(()), "{r:?}");
        }
    }

    #[test]
    fn materialized_class_rules_stay_within_each_class() {
        let [ca, cb, tut_a, ens_a, tut_b, ens_b, dir] = [(); 7].map(|_| Uuid::now_v7());
        let groups = [
            (tut_a, GroupRole::Class(ca, P::Tuteur)),
            (ens_a, GroupRole::Class(ca, P::Enseignant)),
            (tut_b, GroupRole::Class(cb, P::Tuteur)),
            (ens_b, GroupRole::Class(cb, P::Enseignant)),
            (dir, GroupRole::Profile(P::Direction)),
        ];
        let rules = [
            (
                None,
                Rule::new(
                    Audience::Class(P::Tuteur),
                    Audience::Class(P::Enseignant),
                    Mode::Both,
                ),
            ),
            (
                Some(cb),
                Rule::new(
                    Audience::Class(P::Tuteur),
                    Audience::Class(P::Tuteur),
                    Mode::Both,
                ),
            ),
            (
                None,
                Rule::new(
                    Audience::Profile(P::Direction),
                    Audience::Class(P::Tuteur),
                    Mode::Broadcast,
                ),
            ),
            (
                None,
                Rule::new(
                    Audience::Profile(P::Direction),
                    Audience::Class(P::Tuteur),
                    Mode::Write,
                ),
            ),
        ];
        let rows = materialize(&rules, &groups);
        let has = |w, r| {
            rows.iter()
                .find(|(a, b, _)| *a == w && *b == r)
                .map(|x| x.2)
        };
        assert_eq!(has(tut_a, ens_a), Some(false));
        assert_eq!(has(ens_a, tut_a), Some(false));
        assert_eq!(has(tut_a, ens_b), None);
        assert_eq!(has(tut_b, tut_b), Some(false));
        assert_eq!(has(tut_a, tut_a), None);
        // Write wins over broadcast for the same pair.
        assert_eq!(has(dir, tut_a), Some(false));
        assert_eq!(has(tut_a, dir), None);
    }
}
