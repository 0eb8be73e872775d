//! ONDE (formerly BE1D) CSV extracts of one school: pupils, legal guardians, the teachers'
//! file directors write on the model importers publish, and the commune's staff file.
//!
//! Real files vary: Windows-1252 or UTF-8 (with a BOM after a spreadsheet round trip), `;`
//! or `,`, CRLF or LF, quoted or not, BE1D-era headers, columns in another order. Headers are
//! therefore matched through a synonym table after folding accents, case and punctuation;
//! unknown columns are ignored and listed in the report.

use crate::FeedError;
use crate::text::decode_csv;
use chrono::NaiveDate;
use preau_domain::directory::{Function, Level, StructureKind};
use preau_domain::login::fold_name;
use preau_domain::provisioning::{
    Feed, FeedClass, FeedLink, FeedPerson, FeedStructure, Origin, PersonKind, Rejection, Source,
    Text,
};
use preau_domain::{ClassRole, NationalProfile};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One file as brought by the directeur.
#[derive(Clone, Debug)]
pub struct OndeFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OndeKind {
    Eleves,
    Responsables,
    Enseignants,
    Personnels,
}

impl OndeKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Eleves => "élèves",
            Self::Responsables => "responsables",
            Self::Enseignants => "enseignants",
            Self::Personnels => "personnels de la commune",
        }
    }
}

/// Columns the importer understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Col {
    LastName,
    UsageName,
    FirstName,
    BirthDate,
    Ine,
    Level,
    ClassLabel,
    ClassId,
    Civility,
    Email,
    Mobile,
    Director,
    Function,
    LegalAuthority,
    ChildUsageName,
    ChildLastName,
    ChildFirstName,
    ChildClass,
    ChildBirthDate,
    /// Known columns that carry nothing the ENT keeps (addresses, authorisations…).
    Ignored,
}

/// Folds a header for comparison: "Prénom Élève" and " prenom_eleve" both give "prenomeleve".
fn fold_header(h: &str) -> String {
    fold_name(h).replace('-', "")
}

/// Header spellings seen in ONDE and BE1D extracts and in importers' models, folded.
fn column_of(kind: OndeKind, folded: &str) -> Option<Col> {
    use Col::*;
    let common = match folded {
        "courriel"
        | "email"
        | "mail"
        | "adressemail"
        | "adressecourriel"
        | "courrielresponsable"
        | "courrielacademique"
        | "adressemel"
        | "mel" => Some(Email),
        "telephoneportable" | "portable" | "telportable" | "mobile" | "telephonemobile" => {
            Some(Mobile)
        }
        "civilite" | "civiliteresponsable" | "titre" => Some(Civility),
        _ => None,
    };
    if common.is_some() {
        return common;
    }
    match kind {
        OndeKind::Eleves => match folded {
            "nomeleve" | "nom" | "nomdefamille" | "nomdefamilleeleve" | "nomdenaissance"
            | "lastname" => Some(LastName),
            "nomdusageeleve" | "nomusageeleve" | "nomdusage" | "nomusage" => Some(UsageName),
            "prenomeleve" | "prenom" | "prenom1" | "premierprenom" => Some(FirstName),
            "datenaissance" | "datedenaissance" | "nele" | "neele" | "datenaissanceeleve" => {
                Some(BirthDate)
            }
            "ine" | "numeroine" | "identifiantnationaleleve" => Some(Ine),
            "niveau" | "niveaueleve" | "niveauscolaire" => Some(Level),
            "libelleclasse"
            | "classe"
            | "libelledelaclasse"
            | "nomclasse"
            | "nomdelaclasse"
            | "classeouregroupement" => Some(ClassLabel),
            "identifiantclasse" | "idclasse" | "codeclasse" | "identifiantdelaclasse" => {
                Some(ClassId)
            }
            "sexe"
            | "genre"
            | "cycle"
            | "adresse1"
            | "cp1"
            | "commune1"
            | "pays1"
            | "adresse2"
            | "cp2"
            | "commune2"
            | "pays2"
            | "attestationfournie"
            | "autorisationassociations"
            | "autorisationsassociations"
            | "autorisationphoto"
            | "autorisationsphotos"
            | "decisiondepassage"
            | "prenom2"
            | "prenom3"
            | "autresprenoms"
            | "adresse"
            | "cp"
            | "codepostal"
            | "commune"
            | "pays"
            | "dateentree"
            | "datedentree"
            | "dateinscription"
            | "dispositif"
            | "dispositifs"
            | "deuxiemeprenom"
            | "troisiemeprenom" => Some(Ignored),
            _ => None,
        },
        OndeKind::Responsables => match folded {
            "nomresponsable" | "nomdefamilleresponsable" | "nomdenaissanceresponsable" => {
                Some(LastName)
            }
            "nomusageresponsable" | "nomdusageresponsable" => Some(UsageName),
            "prenomresponsable" => Some(FirstName),
            "autoriteparentale" | "responsablelegal" => Some(LegalAuthority),
            // ONDE renamed the child block from "… enfant" to "… élève" in 2019.
            "nomdusageenfant" | "nomusageenfant" | "nomdusageeleve" | "nomusageeleve" => {
                Some(ChildUsageName)
            }
            "nomdefamilleenfant" | "nomenfant" | "nomdefamilleeleve" | "nomeleve"
            | "nomdeleleve" => Some(ChildLastName),
            "prenomenfant" | "prenomeleve" | "prenomdeleleve" => Some(ChildFirstName),
            "classesenfants" | "classeenfant" | "classeenfants" | "classesenfant"
            | "classeseleves" | "classeseleve" | "classeeleve" | "classesdeleleve" => {
                Some(ChildClass)
            }
            "datedenaissanceeleve"
            | "datenaissanceeleve"
            | "datedenaissanceenfant"
            | "datenaissanceenfant" => Some(ChildBirthDate),
            "adresseresponsable"
            | "cpresponsable"
            | "communeresponsable"
            | "pays"
            | "telephonedomicile"
            | "telephonetravail"
            | "numerodeposte"
            | "lienaveclenfant"
            | "liendeparente"
            | "lien"
            | "communicationadresses"
            | "pcs" => Some(Ignored),
            _ => None,
        },
        OndeKind::Enseignants | OndeKind::Personnels => match folded {
            "nom" | "nomdefamille" | "nomdenaissance" => Some(LastName),
            "nomusage" | "nomdusage" => Some(UsageName),
            "prenom" => Some(FirstName),
            "directeur" | "direction" | "directrice" => Some(Director),
            "fonction" => Some(Function),
            "classe" | "classes" | "libelleclasse" => Some(ClassLabel),
            "adresse" | "cp" | "codepostal" | "commune" | "pays" | "telephonedomicile"
            | "datenaissance" | "datedenaissance" | "telephone" | "telephonetravail"
            | "discipline" | "matiereenseignee" => Some(Ignored),
            _ => None,
        },
    }
}

/// Which extract a header row belongs to, from the columns only that one has.
fn detect_kind(folded: &[String]) -> Option<OndeKind> {
    let has = |names: &[&str]| folded.iter().any(|h| names.contains(&h.as_str()));
    if has(&["nomresponsable", "prenomresponsable", "civiliteresponsable"]) {
        Some(OndeKind::Responsables)
    } else if has(&[
        "prenomeleve",
        "nomeleve",
        "ine",
        "libelleclasse",
        "identifiantclasse",
    ]) || (has(&["niveau"]) && has(&["datenaissance", "datedenaissance"]))
    {
        Some(OndeKind::Eleves)
    } else if has(&["fonction"]) {
        Some(OndeKind::Personnels)
    } else if has(&["directeur", "direction", "directrice"])
        || (has(&["classe", "classes"]) && has(&["prenom"]))
    {
        Some(OndeKind::Enseignants)
    } else {
        None
    }
}

/// A parsed CSV: header with columns, rows with their line numbers.
struct Table {
    file: String,
    kind: OndeKind,
    columns: Vec<Option<Col>>,
    rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    fn first(&self, col: Col) -> Option<usize> {
        self.columns.iter().position(|c| *c == Some(col))
    }

    fn all(&self, col: Col) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == Some(col))
            .map(|(i, _)| i)
            .collect()
    }

    fn require(&self, col: Col, label: &str) -> Result<usize, FeedError> {
        self.first(col).ok_or_else(|| FeedError::MissingColumn {
            file: self.file.clone(),
            column: label.to_owned(),
        })
    }
}

fn cell(row: &[String], i: Option<usize>) -> &str {
    i.and_then(|i| row.get(i)).map_or("", |s| s.trim())
}

/// The separator of a CSV file: the one of `;`, `,`, tab found most in its first line.
fn sniff_separator(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or_default();
    [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|sep| first.bytes().filter(|b| b == sep).count())
        .unwrap_or(b';')
}

fn parse_table(file: &OndeFile, notices: &mut Vec<String>) -> Result<Table, FeedError> {
    let text = decode_csv(&file.name, &file.bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(sniff_separator(&text))
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(Ok(h)) => h,
        Some(Err(e)) => return Err(syntax(&file.name, &e)),
        None => return Err(FeedError::Empty(file.name.clone())),
    };
    let folded: Vec<String> = header.iter().map(fold_header).collect();
    let kind = detect_kind(&folded).ok_or_else(|| FeedError::UnknownHeaders {
        file: file.name.clone(),
        found: header
            .iter()
            .filter(|h| !h.trim().is_empty())
            .take(8)
            .map(str::trim)
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    let columns: Vec<Option<Col>> = folded.iter().map(|h| column_of(kind, h)).collect();
    let unknown: Vec<&str> = header
        .iter()
        .zip(&columns)
        .filter(|(h, c)| c.is_none() && !h.trim().is_empty())
        .map(|(h, _)| h.trim())
        .collect();
    if !unknown.is_empty() {
        notices.push(format!(
            "{} : colonnes ignorées : {}",
            file.name,
            unknown.join(", ")
        ));
    }
    let mut rows = Vec::new();
    let mut lines = LineCounter::new(&text);
    for record in records {
        let record = record.map_err(|e| syntax(&file.name, &e))?;
        let line = lines.line_at(record.position().map_or(0, |p| p.byte()));
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        // The guardians extract ends with a second table of host organisations
        // ("Intitulé;Adresse Organisme…"): nothing below it is a person.
        if kind == OndeKind::Responsables
            && record.iter().take(2).any(|c| fold_header(c) == "intitule")
        {
            notices.push(format!(
                "{} : tableau des organismes d'accueil (ligne {line} et suivantes) ignoré",
                file.name
            ));
            break;
        }
        rows.push((line, record.iter().map(clean).collect()));
    }
    Ok(Table {
        file: file.name.clone(),
        kind,
        columns,
        rows,
    })
}

/// Line numbers from byte offsets. The csv reader's own line count lags by one after a CRLF
/// (the `\n` is consumed with the next record), so lines are counted here, incrementally.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    /// The line a record starting at `byte` is on (line ends before it skipped).
    fn line_at(&mut self, byte: u64) -> u64 {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.offset {
            self.line += self.text[self.offset..start]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            self.offset = start;
        }
        self.line
    }
}

fn syntax(file: &str, e: &csv::Error) -> FeedError {
    FeedError::Syntax {
        file: file.to_owned(),
        line: e.position().map_or(0, |p| p.line()),
        reason: "ligne CSV illisible (guillemet non fermé ?)".to_owned(),
    }
}

/// Trims and collapses inner spaces (spreadsheets leave doubled ones).
fn clean(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `DD/MM/YYYY` as ONDE writes it, and the ISO or dashed forms spreadsheets turn it into.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
        .filter(|d| d.format("%Y").to_string().len() == 4)
}

/// An INE: 11 letters or digits (10 digits and a key letter for pupils of ONDE).
pub fn normalize_ine(s: &str) -> Option<String> {
    let ine: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (ine.len() == 11 && ine.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| ine.to_ascii_uppercase())
}

pub fn normalize_email(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = s.len() <= 254
        && !s.contains(char::is_whitespace)
        && s.split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.contains('@'));
    ok.then(|| s.to_owned())
}

/// Phone numbers keep their digits and a leading `+`.
pub fn normalize_phone(s: &str) -> Option<String> {
    let digits: String = s
        .chars()
        .enumerate()
        .filter(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '+'))
        .map(|(_, c)| c)
        .collect();
    (digits.len() >= 6).then_some(digits)
}

fn yes(s: &str) -> bool {
    matches!(
        fold_name(s).as_str(),
        "oui" | "o" | "1" | "x" | "vrai" | "true" | "yes" | "y"
    )
}

/// Levels named in a free class label: "CE1-CE2 Mme DUBOIS" → CE1, CE2.
fn levels_in_label(label: &str) -> Vec<Level> {
    let mut levels: Vec<Level> = label
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|w| w.to_ascii_uppercase().parse::<Level>().ok())
        .collect();
    levels.sort();
    levels.dedup();
    levels
}

struct Pupil {
    index: usize,
    birth: NaiveDate,
    first: String,
    last: String,
    usage: String,
    class: String,
}

/// Reads the files of one school (`uai`) into a feed: pupils and legal guardians are
/// required; the teachers' and the commune staff's files are optional, and a kind of person
/// whose file is absent is left as it is.
pub fn read_school(uai: &str, files: &[OndeFile]) -> Result<Feed, FeedError> {
    let mut feed = Feed {
        source: Some(Source::Onde),
        complete: true,
        ..Feed::default()
    };
    let mut tables: BTreeMap<OndeKind, Table> = BTreeMap::new();
    for file in files {
        let table = parse_table(file, &mut feed.notices)?;
        if let Some(other) = tables.get(&table.kind) {
            return Err(FeedError::Missing(format!(
                "{} et {} sont tous deux des fichiers des {} : n'en donnez qu'un",
                other.file,
                table.file,
                table.kind.label()
            )));
        }
        tables.insert(table.kind, table);
    }
    let Some(eleves) = tables.remove(&OndeKind::Eleves) else {
        return Err(FeedError::Missing(
            "fichier des élèves absent (extraction ONDE « élèves de l'école »)".to_owned(),
        ));
    };
    let Some(responsables) = tables.remove(&OndeKind::Responsables) else {
        return Err(FeedError::Missing(
            "fichier des responsables absent (extraction ONDE « responsables »)".to_owned(),
        ));
    };
    feed.structures.push(FeedStructure {
        uai: uai.to_owned(),
        aaf_id: None,
        name: String::new(),
        kind: StructureKind::EcolePrimaire,
        commune: String::new(),
        circonscription: None,
    });
    let pupils = read_pupils(uai, &eleves, &mut feed)?;
    read_guardians(uai, &responsables, &pupils, &mut feed)?;
    match tables.remove(&OndeKind::Enseignants) {
        Some(t) => read_staff(uai, &t, &mut feed)?,
        None => feed.uncovered.push(PersonKind::Staff),
    }
    if let Some(t) = tables.remove(&OndeKind::Personnels) {
        read_staff(uai, &t, &mut feed)?;
    }
    Ok(feed)
}

fn reject(feed: &mut Feed, file: &str, line: u64, reason: String) {
    feed.rejections.push(Rejection {
        origin: Origin {
            file: Arc::from(file),
            line,
        },
        reason,
    });
}

fn read_pupils(uai: &str, t: &Table, feed: &mut Feed) -> Result<Vec<Pupil>, FeedError> {
    let last = t.require(Col::LastName, "Nom élève")?;
    let first = t.require(Col::FirstName, "Prénom élève")?;
    let birth = t.require(Col::BirthDate, "Date naissance")?;
    let label = t.require(Col::ClassLabel, "Libellé classe")?;
    let usage = t.first(Col::UsageName);
    let ine = t.first(Col::Ine);
    let level = t.first(Col::Level);
    let class_id = t.first(Col::ClassId);

    // Duplicate INE: neither row can be trusted.
    let mut lines_of_ine: HashMap<String, Vec<u64>> = HashMap::new();
    for (line, row) in &t.rows {
        if let Some(i) = normalize_ine(cell(row, ine)) {
            lines_of_ine.entry(i).or_default().push(*line);
        }
    }
    let mut classes: BTreeMap<String, (String, Vec<Level>)> = BTreeMap::new();
    let mut pupils = Vec::new();
    for (line, row) in &t.rows {
        let line = *line;
        let (l, f) = (cell(row, Some(last)), cell(row, Some(first)));
        if l.is_empty() || f.is_empty() {
            reject(
                feed,
                &t.file,
                line,
                "nom ou prénom de l'élève manquant".into(),
            );
            continue;
        }
        let raw_ine = cell(row, ine);
        let ine_value = normalize_ine(raw_ine);
        if !raw_ine.is_empty() && ine_value.is_none() {
            reject(feed, &t.file, line, format!("INE invalide « {raw_ine} »"));
            continue;
        }
        if let Some(lines) = ine_value.as_ref().and_then(|i| lines_of_ine.get(i))
            && lines.len() > 1
        {
            let others: Vec<String> = lines
                .iter()
                .filter(|l| **l != line)
                .map(u64::to_string)
                .collect();
            reject(
                feed,
                &t.file,
                line,
                format!(
                    "INE {} en double (aussi ligne {})",
                    ine_value.as_deref().unwrap_or_default(),
                    others.join(", ")
                ),
            );
            continue;
        }
        let raw_birth = cell(row, Some(birth));
        let Some(birth_date) = parse_date(raw_birth) else {
            reject(
                feed,
                &t.file,
                line,
                format!("date de naissance invalide « {raw_birth} »"),
            );
            continue;
        };
        let class_label = cell(row, Some(label));
        if class_label.is_empty() {
            reject(feed, &t.file, line, "classe manquante".into());
            continue;
        }
        let key = match cell(row, class_id) {
            "" => class_label.to_owned(),
            id => id.to_owned(),
        };
        let entry = classes
            .entry(key.clone())
            .or_insert_with(|| (class_label.to_owned(), Vec::new()));
        if let Ok(lv) = cell(row, level).to_ascii_uppercase().parse::<Level>() {
            entry.1.push(lv);
        }
        let usage_name = cell(row, usage);
        pupils.push(Pupil {
            index: feed.people.len(),
            birth: birth_date,
            first: fold_name(f),
            last: fold_name(l),
            usage: fold_name(usage_name),
            class: fold_name(class_label),
        });
        feed.people.push(FeedPerson {
            origin: Origin {
                file: Arc::from(t.file.as_str()),
                line,
            },
            kind: Some(PersonKind::Pupil),
            ine: ine_value.map(Text::from),
            first_name: f.into(),
            last_name: if usage_name.is_empty() { l } else { usage_name }.into(),
            birth_name: (!usage_name.is_empty()).then(|| l.into()),
            birth_date: Some(birth_date),
            profiles: vec![(Arc::from(uai), NationalProfile::Eleve)],
            classes: vec![(Arc::from(uai), Arc::from(key.as_str()), ClassRole::Eleve)],
            ..FeedPerson::default()
        });
    }
    for (key, (name, mut levels)) in classes {
        levels.sort();
        levels.dedup();
        if levels.is_empty() {
            levels = levels_in_label(&name);
        }
        feed.classes.push(FeedClass {
            uai: uai.to_owned(),
            key,
            name,
            levels,
        });
    }
    Ok(pupils)
}

fn read_guardians(
    uai: &str,
    t: &Table,
    pupils: &[Pupil],
    feed: &mut Feed,
) -> Result<(), FeedError> {
    let last = t.require(Col::LastName, "Nom responsable")?;
    let first = t.require(Col::FirstName, "Prénom responsable")?;
    let usage = t.first(Col::UsageName);
    let email = t.first(Col::Email);
    let mobile = t.first(Col::Mobile);
    let legal = t.first(Col::LegalAuthority);
    let child_first = t.all(Col::ChildFirstName);
    if child_first.is_empty() {
        return Err(FeedError::MissingColumn {
            file: t.file.clone(),
            column: "Prénom enfant".into(),
        });
    }
    let child_last = t.all(Col::ChildLastName);
    let child_usage = t.all(Col::ChildUsageName);
    let child_class = t.all(Col::ChildClass);
    let child_birth = t.all(Col::ChildBirthDate);
    // The same guardian twice in one file (a spreadsheet merge) is one person.
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    for (line, row) in &t.rows {
        let line = *line;
        let (l, f) = (cell(row, Some(last)), cell(row, Some(first)));
        let usage_name = cell(row, usage);
        if f.is_empty() || (l.is_empty() && usage_name.is_empty()) {
            reject(
                feed,
                &t.file,
                line,
                "responsable sans nom ou sans prénom (organisme d'accueil ?) : ignoré".into(),
            );
            continue;
        }
        let mut children = Vec::new();
        for (g, &fi) in child_first.iter().enumerate() {
            let cf = fold_name(cell(row, Some(fi)));
            if cf.is_empty() {
                continue;
            }
            let cl = fold_name(cell(row, child_last.get(g).copied()));
            let cu = fold_name(cell(row, child_usage.get(g).copied()));
            let cc = fold_name(cell(row, child_class.get(g).copied()));
            let named = |p: &&Pupil| {
                p.first == cf
                    && ((!cl.is_empty() && (p.last == cl || p.usage == cl))
                        || (!cu.is_empty() && (p.usage == cu || p.last == cu)))
            };
            let mut candidates: Vec<&Pupil> = pupils.iter().filter(named).collect();
            // Class labels of the two files may differ; they only break ties, as birth dates do.
            if candidates.len() > 1 && !cc.is_empty() {
                candidates.retain(|p| p.class == cc);
            }
            if candidates.len() > 1
                && let Some(born) = parse_date(cell(row, child_birth.get(g).copied()))
            {
                candidates.retain(|p| p.birth == born);
            }
            match candidates.as_slice() {
                [one] => children.push(one.index),
                [] => reject(
                    feed,
                    &t.file,
                    line,
                    format!(
                        "enfant « {} {} » ({}) absent du fichier des élèves : lien non créé",
                        cell(row, Some(fi)),
                        cell(row, child_last.get(g).copied()),
                        cell(row, child_class.get(g).copied())
                    ),
                ),
                _ => reject(
                    feed,
                    &t.file,
                    line,
                    format!(
                        "enfant « {} {} » ambigu (plusieurs élèves de ce nom) : lien non créé",
                        cell(row, Some(fi)),
                        cell(row, child_last.get(g).copied())
                    ),
                ),
            }
        }
        if children.is_empty() {
            continue;
        }
        let email_value = normalize_email(cell(row, email));
        let key = (
            fold_name(f),
            fold_name(if usage_name.is_empty() { l } else { usage_name }),
            email_value.clone().unwrap_or_default(),
        );
        // Without an e-mail, two rows of the same name may be two people (homonyms).
        let known = if key.2.is_empty() {
            None
        } else {
            seen.get(&key).copied()
        };
        let index = match known {
            Some(i) => i,
            None => {
                let i = feed.people.len();
                seen.insert(key, i);
                feed.people.push(FeedPerson {
                    origin: Origin {
                        file: Arc::from(t.file.as_str()),
                        line,
                    },
                    kind: Some(PersonKind::Guardian),
                    first_name: f.into(),
                    last_name: if usage_name.is_empty() { l } else { usage_name }.into(),
                    birth_name: (!usage_name.is_empty() && !l.is_empty()).then(|| l.into()),
                    email: email_value.map(Text::from),
                    mobile: normalize_phone(cell(row, mobile)).map(Text::from),
                    profiles: vec![(Arc::from(uai), NationalProfile::Tuteur)],
                    ..FeedPerson::default()
                });
                i
            }
        };
        // ONDE's guardians file lists legal guardians; a column may say otherwise.
        let legal_authority = legal.is_none_or(|_| yes(cell(row, legal)));
        for pupil in children {
            if !feed
                .links
                .iter()
                .any(|l| l.guardian == index && l.pupil == pupil)
            {
                feed.links.push(FeedLink {
                    guardian: index,
                    pupil,
                    legal_authority,
                });
            }
        }
    }
    Ok(())
}

fn read_staff(uai: &str, t: &Table, feed: &mut Feed) -> Result<(), FeedError> {
    let last = t.require(Col::LastName, "Nom")?;
    let first = t.require(Col::FirstName, "Prénom")?;
    let usage = t.first(Col::UsageName);
    let email = t.first(Col::Email);
    let mobile = t.first(Col::Mobile);
    let director = t.first(Col::Director);
    let function = t.first(Col::Function);
    let class_cols = t.all(Col::ClassLabel);
    let class_by_label: HashMap<String, String> = feed
        .classes
        .iter()
        .map(|c| (fold_name(&c.name), c.key.clone()))
        .collect();
    for (line, row) in &t.rows {
        let line = *line;
        let (l, f) = (cell(row, Some(last)), cell(row, Some(first)));
        let usage_name = cell(row, usage);
        if f.is_empty() || (l.is_empty() && usage_name.is_empty()) {
            reject(feed, &t.file, line, "nom ou prénom manquant".into());
            continue;
        }
        let mut profiles = Vec::new();
        let mut functions = Vec::new();
        let mut classes = Vec::new();
        if t.kind == OndeKind::Personnels {
            let raw = cell(row, function);
            match fold_name(raw).as_str() {
                "atsem" => {
                    profiles.push((Arc::from(uai), NationalProfile::Technique));
                    functions.push((Arc::from(uai), Function::Atsem));
                }
                "aesh" | "avs" => {
                    profiles.push((Arc::from(uai), NationalProfile::VieScolaire));
                    functions.push((Arc::from(uai), Function::Aesh));
                }
                "animateur" | "animatrice" => {
                    profiles.push((Arc::from(uai), NationalProfile::Collectivite));
                    functions.push((Arc::from(uai), Function::Animateur));
                }
                _ => {
                    reject(feed, &t.file, line, format!("fonction inconnue « {raw} »"));
                    continue;
                }
            }
        } else {
            for c in &class_cols {
                let label = cell(row, Some(*c));
                if label.is_empty() {
                    continue;
                }
                match class_by_label.get(&fold_name(label)) {
                    Some(key) => classes.push((
                        Arc::from(uai),
                        Arc::from(key.as_str()),
                        ClassRole::Enseignant,
                    )),
                    None => reject(
                        feed,
                        &t.file,
                        line,
                        format!("classe « {label} » absente du fichier des élèves : non rattachée"),
                    ),
                }
            }
            let directs = yes(cell(row, director));
            if directs {
                profiles.push((Arc::from(uai), NationalProfile::Direction));
                functions.push((Arc::from(uai), Function::Directeur));
            }
            if !directs || !classes.is_empty() {
                profiles.push((Arc::from(uai), NationalProfile::Enseignant));
                functions.push((Arc::from(uai), Function::Enseignant));
            }
        }
        feed.people.push(FeedPerson {
            origin: Origin {
                file: Arc::from(t.file.as_str()),
                line,
            },
            kind: Some(PersonKind::Staff),
            first_name: f.into(),
            last_name: if usage_name.is_empty() { l } else { usage_name }.into(),
            birth_name: (!usage_name.is_empty() && !l.is_empty()).then(|| l.into()),
            email: normalize_email(cell(row, email)).map(Text::from),
            mobile: normalize_phone(cell(row, mobile)).map(Text::from),
            profiles,
            functions,
            classes,
            ..FeedPerson::default()
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> OndeFile {
        OndeFile {
            name: name.into(),
            bytes: text.as_bytes().to_vec(),
        }
    }

    const ELEVES: &str = "\"Nom élève\";\"Nom d'usage élève\";\"Prénom élève\";\"Date naissance\";\"Sexe\";\"INE\";\" Cycle\";\"Niveau\";\"Libellé classe\";\"Identifiant classe\";\"Colonne inventée\"\r\n\
\"MARTIN\";;\"Léa\";\"03/02/2018\";\"F\";\"9900000001S\";\"CYCLE II\";\"CE1\";\"CE1-CE2 Mme ROCHE\";\"70007\";\"x\"\r\n\
\"N'DIAYE\";;\"Moussa\";\"2017-05-04\";\"M\";\"9900000002T\";\"CYCLE II\";\"CE2\";\"CE1-CE2 Mme ROCHE\";\"70007\";\r\n\
\"PETIT\";;\"Tom\";\"31/02/2018\";\"M\";\"9900000003U\";\"CYCLE II\";\"CE1\";\"CE1-CE2 Mme ROCHE\";\"70007\";\r\n";

    const RESPONSABLES: &str = "Civilité Responsable;Nom usage responsable;Nom responsable;Prénom responsable;Courriel;Téléphone portable;Nom d'usage enfant;Nom de famille enfant;Prénom enfant;Classes enfants;Nom d'usage enfant;Nom de famille enfant;Prénom enfant;Classes enfants\n\
MME;DURAND;MARTIN;Claire;claire@example.org;06 12 34 56 78;;MARTIN;Léa;CE1-CE2 Mme ROCHE;;;;\n\
M.;;NDIAYE;Ibrahima;;;;N'DIAYE;Moussa;CE1-CE2 Mme ROCHE;;FANTOME;Casper;CM2\n\
;;MAIRIE;;;;;MARTIN;Léa;;;;;\n";

    #[test]
    fn reads_a_school_with_its_variants() {
        let feed = read_school(
            "0990001A",
            &[file("eleves.csv", ELEVES), file("resp.csv", RESPONSABLES)],
        );
        let feed = match feed {
            Ok(f) => f,
            Err(e) => return assert_eq!(e.to_string(), ""),
        };
        let pupils: Vec<_> = feed
            .people
            .iter()
            .filter(|p| p.kind == Some(PersonKind::Pupil))
            .collect();
        assert_eq!(pupils.len(), 2, "the pupil born on 31/02 is rejected");
        assert_eq!(pupils[1].birth_date, NaiveDate::from_ymd_opt(2017, 5, 4));
        assert_eq!(feed.classes.len(), 1);
        assert_eq!(feed.classes[0].key, "70007");
        assert_eq!(feed.classes[0].levels, vec![Level::Ce1, Level::Ce2]);
        let claire = feed
            .people
            .iter()
            .find(|p| p.first_name == "Claire")
            .map(|p| (p.last_name.clone(), p.birth_name.clone(), p.mobile.clone()));
        assert_eq!(
            claire,
            Some((
                "DURAND".into(),
                Some("MARTIN".into()),
                Some("0612345678".into())
            ))
        );
        assert_eq!(feed.links.len(), 2);
        assert!(feed.links.iter().all(|l| l.legal_authority));
        let reasons: Vec<(u64, &str)> = feed
            .rejections
            .iter()
            .map(|r| (r.origin.line, r.reason.as_str()))
            .collect();
        assert!(
            reasons
                .iter()
                .any(|(l, r)| *l == 4 && r.contains("31/02/2018"))
        );
        assert!(reasons.iter().any(|(l, r)| *l == 3 && r.contains("Casper")));
        assert!(
            reasons
                .iter()
                .any(|(l, r)| *l == 4 && r.contains("organisme"))
        );
        assert!(feed.notices.iter().any(|n| n.contains("Colonne inventée")));
        assert_eq!(feed.uncovered, vec![PersonKind::Staff]);
    }

    #[test]
    fn refuses_what_is_not_an_extract() {
        let err = read_school("0990001A", &[file("x.csv", "a;b;c\n1;2;3\n")]);
        assert!(matches!(err, Err(FeedError::UnknownHeaders { .. })));
        let err = read_school("0990001A", &[file("eleves.csv", ELEVES)]);
        assert!(matches!(err, Err(FeedError::Missing(_))));
        let dup = format!(
            "{ELEVES}\"AUTRE\";;\"Zoé\";\"01/01/2018\";\"F\";\"9900000001S\";\"CYCLE II\";\"CE1\";\"CE1-CE2 Mme ROCHE\";\"70007\";\r\n"
        );
        let feed = read_school(
            "0990001A",
            &[file("eleves.csv", &dup), file("resp.csv", RESPONSABLES)],
        );
        let lines: Vec<u64> = feed
            .map(|f| {
                f.rejections
                    .iter()
                    .filter(|r| r.reason.contains("en double"))
                    .map(|r| r.origin.line)
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(lines, vec![2, 5]);
    }

    #[test]
    fn teachers_file_gives_directeur_and_classes() {
        let ens = "Civilité,Nom usage,Nom,Prénom,Courriel,Directeur,Classe,Classe\n\
MME,,ROCHE,Anne,anne.roche@ac-x.fr,oui,CE1-CE2 Mme ROCHE,\n\
M.,,BLANC,Paul,,non,,\n";
        let feed = read_school(
            "0990001A",
            &[
                file("e.csv", ELEVES),
                file("r.csv", RESPONSABLES),
                file("t.csv", ens),
            ],
        );
        let staff: Vec<(Vec<NationalProfile>, usize)> = feed
            .map(|f| {
                f.people
                    .iter()
                    .filter(|p| p.kind == Some(PersonKind::Staff))
                    .map(|p| (p.profiles.iter().map(|x| x.1).collect(), p.classes.len()))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            staff,
            vec![
                (
                    vec![NationalProfile::Direction, NationalProfile::Enseignant],
                    1
                ),
                (vec![NationalProfile::Enseignant], 0)
            ]
        );
    }

    #[test]
    fn helpers_normalize() {
        assert_eq!(
            parse_date("05/03/2016"),
            NaiveDate::from_ymd_opt(2016, 3, 5)
        );
        assert_eq!(
            parse_date("2016-03-05"),
            NaiveDate::from_ymd_opt(2016, 3, 5)
        );
        assert_eq!(parse_date("5 mars"), None);
        assert_eq!(normalize_ine(" 9900000213x"), Some("9900000213X".into()));
        assert_eq!(normalize_ine("123"), None);
        assert_eq!(
            normalize_phone("+33 6 12 34 56 78"),
            Some("+33612345678".into())
        );
        assert_eq!(normalize_email("a b@c.fr"), None);
        assert_eq!(sniff_separator("a,b,c;d"), b',');
        assert_eq!(
            levels_in_label("Classe 5 CM1 CM2"),
            vec![Level::Cm1, Level::Cm2]
        );
    }
}
