# Préau — textes de l'interface (français, langue de référence)

## Mise en page
skip-to-content = Aller au contenu
logout = Se déconnecter
nav-label = Menu principal
nav-home = Accueil
nav-classes = Mes classes
nav-admin = Administration
nav-account = Mon compte
footer-charter = Charte d’utilisation
footer-privacy = Données personnelles
footer-accessibility = Accessibilité : partiellement conforme
yes = oui
no = non

## Profils nationaux
profile-elv = Élève
profile-tut = Parent ou responsable légal
profile-ens = Enseignant·e
profile-dir = Direction d’école
profile-evs = Vie scolaire (AESH…)
profile-eta = Personnel de l’école (ATSEM…)
profile-aca = Inspection académique
profile-doc = Documentaliste
profile-col = Agent de la collectivité
profile-operator = Opérateur de la plateforme
profile-none = Sans profil

## Structures, fonctions, rôles, états
structure-ecole-maternelle = École maternelle
structure-ecole-elementaire = École élémentaire
structure-ecole-primaire = École primaire
structure-commune = Commune
structure-circonscription = Circonscription
structure-college = Collège
tenant-syndicat = Syndicat mixte (plusieurs communes)
tenant-commune = Commune
function-directeur = Directeur ou directrice
function-enseignant = Enseignant·e
function-atsem = ATSEM
function-aesh = AESH
function-ien = Inspecteur·rice de l’Éducation nationale (IEN)
function-cpc = Conseiller·ère pédagogique
function-agent-mairie = Agent de mairie
function-animateur = Animateur·rice périscolaire
role-eleve = élève
role-enseignant = enseignant·e
state-pending = non activé
state-active = actif
state-disabled = désactivé

## Erreurs
error-404-title = Page introuvable
error-404-text = Cette page n’existe pas, ou vous n’y avez pas accès.
error-403-title = Accès refusé
error-403-text = Votre compte ne permet pas d’accéder à cette page.
error-400-title = Demande incorrecte
error-500-title = Erreur du serveur
error-500-text = Une erreur est survenue de notre côté. Réessayez dans quelques instants.
error-code = Code d’erreur : { $code }
error-back-home = Retour à l’accueil
error-csrf-title = Formulaire expiré
error-csrf-text = Ce formulaire n’a pas pu être vérifié (il a peut-être expiré, ou il vient d’un autre site). Rechargez la page et réessayez.
error-too-large = Le formulaire envoyé est trop volumineux.
error-400-text = La demande n’a pas pu être comprise : l’adresse ou le formulaire est incorrect.
error-method = Cette adresse ne s’utilise pas de cette façon. Revenez à la page précédente et réessayez.
error-timeout = Le serveur a mis trop de temps à répondre. Réessayez dans quelques instants.

## Connexion
login-title = Connexion
login-heading = Connexion à Préau
login-field = Identifiant
password-field = Mot de passe
email-field = Adresse e-mail
login-submit = Se connecter
login-first-time = Première connexion ? Activer mon compte avec mon code
login-forgot = Mot de passe oublié ?
login-notice-reset = Votre mot de passe a été changé. Connectez-vous avec le nouveau mot de passe.
login-notice-logout = Vous êtes déconnecté·e.
login-incorrect = Identifiant ou mot de passe incorrect.
login-locked = Trop d’essais pour ce compte : il est verrouillé pendant { $minutes } min. Réessayez ensuite, ou demandez à l’école de réinitialiser le mot de passe.
login-ip-blocked = Trop d’essais de connexion depuis votre réseau. Réessayez dans { $minutes } min.
login-not-activated = Ce compte n’est pas encore activé : utilisez le lien « Première connexion » avec le code d’activation reçu de l’école.
login-disabled = Ce compte est désactivé. Contactez l’école pour le réactiver.
back-to-login = Retour à la connexion

## Activation
activate-title = Activer mon compte
activate-heading = Première connexion
activate-intro = Saisissez l’identifiant et le code d’activation inscrits sur le courrier remis par l’école.
activate-code-field = Code d’activation
activate-code-help = Dix lettres et chiffres, par exemple ACDEF-GHJKM. Les tirets et les espaces sont facultatifs.
activate-continue = Continuer
activate-password-title = Choisir mon mot de passe
activate-password-heading = Bienvenue { $name } : choisissez votre mot de passe
activate-charter-accept = J’ai lu et j’accepte la charte d’utilisation de l’ENT
activate-charter-read = lire la charte
activate-submit = Activer mon compte
activate-invalid = Identifiant ou code d’activation incorrect.
activate-expired = Ce code d’activation a expiré. Demandez-en un nouveau à l’école.
activate-used = Ce code a déjà été utilisé. Connectez-vous avec votre mot de passe, ou demandez un nouveau code à l’école.
activate-charter-required = Pour activer votre compte, cochez la case d’acceptation de la charte d’utilisation.
new-password-field = Nouveau mot de passe
confirm-password-field = Confirmer le mot de passe
password-rule-adult = Au moins { $min } caractères : majuscules, minuscules, chiffres et caractères spéciaux, ou une phrase d’au moins 4 mots (20 caractères). Évitez votre nom.
password-rule-pupil = Au moins { $min } caractères, avec des lettres, des majuscules ou des chiffres.
password-too-short = Le mot de passe est trop court : il faut au moins { $min } caractères.
password-too-long = Le mot de passe est trop long (128 caractères au plus).
password-too-simple = Le mot de passe est trop simple : mélangez majuscules, minuscules, chiffres et caractères spéciaux, ou choisissez une phrase plus longue.
password-contains-login = Le mot de passe ne doit pas contenir votre prénom ni votre identifiant.
password-mismatch = Les deux mots de passe saisis sont différents.

## Mot de passe oublié
forgot-title = Mot de passe oublié
forgot-heading = Mot de passe oublié
forgot-intro = Indiquez votre identifiant : si votre compte a une adresse e-mail, vous recevrez un lien pour choisir un nouveau mot de passe.
forgot-submit = Recevoir le lien
forgot-sent = Si un compte avec une adresse e-mail correspond à cet identifiant, un message vient d’y être envoyé. Le lien est valable une heure.
forgot-pupils = Élèves : demandez à votre enseignant·e, qui peut changer votre mot de passe.
reset-mail-subject = Préau : choisir un nouveau mot de passe
reset-mail-body =
    Bonjour { $name },

    Une demande de nouveau mot de passe a été faite pour votre compte Préau.
    Pour choisir un nouveau mot de passe, ouvrez ce lien (valable { $minutes } minutes, une seule fois) :

    { $link }

    Si vous n’êtes pas à l’origine de cette demande, ignorez ce message : votre mot de passe actuel reste valable.
reset-title = Nouveau mot de passe
reset-heading = Choisir un nouveau mot de passe
reset-submit = Enregistrer le mot de passe
reset-invalid = Ce lien n’est plus valable (il a expiré ou a déjà servi).
reset-ask-again = Demander un nouveau lien

## Accueil
home-title = Accueil
home-hello = Bonjour { $name }
home-me = Mon profil
home-login = Identifiant : { $login }
home-children = Mes enfants
home-child-class = Classe
home-child-no-class = pas de classe cette année
home-child-school = École
home-child-authority = Autorité parentale
home-classes = Mes classes
home-services = Mes services
service-classes = Mes classes et mes élèves
service-admin = Administration
service-account = Mon compte et mes connexions

## Mon compte
account-title = Mon compte
account-heading = Mon compte
account-identity = Mon identité
account-password = Changer mon mot de passe
account-current-password = Mot de passe actuel
account-change-password = Changer le mot de passe
account-current-wrong = Le mot de passe actuel est incorrect.
account-sessions = Mes connexions
account-sessions-caption = Appareils connectés à votre compte
account-session-device = Appareil
account-session-since = Connecté depuis
account-session-last = Dernière activité
account-session-action = Action
account-session-current = (cet appareil)
account-session-revoke = Déconnecter
account-session-revoked = La connexion a été fermée.

## Administration
admin-title = Administration
admin-heading = Administration
admin-my-structures = Structures que j’administre
admin-users-link = Utilisateurs
admin-tenants = Territoires
admin-no-tenant = Aucun territoire pour l’instant.
admin-new-tenant = Créer un territoire
admin-tenant-name = Nom du territoire
admin-tenant-slug = Identifiant court
admin-tenant-slug-help = Lettres minuscules, chiffres et tirets (2 à 40), par exemple sm-val-de-loire.
admin-tenant-kind = Type de territoire
admin-create = Créer
admin-none = (aucun)
admin-structures = Structures
admin-no-structure = Aucune structure pour l’instant.
admin-new-structure = Créer une structure
admin-structure-kind = Type
admin-structure-name = Nom
admin-structure-uai = UAI (RNE)
admin-structure-uai-help = Sept chiffres et une lettre, par exemple 0990001B. Obligatoire pour une école.
admin-structure-commune = Commune
admin-structure-parent = Rattachée à (commune)
admin-structure-circonscription = Circonscription
admin-classes = Classes
admin-no-class = Aucune classe pour l’instant.
admin-new-class = Créer une classe
admin-class-name = Nom de la classe
admin-class-levels = Niveaux
admin-class-levels-help = Un ou plusieurs niveaux parmi TPS, PS, MS, GS, CP, CE1, CE2, CM1, CM2, par exemple CE2-CM1.
admin-groups = Groupes
admin-groups-caption = Groupes de la structure, année { $year }
admin-group-name = Groupe
admin-group-members = Membres
admin-new-group = Créer un groupe
admin-error-group = Choisissez un groupe de la liste.
admin-error-name = Indiquez un nom (200 caractères au plus).
admin-error-slug = L’identifiant court doit faire 2 à 40 caractères : lettres minuscules, chiffres et tirets.
admin-error-slug-taken = Cet identifiant court est déjà pris.
admin-error-kind = Choisissez un type dans la liste.
admin-error-uai = L’UAI est incorrect : sept chiffres suivis de la lettre de contrôle.
admin-error-uai-taken = Une structure avec cet UAI existe déjà.
admin-error-parent = La structure de rattachement est introuvable.
admin-error-levels = Niveaux inconnus : utilisez TPS, PS, MS, GS, CP, CE1, CE2, CM1 ou CM2.
admin-error-class-taken = Une classe de ce nom existe déjà cette année.
admin-error-profile = Choisissez un profil dans la liste.
admin-error-email = L’adresse e-mail est incorrecte.
admin-error-birth-date = La date de naissance est incorrecte.
admin-error-function = Choisissez une fonction dans la liste.
admin-error-class = Choisissez une classe de l’école.
admin-error-class-role = Seuls les élèves et les personnels de l’école peuvent être ajoutés à une classe.
admin-error-state = État de compte inconnu.
admin-error-link = Un lien de responsabilité relie un parent ou responsable à un élève de cette école.

## Utilisateurs
users-title = Utilisateurs
users-filter = Profil
users-filter-all = Tous les profils
users-filter-submit = Filtrer
users-caption = { $count } personnes
users-name = Nom
users-profiles = Profils
users-new = Ajouter une personne
users-first-name = Prénom
users-last-name = Nom
users-profile = Profil
users-function = Fonction
users-class = Classe
users-birth-date = Date de naissance
user-title = Compte
user-state = État du compte
user-account = Compte
user-code-shown = Nouveau code d’activation, à remettre à la personne (il ne sera plus affiché) :
user-code-expires = Valable jusqu’au { $date }, une seule fois.
user-generate-code = Générer un code d’activation
user-code-disabled = Ce compte est désactivé : réactivez-le avant de générer un code.
user-enable = Réactiver le compte
user-disable = Désactiver le compte
user-error-self = Vous ne pouvez pas changer l’état de votre propre compte.
user-no-class = Aucune classe.
user-add-class = Ajouter à la classe
user-add-class-submit = Ajouter
user-guardians = Responsables
user-no-guardian = Aucun responsable lié.
user-legal-authority = autorité parentale
user-unlink = Retirer le lien avec { $name }
user-link-guardian = Lier un responsable
user-link-child = Lier un enfant
user-link-submit = Lier
user-children = Enfants
user-no-child = Aucun enfant lié.
user-notice-state = L’état du compte a été modifié.
user-notice-linked = Le lien a été enregistré.
user-notice-unlinked = Le lien a été retiré.
user-notice-class = La classe a été ajoutée.
user-notice-group = La personne a été ajoutée au groupe.
user-add-group = Ajouter au groupe

## Classes (enseignant)
classes-title = Mes classes
class-teachers = Enseignant·es
class-pupils = Élèves ({ $count })
class-pupils-caption = Élèves de la classe
class-pupil-name = Élève
class-reset-password = Nouveau mot de passe
class-new-password-for = Nouveau mot de passe pour { $name }
class-reset-submit = Changer
class-reset-help = Saisissez un mot de passe d’au moins 8 caractères (lettres, majuscules ou chiffres) et remettez-le à l’élève. Ses connexions en cours sont fermées.
classes-password-done = Le mot de passe de { $name } a été changé.

## Pages d'information
charter-title = Charte d’utilisation
charter-p1 = Préau est l’espace numérique de travail des écoles : il sert à la communication entre l’école et les familles, au travail de la classe et à la vie de l’école.
charter-p2 = Chaque compte est personnel. Ne communiquez votre mot de passe à personne ; les élèves le confient seulement à leurs parents et à leur enseignant·e.
charter-p3 = Les messages et publications respectent les personnes : pas d’injure, de moquerie, de harcèlement ni de contenu illégal. Les abus sont signalés à la direction de l’école.
charter-p4 = Les photos et enregistrements d’élèves ne sont publiés qu’avec l’accord écrit des responsables légaux, et seulement dans les espaces prévus.
charter-p5 = L’usage de Préau est tracé pour la sécurité de tous, conformément à la réglementation ; les données ne sont utilisées qu’à des fins scolaires.
privacy-title = Données personnelles
privacy-p1 = Préau traite les données nécessaires à l’espace numérique de travail dans le cadre de l’arrêté du 30 novembre 2006 modifié (traitement « ENT ») : identité, rattachement à l’école et à la classe, liens entre élèves et responsables, contenus publiés.
privacy-p2 = Les données proviennent de l’annuaire de l’Éducation nationale ou de l’école, et des utilisateurs eux-mêmes. Elles ne sont accessibles qu’aux personnes habilitées selon leur fonction : un parent ne voit que ce qui concerne ses propres enfants.
privacy-p3 = Les comptes des personnes qui quittent l’école sont supprimés dans les trois mois. Les journaux de connexion sont conservés au plus un an.
privacy-p4 = Vous pouvez exercer vos droits d’accès, de rectification et d’opposition auprès de la direction de l’école ou du responsable du traitement désigné par la collectivité.
a11y-title = Accessibilité
a11y-p1 = Préau vise la conformité au référentiel général d’amélioration de l’accessibilité (RGAA 4.1). Son état actuel est : partiellement conforme, chaque page étant vérifiée automatiquement lors des tests.
a11y-p2 = Les pages fonctionnent sans JavaScript, au clavier, et avec les lecteurs d’écran ; la taille du texte peut être augmentée.
a11y-p3 = Si vous ne parvenez pas à accéder à un contenu ou à un service, signalez-le à l’école ou à la collectivité : une alternative vous sera proposée. Vous pouvez aussi saisir le Défenseur des droits.

## Imports
import-title = Import ONDE
import-link = Importer depuis ONDE
import-upload-heading = Déposer les fichiers de l’école
import-upload-intro = Dans ONDE, menu Listes et documents › Extractions, téléchargez les élèves de l’école puis leurs responsables (format CSV). Déposez-les ensemble ; rien n’est modifié avant votre confirmation.
import-file-eleves = Élèves de l’école (obligatoire)
import-file-responsables = Responsables des élèves (obligatoire)
import-file-enseignants = Enseignants, sur le modèle CSVExtraction-enseignants (facultatif)
import-file-personnels = Personnels de la commune, ATSEM (facultatif)
import-files-label = Fichiers CSV
import-files-help = Jusqu’à 6 fichiers de 10 Mo chacun, encodés en UTF-8 ou Windows-1252.
import-check = Vérifier (simulation)
import-runs = Imports récents
import-no-run = Aucun import pour l’instant.
import-run-title = Import des comptes
import-state-preview = Simulation terminée : en attente de votre confirmation
import-state-queued = En file d’attente
import-state-running = Import en cours
import-state-done = Import terminé
import-state-failed = Import refusé
import-state-cancelled = Import annulé
import-refresh = Actualiser
import-failed-heading = Import refusé
import-nothing-changed = Rien n’a été modifié dans l’annuaire.
import-report-preview = Ce que l’import va faire
import-report-done = Ce que l’import a fait
import-report-caption = Comptes, par type de personne
import-col-who = Personnes
import-col-created = Créés
import-col-updated = Mis à jour
import-col-detached = Détachés
import-col-reattached = Revenus
import-col-unchanged = Inchangés
import-row-pupils = Élèves
import-row-guardians = Responsables
import-row-staff = Personnels
import-classes-created = Classes créées : { $count }
import-classes-updated = Classes modifiées : { $count }
import-links-added = Liens responsable–élève ajoutés : { $count }
import-links-removed = Liens responsable–élève retirés : { $count }
import-rejections-caption = Lignes rejetées ({ $count })
import-col-file = Fichier
import-col-line = Ligne
import-col-reason = Motif
import-notices = Remarques
import-confirm-heading = Confirmer l’import
import-no-change = Les fichiers correspondent déjà à l’annuaire : l’import ne changera rien.
import-skip-rejected = Importer les lignes valides en ignorant les { $count } lignes rejetées
import-confirm = Importer
import-cancel = Annuler
import-error-upload = Le dépôt des fichiers a échoué ; réessayez.
import-error-too-many = Trop de fichiers : 6 au plus.
import-error-file-too-large = Le fichier { $file } dépasse 10 Mo : est-ce bien une extraction ONDE ?
import-error-no-file = Choisissez au moins les fichiers des élèves et des responsables.
import-error-not-preview = Cet import a déjà été confirmé ou annulé.
import-error-confirm-rejected = Des lignes sont rejetées : cochez la case pour importer les lignes valides, ou corrigez les fichiers.
import-error-busy = Un import de cette école est déjà en cours : attendez qu’il se termine.

## Accounts of people who left
leavers-link = Départs
leavers-title = Comptes des personnes parties
leavers-intro = Les personnes absentes du dernier import sont détachées de l’école : elles n’ont plus accès aux classes mais peuvent encore récupérer leurs documents. Leur compte est ensuite désactivé, puis supprimé ; vous êtes prévenu par courriel avant toute suppression. Une personne qui revient dans un import retrouve son compte.
leavers-none = Aucun compte détaché.
leavers-caption = Comptes détachés ({ $count })
leavers-col-name = Personne
leavers-col-detached = Détaché le
leavers-col-disabled = Désactivé le
leavers-col-deleted = Supprimé le
leavers-noticed = annoncé
lifecycle-mail-subject = { $school } : comptes bientôt supprimés
lifecycle-mail-intro = Les comptes de { $count } personnes parties de l’école { $school } vont être supprimés, ainsi que leurs données personnelles :
lifecycle-mail-line = suppression le { $date }
lifecycle-mail-outro = Si l’une de ces personnes est toujours à l’école, importez à nouveau les fichiers ONDE ou rattachez-la à la main avant cette date. La liste est aussi sur :

## School year rollover
rollover-heading = Année scolaire
rollover-current = Année en cours : { $years }.
rollover-due = Le calendrier est passé à { $years } : faites la bascule de rentrée avant d’importer les fichiers de la nouvelle année.
rollover-explain = La bascule de rentrée clôt l’année : les classes sont archivées (consultables, plus modifiables), les familles restent liées à leurs enfants, et l’import suivant place les élèves dans leurs nouvelles classes.
rollover-understood = J’ai compris : les classes de { $years } seront archivées.
rollover-button = Passer à l’année { $years }
rollover-error-confirm = Cochez la case pour confirmer la bascule.
rollover-error-year = La bascule ne peut aller qu’à l’année qui suit l’année en cours.
class-archived = archivée

## A class's accounts and connection letters
class-archived-notice = Classe d’une année passée : consultable, plus modifiable.
class-code = Code d’activation
class-code-submit = Nouveau code
class-code-for = Nouveau code d’activation pour { $name }
class-code-done = Nouveau code pour { $name } (identifiant { $login }) : { $code }, valable jusqu’au { $date }, une seule fois. Il ne sera plus affiché.
class-code-disabled = Le compte de { $name } est désactivé : demandez au directeur de le réactiver.
class-guardians = Responsables des élèves ({ $count })
class-guardians-caption = Responsables, avec leurs enfants dans la classe
class-guardian-name = Responsable
class-guardian-children = Enfants dans la classe
class-pending = Pas encore activés : { $pupils } élèves, { $guardians } responsables.
class-guardian-add = Ajouter un responsable
class-guardian-pupil = Élève
class-guardian-existing = Ou identifiant d’un responsable déjà inscrit
class-guardian-existing-help = Pour un parent qui a déjà un compte (un frère ou une sœur dans une autre classe) : son identifiant suffit, le nom n’est pas nécessaire.
class-guardian-legal = Détient l’autorité parentale
class-guardian-submit = Ajouter le responsable
class-guardian-done = { $guardian } (identifiant { $login }) est maintenant responsable de { $pupil }.
class-guardian-error-pupil = Choisissez un élève de la classe.
class-guardian-error-name = Indiquez le prénom et le nom du responsable (et une adresse électronique valide, si vous en donnez une).
class-guardian-error-login = Aucun responsable de ce territoire n’a cet identifiant.
letters-heading = Lettres de connexion
letters-explain = Un document PDF à imprimer : une page par personne, avec son identifiant, un nouveau code d’activation et la marche à suivre. Les codes précédents ne fonctionnent plus ; les mots de passe déjà choisis restent valables.
letters-for = Pour qui ?
letters-for-pupils = Les élèves de la classe
letters-for-guardians = Les responsables des élèves
letters-pending-only = Seulement les comptes pas encore activés
letters-submit = Télécharger les lettres (PDF)
letters-none = Personne à qui écrire : tous les comptes choisis sont déjà activés ou désactivés.
letters-title = Votre compte sur l’espace numérique de l’école
letters-intro-pupil = Voici le compte de votre enfant sur l’espace numérique de travail de l’école. Avec vous, il pourra y retrouver le travail de la classe et les messages de l’enseignant.
letters-intro-guardian = Voici votre compte de parent sur l’espace numérique de travail de l’école : cahier de liaison, messages de l’enseignant, actualités de l’école.
letters-login = Identifiant
letters-code = Code d’activation
letters-url = Adresse
letters-steps-title = Pour activer le compte
letters-step-1 = Ouvrez l’adresse ci-dessus dans un navigateur, ou scannez le QR code avec un téléphone.
letters-step-2 = Saisissez l’identifiant et le code d’activation, exactement comme ils sont écrits.
letters-step-3 = Choisissez un mot de passe personnel et gardez-le secret.
letters-step-4 = Lisez et acceptez la charte d’utilisation : c’est prêt.
letters-qr = Scannez pour ouvrir la page d’activation
letters-footer = Ce courrier est personnel : ne le partagez pas. En cas de problème, adressez-vous à l’enseignant de la classe ou au directeur de l’école.
letters-document-title = Lettres de connexion — { $class }
letters-about-guardian = Responsable de { $children } ({ $class })
letters-expires = Code valable jusqu’au { $date }, une seule fois
