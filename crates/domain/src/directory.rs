//! The directory model's vocabulary: tenants, structures, class levels, functions.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("valeur inconnue : {0}")]
pub struct UnknownValue(pub String);

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Stable code stored in the database.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::directory::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s { $($code => Ok($name::$variant),)+ _ => Err($crate::directory::UnknownValue(s.to_owned())) }
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// Who runs a deployment's territory: a syndicat mixte pooling many communes, or one commune.
    TenantKind { Syndicat => "syndicat", Commune => "commune" }
);

code_enum!(
    /// Kinds of structures. Écoles carry a UAI; communes and circonscriptions group them.
    StructureKind {
        EcoleMaternelle => "ecole_maternelle",
        EcoleElementaire => "ecole_elementaire",
        EcolePrimaire => "ecole_primaire",
        Commune => "commune",
        Circonscription => "circonscription",
        College => "college",
    }
);

impl TenantKind {
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Syndicat => "tenant-syndicat",
            Self::Commune => "tenant-commune",
        }
    }
}

impl ClassRole {
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Eleve => "role-eleve",
            Self::Enseignant => "role-enseignant",
        }
    }
}

impl StructureKind {
    pub fn is_school(self) -> bool {
        matches!(
            self,
            Self::EcoleMaternelle | Self::EcoleElementaire | Self::EcolePrimaire | Self::College
        )
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Self::EcoleMaternelle => "structure-ecole-maternelle",
            Self::EcoleElementaire => "structure-ecole-elementaire",
            Self::EcolePrimaire => "structure-ecole-primaire",
            Self::Commune => "structure-commune",
            Self::Circonscription => "structure-circonscription",
            Self::College => "structure-college",
        }
    }
}

code_enum!(
    /// Class levels of the premier degré, in school order.
    Level {
        Tps => "TPS", Ps => "PS", Ms => "MS", Gs => "GS",
        Cp => "CP", Ce1 => "CE1", Ce2 => "CE2", Cm1 => "CM1", Cm2 => "CM2",
    }
);

impl Level {
    pub fn is_maternelle(self) -> bool {
        matches!(self, Self::Tps | Self::Ps | Self::Ms | Self::Gs)
    }
}

/// Parses a multi-level list such as `"CE2-CM1"` or `"CP,CE1"`, sorted and deduplicated.
pub fn parse_levels(s: &str) -> Result<Vec<Level>, UnknownValue> {
    let mut levels = s
        .split([',', '-', ' ', '/'])
        .filter(|part| !part.is_empty())
        .map(|part| part.trim().to_ascii_uppercase().parse::<Level>())
        .collect::<Result<Vec<_>, _>>()?;
    if levels.is_empty() {
        return Err(UnknownValue(s.to_owned()));
    }
    levels.sort();
    levels.dedup();
    Ok(levels)
}

pub fn format_levels(levels: &[Level]) -> String {
    levels
        .iter()
        .map(|l| l.code())
        .collect::<Vec<_>>()
        .join("-")
}

code_enum!(
    /// Functions held in a structure, beside the national profile.
    Function {
        Directeur => "directeur",
        Enseignant => "enseignant",
        Atsem => "atsem",
        Aesh => "aesh",
        Ien => "ien",
        ConseillerPedagogique => "cpc",
        AgentMairie => "agent_mairie",
        Animateur => "animateur",
    }
);

impl Function {
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Directeur => "function-directeur",
            Self::Enseignant => "function-enseignant",
            Self::Atsem => "function-atsem",
            Self::Aesh => "function-aesh",
            Self::Ien => "function-ien",
            Self::ConseillerPedagogique => "function-cpc",
            Self::AgentMairie => "function-agent-mairie",
            Self::Animateur => "function-animateur",
        }
    }
}

/// A UAI (unité administrative immatriculée): 7 digits and a check letter.
pub fn is_valid_uai(uai: &str) -> bool {
    let bytes = uai.as_bytes();
    if bytes.len() != 8 || !bytes[..7].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let Ok(number) = uai[..7].parse::<u32>() else {
        return false;
    };
    // The check letter is number mod 23 in an alphabet without I, O and Q.
    const LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    bytes[7].to_ascii_uppercase() == LETTERS[(number % 23) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_multi_level_labels() {
        assert_eq!(
            parse_levels("CM1-CE2").unwrap_or_default(),
            vec![Level::Ce2, Level::Cm1]
        );
        assert_eq!(
            parse_levels("ps,ms").unwrap_or_default(),
            vec![Level::Ps, Level::Ms]
        );
        assert!(parse_levels("6EME").is_err());
        assert!(parse_levels("").is_err());
        assert_eq!(format_levels(&[Level::Cp, Level::Ce1]), "CP-CE1");
    }

    #[test]
    fn uai_check_letter() {
        // 0000001 % 23 = 1 -> 'B'
        assert!(is_valid_uai("0000001B"));
        assert!(!is_valid_uai("0000001C"));
        assert!(!is_valid_uai("000001B"));
        assert!(!is_valid_uai("00000A1B"));
    }
}

code_enum!(
    /// An account's life: created with an activation code, activated by its owner, disabled.
    AccountState { Pending => "pending", Active => "active", Disabled => "disabled" }
);

code_enum!(
    /// How someone belongs to a class.
    ClassRole { Eleve => "eleve", Enseignant => "enseignant" }
);

code_enum!(
    /// Automatic groups are rebuilt from the directory; manual ones are kept as made.
    GroupKind { Profile => "profile", Class => "class", Manual => "manual" }
);

code_enum!(
    /// The two directory feeds.
    ImportKind { Onde => "onde", Aaf => "aaf" }
);

code_enum!(
    /// An import run: previewed (dry run), then queued, running, and done or failed.
    ImportState {
        Preview => "preview",
        Queued => "queued",
        Running => "running",
        Done => "done",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

impl ImportState {
    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Self::Preview => "import-state-preview",
            Self::Queued => "import-state-queued",
            Self::Running => "import-state-running",
            Self::Done => "import-state-done",
            Self::Failed => "import-state-failed",
            Self::Cancelled => "import-state-cancelled",
        }
    }
}
