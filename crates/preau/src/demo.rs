//! `preau demo`: a commune with three schools, every profile, ready to sign in.
//! Everything is invented and deterministic (same names on every machine).

use crate::config::Config;
use crate::server::{open_db, serve_with};
use anyhow::{Context, Result};
use preau_domain::directory::is_valid_uai;
use preau_domain::{
    AccountState, ClassRole, Function, Level, NationalProfile, StructureKind, TenantKind,
};
use preau_store::batch::{self, BatchUser, DirectoryBatch, LoginAllocator};
use preau_store::credentials::{self, HashCost};
use preau_store::directory::{self, NewStructure};
use preau_store::{Db, TenantScope};
use std::fmt::Write as _;
use uuid::Uuid;

pub const DEMO_PASSWORD: &str = "preau-demo";
const TENANT_SLUG: &str = "demo";
const OPERATOR_LOGIN: &str = "preau.admin";
const TABLE_FILE: &str = "demo-accounts.txt";

pub async fn run(config: Config) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let db = open_db(&config).await?;
    let table_path = config.data_dir.join(TABLE_FILE);
    let table = if directory::find_tenant_by_slug(&db, TENANT_SLUG)
        .await?
        .is_some()
    {
        std::fs::read_to_string(&table_path).unwrap_or_default()
    } else {
        eprintln!("Création du territoire de démonstration…");
        let table = seed(&db).await?;
        std::fs::write(&table_path, &table)
            .with_context(|| format!("écriture de {}", table_path.display()))?;
        table
    };
    println!("Préau — démonstration : {}/", config.public_url());
    println!("Mot de passe de tous les comptes listés : {DEMO_PASSWORD}");
    println!();
    print!("{table}");
    println!();
    println!(
        "D'autres comptes, non activés, permettent d'essayer l'activation : Administration → Utilisateurs → « Générer un code d'activation »."
    );
    serve_with(config, db).await
}

/// Deterministic pseudo-random numbers (the demo must be the same everywhere).
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

const GIRLS: &[&str] = &[
    "Léa",
    "Emma",
    "Jade",
    "Louise",
    "Alice",
    "Chloé",
    "Inès",
    "Lina",
    "Mila",
    "Rose",
    "Anna",
    "Zoé",
    "Ambre",
    "Julia",
    "Léna",
    "Manon",
    "Agathe",
    "Lou",
    "Romane",
    "Nina",
    "Iris",
    "Camille",
    "Maëlys",
    "Sarah",
    "Éléonore",
    "Aya",
];
const BOYS: &[&str] = &[
    "Gabriel", "Léo", "Raphaël", "Louis", "Arthur", "Jules", "Adam", "Lucas", "Hugo", "Noah",
    "Nathan", "Tom", "Sacha", "Paul", "Aaron", "Éthan", "Maël", "Timéo", "Nolan", "Mohamed",
    "Théo", "Victor", "Axel", "Yanis", "Enzo", "Noé",
];
const WOMEN: &[&str] = &[
    "Sophie", "Nathalie", "Isabelle", "Céline", "Aurélie", "Émilie", "Julie", "Sandrine",
    "Caroline", "Virginie", "Claire", "Hélène", "Laetitia", "Amandine", "Fatima", "Élodie",
    "Karine", "Marion", "Anaïs", "Nadia",
];
const MEN: &[&str] = &[
    "Nicolas",
    "Julien",
    "Sébastien",
    "Thomas",
    "Guillaume",
    "Christophe",
    "Mathieu",
    "Jérôme",
    "Olivier",
    "David",
    "Stéphane",
    "Cédric",
    "Karim",
    "Romain",
    "Franck",
    "Laurent",
    "Frédéric",
    "Mehdi",
    "Benoît",
    "Yann",
];
const SURNAMES: &[&str] = &[
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "David",
    "Bertrand",
    "Roux",
    "Vincent",
    "Fournier",
    "Morel",
    "Girard",
    "André",
    "Mercier",
    "Dupont",
    "Lambert",
    "Bonnet",
    "François",
    "Martinez",
    "Legrand",
    "Garnier",
    "Faure",
    "Rousseau",
    "Blanc",
    "Guérin",
    "Muller",
    "Henry",
    "Roussel",
    "Nicolas",
    "Perrin",
    "Morin",
    "Mathieu",
    "Clément",
    "Gauthier",
    "Dumont",
    "Lopez",
    "Fontaine",
    "Chevalier",
    "Robin",
    "Masson",
    "Sanchez",
    "Da Silva",
    "N'Diaye",
    "Le Goff",
    "Benali",
    "Nguyen",
    "Kaya",
    "Haddad",
    "Traoré",
    "Lemaire",
];

/// "Parent de Tom", "Parent d'Agathe".
fn parent_of(first_child: &str) -> &'static str {
    let elides = first_child
        .chars()
        .next()
        .is_some_and(|c| "AEIOUYÉÈÀÂÎÔaeiouyéè".contains(c));
    if elides { "Parent d'" } else { "Parent de " }
}

fn uai(number: u32) -> String {
    const LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    format!("{number:07}{}", LETTERS[(number % 23) as usize] as char)
}

fn birth_year(level: Level) -> i32 {
    // School year 2026–2027: CP pupils are born in 2020.
    2020 + (Level::Cp as i32 - level as i32)
}

struct Builder {
    dice: Dice,
    logins: LoginAllocator,
    batch: DirectoryBatch,
    demo_hash: String,
    /// (profile, login, description) of the accounts to list.
    listed: Vec<(NationalProfile, String, String)>,
}

impl Builder {
    fn person(
        &mut self,
        first: &str,
        last: &str,
        birth: Option<String>,
        email: bool,
        active: bool,
    ) -> (Uuid, String) {
        let id = Uuid::now_v7();
        let login = self.logins.allocate(first, last);
        let email = email.then(|| format!("{login}@exemple.fr"));
        self.batch.users.push(BatchUser {
            id,
            login: login.clone(),
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            email,
            birth_date: birth,
            state: if active {
                AccountState::Active
            } else {
                AccountState::Pending
            },
            password_hash: active.then(|| self.demo_hash.clone()),
        });
        (id, login)
    }

    fn staff(
        &mut self,
        first: &str,
        last: &str,
        structure: Uuid,
        profile: NationalProfile,
        function: Option<Function>,
    ) -> (Uuid, String) {
        let (id, login) = self.person(first, last, None, true, true);
        self.batch.profiles.push((id, structure, profile));
        if let Some(f) = function {
            self.batch.functions.push((id, structure, f));
        }
        (id, login)
    }

    fn list(&mut self, profile: NationalProfile, login: &str, description: String) {
        self.listed.push((profile, login.to_owned(), description));
    }
}

/// Kind, name, UAI number and (class name, levels) of a demo school.
type SchoolSpec = (
    StructureKind,
    &'static str,
    u32,
    Vec<(&'static str, &'static str)>,
);

struct School {
    id: Uuid,
    name: &'static str,
    classes: Vec<(Uuid, &'static str, Vec<Level>)>,
}

/// A few mots in the cahier de liaison: the rentrée meeting from each directeur to the whole
/// school, and a class outing to sign in each class.
async fn seed_liaison(
    db: &Db,
    scope: TenantScope,
    schools: &[School],
    directors: &[(Uuid, Uuid)],
    teachers: &[(Uuid, Uuid)],
) -> Result<()> {
    use preau_domain::liaison::Audience;
    use preau_store::liaison::{self, NewMot};
    let now = preau_store::now();
    for school in schools {
        let classes: Vec<Uuid> = school.classes.iter().map(|(id, _, _)| *id).collect();
        if let Some((_, directeur)) = directors.iter().find(|(s, _)| *s == school.id) {
            liaison::post(
                db,
                scope,
                &NewMot {
                    structure_id: school.id,
                    author_id: *directeur,
                    title: "Réunion de rentrée",
                    body: "Chers parents,\nLa réunion de rentrée aura lieu jeudi à 18 h dans le préau. \
                           Merci de signer ce mot pour nous dire que vous l’avez lu.",
                    language: "fr",
                    audience: Audience::School,
                    class_ids: &classes,
                    pupil_ids: &[],
                    signature_required: true,
                    replies_allowed: true,
                    urgent: false,
                    publish_at: now,
                    attachments: &[],
                },
            )
            .await?;
        }
        for (class_id, _, _) in &school.classes {
            let Some((_, teacher)) = teachers.iter().find(|(c, _)| c == class_id) else {
                continue;
            };
            liaison::post(
                db,
                scope,
                &NewMot {
                    structure_id: school.id,
                    author_id: *teacher,
                    title: "Sortie à la médiathèque",
                    body: "Mardi matin, la classe va à la médiathèque. Prévoir un sac pour rapporter un livre.",
                    language: "fr",
                    audience: Audience::Classes,
                    class_ids: &[*class_id],
                    pupil_ids: &[],
                    signature_required: false,
                    replies_allowed: false,
                    urgent: false,
                    publish_at: now,
                    attachments: &[],
                },
            )
            .await?;
        }
    }
    Ok(())
}

async fn seed(db: &Db) -> Result<String> {
    let tenant = directory::create_tenant(
        db,
        TENANT_SLUG,
        "Commune de Valbonne-sur-Loire",
        TenantKind::Commune,
    )
    .await?;
    let scope = TenantScope(tenant.id);
    let structure = |kind, name: &str, uai: Option<String>, parent, circonscription| NewStructure {
        kind,
        name: name.to_owned(),
        uai,
        commune: "Valbonne-sur-Loire".into(),
        parent_id: parent,
        circonscription_id: circonscription,
    };
    let mairie = directory::create_structure(
        db,
        scope,
        structure(
            StructureKind::Commune,
            "Mairie de Valbonne-sur-Loire",
            None,
            None,
            None,
        ),
    )
    .await?;
    let circo = directory::create_structure(
        db,
        scope,
        structure(
            StructureKind::Circonscription,
            "Circonscription de Valbonne",
            Some(uai(990900)),
            None,
            None,
        ),
    )
    .await?;
    let school_specs: [SchoolSpec; 3] = [
        (
            StructureKind::EcoleMaternelle,
            "École maternelle Les Tilleuls",
            990101,
            vec![
                ("Petite section", "PS"),
                ("PS-MS", "PS-MS"),
                ("Moyenne section", "MS"),
                ("Grande section A", "GS"),
                ("Grande section B", "GS"),
            ],
        ),
        (
            StructureKind::EcoleElementaire,
            "École élémentaire Jean Moulin",
            990102,
            vec![
                ("CP A", "CP"),
                ("CP B", "CP"),
                ("CE1", "CE1"),
                ("CE1-CE2", "CE1-CE2"),
                ("CE2", "CE2"),
                ("CM1", "CM1"),
                ("CM1-CM2", "CM1-CM2"),
                ("CM2", "CM2"),
            ],
        ),
        (
            StructureKind::EcolePrimaire,
            "École primaire du Bourg",
            990103,
            vec![
                ("TPS-PS-MS", "TPS-PS-MS"),
                ("GS-CP", "GS-CP"),
                ("CE1-CE2", "CE1-CE2"),
                ("CE2-CM1", "CE2-CM1"),
                ("CM1-CM2", "CM1-CM2"),
            ],
        ),
    ];
    let mut schools = Vec::new();
    for (kind, name, number, classes) in school_specs {
        let code = uai(number);
        debug_assert!(is_valid_uai(&code));
        let s = directory::create_structure(
            db,
            scope,
            structure(kind, name, Some(code), Some(mairie.id), Some(circo.id)),
        )
        .await?;
        let mut created = Vec::new();
        for (class_name, levels) in classes {
            let levels = preau_domain::directory::parse_levels(levels)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let c = directory::create_class(db, scope, s.id, class_name, &levels, 2026).await?;
            created.push((c.id, class_name, levels));
        }
        schools.push(School {
            id: s.id,
            name,
            classes: created,
        });
    }

    let demo_hash = credentials::hash_password(HashCost::DEFAULT, DEMO_PASSWORD.to_owned()).await?;
    let mut b = Builder {
        dice: Dice(20261125),
        logins: LoginAllocator::load(db).await?,
        batch: DirectoryBatch::default(),
        demo_hash,
        listed: Vec::new(),
    };

    // Platform operator.
    let operator = directory::create_operator(
        db,
        OPERATOR_LOGIN,
        directory::NewUser {
            first_name: "Équipe".into(),
            last_name: "Préau".into(),
            email: Some("exploitation@exemple.fr".into()),
            birth_date: None,
        },
    )
    .await?;
    preau_store::accounts::set_password(db, operator.id, &b.demo_hash).await?;
    directory::set_operator_active(db, operator.id).await?;

    // Mairie: two agents, the first also administers the tenant.
    for (i, (first, last)) in [("Martine", "Delorme"), ("Karim", "Benaïssa")]
        .into_iter()
        .enumerate()
    {
        let (id, login) = b.staff(
            first,
            last,
            mairie.id,
            NationalProfile::Collectivite,
            Some(Function::AgentMairie),
        );
        let what = if i == 0 {
            b.batch.admin_grants.push((id, None));
            "Agent de mairie, administratrice du territoire".to_string()
        } else {
            "Agent de mairie (services périscolaires)".to_string()
        };
        b.list(NationalProfile::Collectivite, &login, what);
    }
    // Circonscription: the IEN and a conseiller pédagogique.
    let (_, ien) = b.staff(
        "Françoise",
        "Aubert",
        circo.id,
        NationalProfile::Academique,
        Some(Function::Ien),
    );
    b.list(
        NationalProfile::Academique,
        &ien,
        "Inspectrice de l'Éducation nationale (IEN)".into(),
    );
    let (_, cpc) = b.staff(
        "Pascal",
        "Renaud",
        circo.id,
        NationalProfile::Academique,
        Some(Function::ConseillerPedagogique),
    );
    b.list(
        NationalProfile::Academique,
        &cpc,
        "Conseiller pédagogique de circonscription".into(),
    );

    // Teachers and the directeurs (who teach too, except at the élémentaire).
    let mut teachers: Vec<(Uuid, Uuid)> = Vec::new(); // (class, teacher)
    // Classes whose teacher is listed: a listed parent has a child there, so the two can write
    // to each other in a demonstration (and in the browser tests).
    let mut listed_classes: Vec<Uuid> = Vec::new();
    let mut directors: Vec<(Uuid, Uuid)> = Vec::new(); // (school, directeur)
    for school in &schools {
        let mut first_class = true;
        for (class_id, class_name, _) in &school.classes {
            let woman = b.dice.chance(80);
            let first = if woman {
                b.dice.pick(WOMEN)
            } else {
                b.dice.pick(MEN)
            };
            let last = b.dice.pick(SURNAMES);
            let teaching_director = first_class && school.name != "École élémentaire Jean Moulin";
            let (id, login) = b.staff(
                first,
                last,
                school.id,
                NationalProfile::Enseignant,
                Some(Function::Enseignant),
            );
            if teaching_director {
                directors.push((school.id, id));
                b.batch
                    .profiles
                    .push((id, school.id, NationalProfile::Direction));
                b.batch.functions.push((id, school.id, Function::Directeur));
                b.list(
                    NationalProfile::Direction,
                    &login,
                    format!("Direction et classe de {class_name}, {}", school.name),
                );
            } else if b
                .listed
                .iter()
                .filter(|(p, _, _)| *p == NationalProfile::Enseignant)
                .count()
                < 3
                && !first_class
            {
                b.list(
                    NationalProfile::Enseignant,
                    &login,
                    format!("Enseignant·e, {class_name}, {}", school.name),
                );
                listed_classes.push(*class_id);
            }
            b.batch
                .class_members
                .push((*class_id, id, ClassRole::Enseignant));
            teachers.push((*class_id, id));
            first_class = false;
        }
        if school.name == "École élémentaire Jean Moulin" {
            let (id, login) = b.staff(
                "Valérie",
                "Lacombe",
                school.id,
                NationalProfile::Direction,
                Some(Function::Directeur),
            );
            directors.push((school.id, id));
            b.batch
                .profiles
                .push((id, school.id, NationalProfile::Enseignant));
            b.list(
                NationalProfile::Direction,
                &login,
                format!("Directrice (déchargée), {}", school.name),
            );
        }
    }
    // ATSEM in maternelle classes, AESH and documentation (BCD) staff.
    let maternelle = &schools[0];
    for (n, (_, class_name, _)) in maternelle.classes.iter().enumerate() {
        let (first, last) = (b.dice.pick(WOMEN), b.dice.pick(SURNAMES));
        let (_, login) = b.staff(
            first,
            last,
            maternelle.id,
            NationalProfile::Technique,
            Some(Function::Atsem),
        );
        if n < 2 {
            b.list(
                NationalProfile::Technique,
                &login,
                format!("ATSEM, {class_name}, {}", maternelle.name),
            );
        }
    }
    for school in &schools[1..] {
        let (first, last) = (b.dice.pick(WOMEN), b.dice.pick(SURNAMES));
        let (_, login) = b.staff(
            first,
            last,
            school.id,
            NationalProfile::VieScolaire,
            Some(Function::Aesh),
        );
        b.list(
            NationalProfile::VieScolaire,
            &login,
            format!("AESH, {}", school.name),
        );
        let (first, last) = (b.dice.pick(MEN), b.dice.pick(SURNAMES));
        let (_, login) = b.staff(
            first,
            last,
            school.id,
            NationalProfile::Documentaliste,
            None,
        );
        b.list(
            NationalProfile::Documentaliste,
            &login,
            format!("Responsable de la BCD, {}", school.name),
        );
    }

    // Pupils, class by class.
    struct Pupil {
        id: Uuid,
        login: String,
        first: String,
        last: String,
        school: usize,
        class_id: Uuid,
        class_name: &'static str,
        active: bool,
    }
    let mut pupils: Vec<Pupil> = Vec::new();
    for (s, school) in schools.iter().enumerate() {
        for (class_id, class_name, levels) in &school.classes {
            let size = if s == 0 { 15 } else { 14 };
            let mut names: Vec<(String, String)> = Vec::new();
            for i in 0..size {
                let girl = b.dice.chance(50);
                let (first, last) = loop {
                    let first = if girl {
                        b.dice.pick(GIRLS)
                    } else {
                        b.dice.pick(BOYS)
                    };
                    let last = b.dice.pick(SURNAMES);
                    if !names.iter().any(|(f, l)| f == first && l == last) {
                        break (first.to_owned(), last.to_owned());
                    }
                };
                names.push((first.clone(), last.clone()));
                let level = levels[i % levels.len()];
                let birth = format!(
                    "{}-{:02}-{:02}",
                    birth_year(level),
                    1 + b.dice.below(12),
                    1 + b.dice.below(28)
                );
                // Most pupils' accounts are open; a few wait for activation.
                let active = !b.dice.chance(15);
                let (id, login) = b.person(&first, &last, Some(birth), false, active);
                b.batch
                    .profiles
                    .push((id, school.id, NationalProfile::Eleve));
                b.batch
                    .class_members
                    .push((*class_id, id, ClassRole::Eleve));
                pupils.push(Pupil {
                    id,
                    login,
                    first,
                    last,
                    school: s,
                    class_id: *class_id,
                    class_name,
                    active,
                });
            }
        }
    }
    for p in pupils
        .iter()
        .filter(|p| p.active && p.school == 1)
        .step_by(17)
        .take(2)
    {
        b.list(
            NationalProfile::Eleve,
            &p.login,
            format!("Élève de {}, {}", p.class_name, schools[p.school].name),
        );
    }
    if let Some(p) = pupils.iter().find(|p| p.active && p.school == 0) {
        b.list(
            NationalProfile::Eleve,
            &p.login,
            format!(
                "Élève de {} (non-lecteur), {}",
                p.class_name, schools[0].name
            ),
        );
    }

    // Families: siblings across the maternelle and the élémentaire (and within schools).
    let mut family_of: Vec<Option<usize>> = vec![None; pupils.len()];
    let mut families: Vec<Vec<usize>> = Vec::new();
    let by_school = |s: usize| -> Vec<usize> {
        pupils
            .iter()
            .enumerate()
            .filter(|(_, p)| p.school == s)
            .map(|(i, _)| i)
            .collect()
    };
    let (mat, elem, prim) = (by_school(0), by_school(1), by_school(2));
    for k in 0..14 {
        families.push(vec![mat[k * 5 % mat.len()], elem[k * 7 % elem.len()]]);
    }
    for k in 0..6 {
        families.push(vec![
            prim[k * 9 % prim.len()],
            elem[(k * 11 + 3) % elem.len()],
        ]);
    }
    for k in 0..6 {
        families.push(vec![
            elem[(k * 13 + 1) % elem.len()],
            elem[(k * 13 + 40) % elem.len()],
        ]);
    }
    families.retain(|f| f[0] != f[1]);
    let mut seen = std::collections::HashSet::new();
    families.retain(|f| f.iter().all(|i| seen.insert(*i)));
    for (n, f) in families.iter().enumerate() {
        for &i in f {
            family_of[i] = Some(n);
        }
    }
    // Siblings carry their family's name (and a login made from it).
    for f in &families {
        let family_name = pupils[f[0]].last.clone();
        for &i in &f[1..] {
            if pupils[i].last == family_name {
                continue;
            }
            let login = b.logins.allocate(&pupils[i].first, &family_name);
            if let Some(user) = b.batch.users.iter_mut().find(|u| u.id == pupils[i].id) {
                user.last_name = family_name.clone();
                user.login = login.clone();
            }
            for entry in b.listed.iter_mut().filter(|e| e.1 == pupils[i].login) {
                entry.1 = login.clone();
            }
            pupils[i].last = family_name.clone();
            pupils[i].login = login;
        }
    }
    for (i, family) in family_of.iter_mut().enumerate() {
        if family.is_none() {
            *family = Some(families.len());
            families.push(vec![i]);
        }
    }
    let mut two_school_listed = 0;
    let mut single_listed = 0;
    for family in &families {
        let family_name = pupils[family[0]].last.clone();
        let single = b.dice.chance(14);
        let two_mothers = !single && b.dice.chance(3);
        let mut guardians: Vec<(&str, String, bool)> = Vec::new();
        let mother_first = b.dice.pick(WOMEN);
        guardians.push((mother_first, family_name.clone(), true));
        if !single {
            let first = if two_mothers {
                b.dice.pick(WOMEN)
            } else {
                b.dice.pick(MEN)
            };
            let last = if b.dice.chance(20) {
                b.dice.pick(SURNAMES).to_owned()
            } else {
                family_name.clone()
            };
            guardians.push((first, last, !b.dice.chance(5)));
        }
        let schools_of_family: std::collections::BTreeSet<usize> =
            family.iter().map(|&i| pupils[i].school).collect();
        for (g, (first, last, legal)) in guardians.iter().enumerate() {
            // Every family has one open account; second guardians sometimes wait for activation.
            let active = g == 0 || !b.dice.chance(35);
            let (id, login) = b.person(first, last, None, true, active);
            for &s in &schools_of_family {
                b.batch
                    .profiles
                    .push((id, schools[s].id, NationalProfile::Tuteur));
            }
            for &i in family {
                b.batch.guardianships.push((id, pupils[i].id, *legal));
            }
            let children: Vec<String> = family
                .iter()
                .map(|&i| format!("{} ({})", pupils[i].first, pupils[i].class_name))
                .collect();
            if active && g == 0 && schools_of_family.len() == 2 && two_school_listed < 2 {
                two_school_listed += 1;
                b.list(
                    NationalProfile::Tuteur,
                    &login,
                    format!(
                        "{}{}, dans deux écoles",
                        parent_of(&children[0]),
                        children.join(" et ")
                    ),
                );
            } else if active
                && g == 0
                && family.len() == 1
                && listed_classes.contains(&pupils[family[0]].class_id)
                && single_listed < 1
                && b.listed
                    .iter()
                    .any(|(p, _, _)| *p == NationalProfile::Tuteur)
            {
                single_listed += 1;
                b.list(
                    NationalProfile::Tuteur,
                    &login,
                    format!("{}{}", parent_of(&children[0]), children.join(", ")),
                );
            }
        }
    }

    batch::apply(db, scope, &b.batch).await?;
    for s in [mairie.id, circo.id]
        .into_iter()
        .chain(schools.iter().map(|s| s.id))
    {
        directory::refresh_groups(db, scope, s).await?;
    }
    seed_liaison(db, scope, &schools, &directors, &teachers).await?;

    let mut listed = b.listed;
    listed.sort_by_key(|(p, _, _)| *p);
    let mut table = String::new();
    let _ = writeln!(table, "{:<14}{:<28}Qui", "Profil", "Identifiant");
    for (profile, login, what) in &listed {
        let _ = writeln!(table, "{:<14}{:<28}{}", profile.code(), login, what);
    }
    let _ = writeln!(table);
    let _ = writeln!(table, "Opérateur de la plateforme : {OPERATOR_LOGIN}");
    Ok(table)
}
