//! From AAF records to a directory feed: structures, pupils with their classes and levels,
//! guardians holding parental authority, staff with profiles from the function table.

use super::reader::{AafReader, AafRecord, Operation};
use crate::FeedError;
use crate::onde::{normalize_email, normalize_ine, normalize_phone, parse_date};
use preau_domain::directory::{Function, Level, StructureKind, is_valid_uai};
use preau_domain::provisioning::{
    Feed, FeedClass, FeedLink, FeedPerson, FeedStructure, Origin, PersonKind, Rejection, Source,
    Text,
};
use preau_domain::{ClassRole, NationalProfile};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;
use std::sync::Arc;

/// The four kinds of AAF 1D files, in the order they must be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AafType {
    EtabEducNat,
    Eleve,
    PersRelEleve,
    PersEducNat,
}

impl AafType {
    pub const ALL: [AafType; 4] = [
        Self::EtabEducNat,
        Self::Eleve,
        Self::PersRelEleve,
        Self::PersEducNat,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::EtabEducNat => "EtabEducNat",
            Self::Eleve => "Eleve",
            Self::PersRelEleve => "PersRelEleve",
            Self::PersEducNat => "PersEducNat",
        }
    }
}

/// The type of an AAF file from its name, `…_<Type>_<NNNN>.xml`; other files are not AAF
/// data (the DTD, reports, 2D-only types).
pub fn classify(file_name: &str) -> Option<AafType> {
    let stem = file_name.strip_suffix(".xml")?;
    let (rest, chunk) = stem.rsplit_once('_')?;
    if chunk.len() != 4 || !chunk.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (_, kind) = rest.rsplit_once('_')?;
    AafType::ALL.into_iter().find(|t| t.name() == kind)
}

/// A complete export names every person; others ("Delta") only changes.
pub fn is_complete(file_name: &str) -> bool {
    file_name.contains("_Complet_")
}

/// AAF function codes → national profiles, kept as data (see `fonctions.txt`).
#[derive(Clone, Debug)]
pub struct FunctionMap(HashMap<String, NationalProfile>);

impl FunctionMap {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut map = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (code, profile) = line
                .split_once('=')
                .ok_or_else(|| format!("ligne {} : « CODE = National_XXX » attendu", n + 1))?;
            let profile = profile
                .trim()
                .parse::<NationalProfile>()
                .map_err(|e| format!("ligne {} : {e}", n + 1))?;
            map.insert(code.trim().to_owned(), profile);
        }
        Ok(Self(map))
    }

    pub fn profile(&self, code: &str) -> Option<NationalProfile> {
        self.0.get(code).copied()
    }
}

impl Default for FunctionMap {
    fn default() -> Self {
        Self::parse(include_str!("fonctions.txt")).unwrap_or_else(|_| Self(HashMap::new()))
    }
}

/// One file to read, opened by the caller.
pub struct AafInput {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
}

/// What the reader needs to know of the directory: structures already imported, by their
/// académie-prefixed join key (`99:101`) → UAI, for files that do not carry them.
#[derive(Clone, Debug, Default)]
pub struct AafContext {
    pub academie: Option<String>,
    pub known_structures: HashMap<String, String>,
    pub functions: FunctionMap,
}

/// (UAI, class id), both shared by every pupil of the class.
type ClassKey = (Arc<str>, Arc<str>);

struct Builder<'a> {
    ctx: &'a AafContext,
    academie: Option<String>,
    feed: Feed,
    /// Structure join key (unprefixed) → UAI
    uai_of: HashMap<String, Arc<str>>,
    /// (UAI, class id) → (label, levels), and the shared key string
    classes: BTreeMap<ClassKey, (String, Vec<Level>)>,
    /// The file being read, shared by its records' origins.
    file: Arc<str>,
    /// Guardian join key → index in `feed.people`
    person_of: HashMap<String, usize>,
    /// (pupil index, guardian join key, line)
    authority: Vec<(usize, String, Origin)>,
    wanted_guardians: HashSet<String>,
    contacts_without_authority: u64,
}

impl Builder<'_> {
    fn key(&self, id: &str) -> String {
        format!("{}:{}", self.academie.as_deref().unwrap_or("?"), id.trim())
    }

    fn uai(&mut self, structure_id: &str) -> Option<Arc<str>> {
        let id = structure_id.trim();
        if let Some(uai) = self.uai_of.get(id) {
            return Some(uai.clone());
        }
        let known: Arc<str> = Arc::from(self.ctx.known_structures.get(&self.key(id))?.as_str());
        self.uai_of.insert(id.to_owned(), known.clone());
        Some(known)
    }

    fn reject(&mut self, line: u64, reason: String) {
        self.feed.rejections.push(Rejection {
            origin: Origin {
                file: self.file.clone(),
                line,
            },
            reason,
        });
    }

    fn structure(&mut self, file: &str, r: &AafRecord) {
        if r.operation == Operation::Delete {
            self.feed.notices.push(format!(
                "{file}, ligne {} : suppression de l'établissement {} ignorée (les établissements ne sont jamais supprimés par un import)",
                r.line, r.id
            ));
            return;
        }
        let Some(uai) = r.first("ENTStructureUAI").map(str::to_ascii_uppercase) else {
            self.reject(r.line, format!("établissement {} sans UAI", r.id));
            return;
        };
        if !is_valid_uai(&uai) {
            self.reject(r.line, format!("UAI invalide « {uai} »"));
            return;
        }
        let type_label = r
            .first("ENTStructureTypeStruct")
            .unwrap_or_default()
            .to_uppercase();
        let kind = if type_label.contains("MATERNELLE") {
            StructureKind::EcoleMaternelle
        } else if type_label.contains("ELEMENTAIRE") || type_label.contains("ÉLÉMENTAIRE") {
            StructureKind::EcoleElementaire
        } else if type_label.contains("COLLEGE") || type_label.contains("COLLÈGE") {
            StructureKind::College
        } else {
            StructureKind::EcolePrimaire
        };
        // `<sigle>$<NOM>$<COMMUNE>`: the middle field is the school's own name.
        let current = r.first("ENTStructureNomCourant").unwrap_or_default();
        let own = current.split('$').nth(1).unwrap_or(current).trim();
        let prefix = match kind {
            StructureKind::EcoleMaternelle => "École maternelle",
            StructureKind::EcoleElementaire => "École élémentaire",
            StructureKind::College => "Collège",
            _ => "École primaire",
        };
        let name = if own.is_empty() {
            format!("{prefix} {uai}")
        } else {
            format!("{prefix} {own}")
        };
        self.uai_of
            .insert(r.id.trim().to_owned(), Arc::from(uai.as_str()));
        self.feed.structures.push(FeedStructure {
            uai,
            aaf_id: Some(self.key(&r.id)),
            name,
            kind,
            commune: r
                .first("ENTEcoleCommune")
                .or_else(|| r.first("ENTStructureVille"))
                .unwrap_or_default()
                .to_owned(),
            circonscription: r
                .first("ENTEcoleCirconscription")
                .map(str::to_ascii_uppercase)
                .filter(|c| is_valid_uai(c)),
        });
    }

    /// Identity fields common to the three person types.
    fn person(&self, r: &AafRecord, kind: PersonKind) -> Result<FeedPerson, String> {
        let first = r.first("ENTPersonPrenom").unwrap_or_default();
        let last = r.first("ENTPersonNom").unwrap_or_default();
        let partial = r.operation == Operation::Modify;
        if !partial && (first.is_empty() || last.is_empty()) {
            return Err(format!("personne {} sans nom ou sans prénom", r.id));
        }
        let birth_date = match r.first("ENTPersonDateNaissance") {
            Some(d) => {
                Some(parse_date(d).ok_or_else(|| format!("date de naissance invalide « {d} »"))?)
            }
            None => None,
        };
        let birth_name = r
            .first("ENTPersonNomPatro")
            .filter(|b| !b.eq_ignore_ascii_case(last))
            .map(str::to_owned);
        Ok(FeedPerson {
            origin: Origin {
                file: self.file.clone(),
                line: r.line,
            },
            kind: Some(kind),
            aaf_id: Some(self.key(&r.id).into()),
            first_name: first.into(),
            last_name: last.into(),
            birth_name: birth_name.map(Text::from),
            birth_date,
            email: r
                .first("ENTPersonMail")
                .and_then(normalize_email)
                .map(Text::from),
            partial,
            ..FeedPerson::default()
        })
    }

    fn pupil(&mut self, r: &AafRecord) {
        if r.operation == Operation::Delete {
            self.feed.deletions.push(self.key(&r.id));
            return;
        }
        let mut p = match self.person(r, PersonKind::Pupil) {
            Ok(p) => p,
            Err(reason) => return self.reject(r.line, reason),
        };
        if let Some(raw) = r.first("ENTEleveINE") {
            match normalize_ine(raw) {
                Some(ine) => p.ine = Some(ine.into()),
                None => return self.reject(r.line, format!("INE invalide « {raw} »")),
            }
        }
        let level = r
            .first("ENTEleveNiveau")
            .and_then(|v| v.split('$').nth(1))
            .and_then(|l| l.trim().to_ascii_uppercase().parse::<Level>().ok());
        p.keeps_attachments = r.operation == Operation::Modify
            && !r.has("ENTPersonStructRattach")
            && !r.has("ENTPersonClasses");
        p.keeps_links = r.operation == Operation::Modify && !r.has("ENTEleveAutoriteParentale");
        let mut structures: Vec<Arc<str>> = Vec::new();
        if let Some(s) = r.first("ENTPersonStructRattach") {
            match self.uai(s) {
                Some(uai) => structures.push(uai),
                None => {
                    return self
                        .reject(r.line, format!("établissement de rattachement {s} inconnu"));
                }
            }
        }
        // Exact sizes: vectors grown by `push` start at four slots, for 200,000 pupils.
        p.classes.reserve_exact(r.values("ENTPersonClasses").len());
        for value in r.values("ENTPersonClasses") {
            let fields: Vec<&str> = value.split('$').collect();
            let (Some(s), Some(id)) = (fields.first(), fields.get(3)) else {
                continue;
            };
            let label = fields.get(4).map_or(*id, |l| l.trim());
            let Some(uai) = self.uai(s) else {
                return self.reject(r.line, format!("classe d'un établissement inconnu ({s})"));
            };
            let class_key = (uai.clone(), Arc::<str>::from(id.trim()));
            let shared: Arc<str> = match self.classes.get_key_value(&class_key) {
                Some((k, _)) => k.1.clone(),
                None => class_key.1.clone(),
            };
            let entry = self
                .classes
                .entry(class_key)
                .or_insert_with(|| (label.to_owned(), Vec::new()));
            entry.1.extend(level);
            if !structures.contains(&uai) {
                structures.push(uai.clone());
            }
            p.classes.push((uai, shared, ClassRole::Eleve));
        }
        p.profiles = structures
            .into_iter()
            .map(|u| (u, NationalProfile::Eleve))
            .collect();
        let index = self.feed.people.len();
        for value in r.values("ENTEleveAutoriteParentale") {
            let id = value.split('$').next().unwrap_or_default().trim();
            if !id.is_empty() {
                self.wanted_guardians.insert(id.to_owned());
                self.authority
                    .push((index, id.to_owned(), p.origin.clone()));
            }
        }
        self.feed.people.push(p);
    }

    fn guardian(&mut self, r: &AafRecord) {
        if r.operation == Operation::Delete {
            self.feed.deletions.push(self.key(&r.id));
            return;
        }
        // Only adults with parental authority get an account; other contacts are counted.
        if r.operation == Operation::Add && !self.wanted_guardians.contains(r.id.trim()) {
            self.contacts_without_authority += 1;
            return;
        }
        let mut p = match self.person(r, PersonKind::Guardian) {
            Ok(p) => p,
            Err(reason) => return self.reject(r.line, reason),
        };
        p.mobile = r
            .first("ENTPersRelEleveTelMobile")
            .and_then(normalize_phone)
            .map(Text::from);
        p.keeps_attachments = true;
        self.person_of
            .insert(r.id.trim().to_owned(), self.feed.people.len());
        self.feed.people.push(p);
    }

    fn staff(&mut self, file: &str, r: &AafRecord) {
        if r.operation == Operation::Delete {
            self.feed.deletions.push(self.key(&r.id));
            return;
        }
        let mut p = match self.person(r, PersonKind::Staff) {
            Ok(p) => p,
            Err(reason) => return self.reject(r.line, reason),
        };
        p.keeps_attachments = r.operation == Operation::Modify
            && !r.has("ENTPersonFonctions")
            && !r.has("ENTEnsFonctionDir")
            && !r.has("ENTPersonStructRattach");
        let add = |p: &mut FeedPerson, uai: &Arc<str>, profile: NationalProfile| {
            if !p.profiles.iter().any(|(u, pr)| u == uai && *pr == profile) {
                p.profiles.push((uai.clone(), profile));
            }
            let function = match profile {
                NationalProfile::Enseignant => Some(Function::Enseignant),
                NationalProfile::Direction => Some(Function::Directeur),
                _ => None,
            };
            if let Some(f) = function
                && !p.functions.iter().any(|(u, x)| u == uai && *x == f)
            {
                p.functions.push((uai.clone(), f));
            }
        };
        for value in r.values("ENTPersonFonctions") {
            let fields: Vec<&str> = value.split('$').collect();
            let (Some(s), Some(code)) = (fields.first(), fields.get(1)) else {
                continue;
            };
            let Some(uai) = self.uai(s) else {
                self.feed.notices.push(format!(
                    "{file}, ligne {} : fonction dans un établissement hors de l'export ({s}) ignorée",
                    r.line
                ));
                continue;
            };
            match self.ctx.functions.profile(code.trim()) {
                Some(profile) => add(&mut p, &uai, profile),
                None => {
                    let reason = format!(
                        "code de fonction « {} » absent de la table de correspondance : fonction ignorée",
                        code.trim()
                    );
                    self.reject(r.line, reason);
                }
            }
        }
        for s in r.values("ENTEnsFonctionDir") {
            if let Some(uai) = self.uai(s) {
                add(&mut p, &uai, NationalProfile::Direction);
            }
        }
        if p.profiles.is_empty()
            && let Some(uai) = r.first("ENTPersonStructRattach").and_then(|s| self.uai(s))
        {
            let teaches = r
                .first("ENTPersonCategorieEnseignant")
                .is_some_and(|v| v.eq_ignore_ascii_case("O"));
            add(
                &mut p,
                &uai,
                if teaches {
                    NationalProfile::Enseignant
                } else {
                    NationalProfile::Technique
                },
            );
        }
        if p.profiles.is_empty() && !p.keeps_attachments {
            return self.reject(
                r.line,
                format!("personnel {} sans établissement connu", r.id),
            );
        }
        self.feed.people.push(p);
    }

    /// Links pupils to the guardians they name; guardians hold their children's schools.
    fn finish(mut self) -> Feed {
        let authority = std::mem::take(&mut self.authority);
        for (pupil, guardian_id, origin) in authority {
            let guardian = match self.person_of.get(&guardian_id) {
                Some(g) => *g,
                None if !self.feed.complete => {
                    // An incremental file may link to a guardian imported earlier.
                    let index = self.feed.people.len();
                    self.feed.people.push(FeedPerson {
                        origin: origin.clone(),
                        kind: Some(PersonKind::Guardian),
                        aaf_id: Some(self.key(&guardian_id).into()),
                        partial: true,
                        keeps_attachments: true,
                        ..FeedPerson::default()
                    });
                    self.person_of.insert(guardian_id.clone(), index);
                    index
                }
                None => {
                    self.feed.rejections.push(Rejection {
                        origin,
                        reason: format!(
                            "responsable {guardian_id} (autorité parentale) absent des fichiers PersRelEleve : lien non créé"
                        ),
                    });
                    continue;
                }
            };
            self.feed.links.push(FeedLink {
                guardian,
                pupil,
                legal_authority: true,
            });
            let schools: Vec<Arc<str>> = self.feed.people[pupil]
                .profiles
                .iter()
                .map(|(u, _)| u.clone())
                .collect();
            let g = &mut self.feed.people[guardian];
            for uai in schools {
                if !g.profiles.iter().any(|(u, _)| *u == uai) {
                    g.profiles.reserve_exact(1);
                    g.profiles.push((uai, NationalProfile::Tuteur));
                }
            }
        }
        // Guardians of a complete export hold exactly their children's schools.
        for g in self.feed.people.iter_mut() {
            if g.kind == Some(PersonKind::Guardian) && !g.partial {
                g.keeps_attachments = false;
            }
        }
        for ((uai, key), (name, mut levels)) in std::mem::take(&mut self.classes) {
            levels.sort();
            levels.dedup();
            self.feed.classes.push(FeedClass {
                uai: uai.to_string(),
                key: key.to_string(),
                name,
                levels,
            });
        }
        self.feed.people.shrink_to_fit();
        self.feed.links.shrink_to_fit();
        if self.contacts_without_authority > 0 {
            self.feed.notices.push(format!(
                "{} contacts sans autorité parentale (grands-parents, accueillants…) : pas de compte",
                self.contacts_without_authority
            ));
        }
        self.feed
    }
}

/// Reads a set of AAF files into one feed. Files are read in the order the format requires
/// (structures, pupils, guardians, staff), one record at a time; `progress` is called with
/// the number of records read so far.
pub fn read_files(
    mut inputs: Vec<AafInput>,
    ctx: &AafContext,
    progress: &mut dyn FnMut(u64),
) -> Result<Feed, FeedError> {
    let mut typed: Vec<(AafType, AafInput)> = Vec::new();
    for input in inputs.drain(..) {
        if let Some(t) = classify(&input.name) {
            typed.push((t, input));
        }
    }
    if typed.is_empty() {
        return Err(FeedError::Missing(
            "aucun fichier AAF (…_EtabEducNat_0000.xml, …_Eleve_0000.xml, …) dans le dossier"
                .to_owned(),
        ));
    }
    typed.sort_by(|a, b| (a.0, &a.1.name).cmp(&(b.0, &b.1.name)));
    let complete = typed.iter().all(|(_, i)| is_complete(&i.name));
    if complete {
        let present: HashSet<AafType> = typed.iter().map(|(t, _)| *t).collect();
        let missing: Vec<&str> = AafType::ALL
            .into_iter()
            .filter(|t| !present.contains(t))
            .map(AafType::name)
            .collect();
        if !missing.is_empty() {
            return Err(FeedError::Missing(format!(
                "export complet incomplet : fichiers {} absents (rien n'est importé)",
                missing.join(", ")
            )));
        }
    }
    let mut b = Builder {
        ctx,
        academie: ctx.academie.clone(),
        feed: Feed {
            source: Some(Source::Aaf),
            complete,
            ..Feed::default()
        },
        uai_of: HashMap::new(),
        classes: BTreeMap::new(),
        file: Arc::from(""),
        person_of: HashMap::new(),
        authority: Vec::new(),
        wanted_guardians: HashSet::new(),
        contacts_without_authority: 0,
    };
    let mut count = 0u64;
    for (kind, input) in typed {
        let mut reader = AafReader::new(&input.name, input.reader)?;
        b.file = Arc::from(input.name.as_str());
        while let Some(record) = reader.next_record()? {
            if b.academie.is_none() {
                b.academie = reader
                    .header
                    .iter()
                    .find(|(k, _)| k == "codeAcademieExport")
                    .map(|(_, v)| v.clone())
                    .or_else(|| record.first("ENTServAcCodeAcademie").map(str::to_owned));
                if b.academie.is_none() {
                    return Err(FeedError::Missing(format!(
                        "{} : code d'académie introuvable (commentaire codeAcademieExport) ; précisez-le avec --academie",
                        input.name
                    )));
                }
            }
            match kind {
                AafType::EtabEducNat => b.structure(&input.name, &record),
                AafType::Eleve => b.pupil(&record),
                AafType::PersRelEleve => b.guardian(&record),
                AafType::PersEducNat => b.staff(&input.name, &record),
            }
            count += 1;
            if count.is_multiple_of(1000) {
                progress(count);
            }
        }
    }
    progress(count);
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_file_names() {
        assert_eq!(
            classify("ENT_Complet_20250106_Eleve_0003.xml"),
            Some(AafType::Eleve)
        );
        assert_eq!(
            classify("ENT_0990001A_Complet_20250106_PersRelEleve_0000.xml"),
            Some(AafType::PersRelEleve)
        );
        assert_eq!(classify("ficAlimMENESR.dtd"), None);
        assert_eq!(classify("ENT_Complet_20250106_MefEducNat_0000.xml"), None);
        assert_eq!(classify("ENT_Complet_20250106_Eleve_12.xml"), None);
    }

    #[test]
    fn function_table_is_data() {
        let map = FunctionMap::default();
        assert_eq!(map.profile("DIR"), Some(NationalProfile::Direction));
        assert_eq!(map.profile("ENS"), Some(NationalProfile::Enseignant));
        assert_eq!(map.profile("INS"), Some(NationalProfile::Academique));
        assert_eq!(map.profile("XYZ"), None);
        assert!(FunctionMap::parse("ENS National_ENS").is_err());
        assert!(FunctionMap::parse("ENS = National_PER").is_err());
    }
}
