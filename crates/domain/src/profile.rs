//! The nine national profiles of the SDET ("profils de l'accédant").

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NationalProfile {
    /// Élève.
    Eleve,
    /// Responsable d'élève (parent, tuteur légal).
    Tuteur,
    /// Enseignant.
    Enseignant,
    /// Direction (directeur d'école).
    Direction,
    /// Vie scolaire (AESH, AED…).
    VieScolaire,
    /// Personnel administratif, technique ou de service (ATSEM…).
    Technique,
    /// Personnel académique (IEN, conseillers pédagogiques).
    Academique,
    /// Documentaliste.
    Documentaliste,
    /// Personnel de collectivité territoriale (agent de mairie).
    Collectivite,
}

impl NationalProfile {
    pub const ALL: [NationalProfile; 9] = [
        Self::Eleve,
        Self::Tuteur,
        Self::Enseignant,
        Self::Direction,
        Self::VieScolaire,
        Self::Technique,
        Self::Academique,
        Self::Documentaliste,
        Self::Collectivite,
    ];

    /// The national code, as written in SSO attributes and AAF-derived data.
    pub fn code(self) -> &'static str {
        match self {
            Self::Eleve => "National_ELV",
            Self::Tuteur => "National_TUT",
            Self::Enseignant => "National_ENS",
            Self::Direction => "National_DIR",
            Self::VieScolaire => "National_EVS",
            Self::Technique => "National_ETA",
            Self::Academique => "National_ACA",
            Self::Documentaliste => "National_DOC",
            Self::Collectivite => "National_COL",
        }
    }

    /// Key of the profile's name in the i18n catalogue.
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Eleve => "profile-elv",
            Self::Tuteur => "profile-tut",
            Self::Enseignant => "profile-ens",
            Self::Direction => "profile-dir",
            Self::VieScolaire => "profile-evs",
            Self::Technique => "profile-eta",
            Self::Academique => "profile-aca",
            Self::Documentaliste => "profile-doc",
            Self::Collectivite => "profile-col",
        }
    }

    /// Pupils get a shorter password policy (CNIL 2022-100 case 2: throttled sign-in).
    pub fn is_pupil(self) -> bool {
        self == Self::Eleve
    }

    /// Staff of a school (as opposed to families and outside services).
    pub fn is_school_staff(self) -> bool {
        matches!(
            self,
            Self::Enseignant
                | Self::Direction
                | Self::VieScolaire
                | Self::Technique
                | Self::Documentaliste
        )
    }
}

impl fmt::Display for NationalProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("profil national inconnu : {0}")]
pub struct UnknownProfile(pub String);

impl FromStr for NationalProfile {
    type Err = UnknownProfile;

    /// Accepts `National_ELV` and the GAR lower-case spelling `National_elv`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let suffix = s
            .strip_prefix("National_")
            .ok_or_else(|| UnknownProfile(s.to_owned()))?;
        Self::ALL
            .into_iter()
            .find(|p| p.code()[9..].eq_ignore_ascii_case(suffix))
            .ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_gar_spelling_parses() {
        for p in NationalProfile::ALL {
            assert_eq!(p.code().parse::<NationalProfile>(), Ok(p));
        }
        assert_eq!("National_elv".parse(), Ok(NationalProfile::Eleve));
        assert!("National_PER".parse::<NationalProfile>().is_err());
        assert!("ELV".parse::<NationalProfile>().is_err());
    }
}
