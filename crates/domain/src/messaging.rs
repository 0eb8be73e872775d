//! Messagerie rules without I/O: folders, sizes, sending limits, the kill switch, reply-all.

use crate::profile::NationalProfile;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;
use uuid::Uuid;

crate::directory::code_enum!(
    /// Where a message shows for one person.
    Folder {
        Inbox => "inbox",
        Sent => "sent",
        Drafts => "drafts",
        Trash => "trash",
    }
);

impl Folder {
    pub fn label_key(self) -> &'static str {
        match self {
            Self::Inbox => "messages-inbox",
            Self::Sent => "messages-sent",
            Self::Drafts => "messages-drafts",
            Self::Trash => "messages-trash",
        }
    }
}

/// Longest subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest body, in bytes of the text as typed.
pub const MAX_BODY_BYTES: usize = 20_000;

/// Why a message cannot go. Each has a key in the i18n catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendRefusal {
    #[error("no recipient")]
    NoRecipient,
    #[error("empty subject")]
    EmptySubject,
    #[error("subject too long")]
    SubjectTooLong,
    #[error("empty body")]
    EmptyBody,
    #[error("body too long")]
    BodyTooLong,
    #[error("recipient not reachable")]
    NotReachable,
    #[error("too many recipients (at most {0})")]
    TooManyRecipients(u32),
    #[error("too many messages this hour (at most {0})")]
    TooManyMessages(u32),
    #[error("sending switched off")]
    Blocked,
    #[error("no reply to a broadcast")]
    BroadcastReply,
}

impl SendRefusal {
    pub fn key(&self) -> &'static str {
        match self {
            Self::NoRecipient => "send-no-recipient",
            Self::EmptySubject => "send-empty-subject",
            Self::SubjectTooLong => "send-subject-too-long",
            Self::EmptyBody => "send-empty-body",
            Self::BodyTooLong => "send-body-too-long",
            Self::NotReachable => "send-not-reachable",
            Self::TooManyRecipients(_) => "send-too-many-recipients",
            Self::TooManyMessages(_) => "send-too-many-messages",
            Self::Blocked => "send-blocked",
            Self::BroadcastReply => "send-broadcast-reply",
        }
    }

    /// The number the message names, if any.
    pub fn limit(&self) -> Option<u32> {
        match self {
            Self::TooManyRecipients(n) | Self::TooManyMessages(n) => Some(*n),
            _ => None,
        }
    }
}

/// Checks what a person typed.
pub fn check_text(subject: &str, body: &str) -> Result<(), SendRefusal> {
    if subject.trim().is_empty() {
        return Err(SendRefusal::EmptySubject);
    }
    if subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(SendRefusal::SubjectTooLong);
    }
    if body.trim().is_empty() {
        return Err(SendRefusal::EmptyBody);
    }
    if body.len() > MAX_BODY_BYTES {
        return Err(SendRefusal::BodyTooLong);
    }
    Ok(())
}

/// How much one person may send: messages per rolling hour, recipients per message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub per_hour: u32,
    pub recipients: u32,
}

/// Limits by profile. Pupils get the lowest: a hijacked pupil account must not be able to
/// reach a school, let alone 130 of them.
pub fn limits_for(profile: NationalProfile) -> Limits {
    use NationalProfile as P;
    match profile {
        P::Eleve => Limits {
            per_hour: 10,
            recipients: 5,
        },
        P::Tuteur => Limits {
            per_hour: 20,
            recipients: 10,
        },
        P::Enseignant | P::VieScolaire | P::Technique | P::Documentaliste => Limits {
            per_hour: 60,
            recipients: 400,
        },
        P::Direction | P::Academique | P::Collectivite => Limits {
            per_hour: 60,
            recipients: 5_000,
        },
    }
}

/// The most generous limits among the profiles a person holds (a teacher who is also a parent
/// writes as a teacher). Someone with no profile gets a guardian's.
pub fn limits_of(profiles: &[(Uuid, NationalProfile)]) -> Limits {
    profiles
        .iter()
        .map(|(_, p)| limits_for(*p))
        .max_by_key(|l| (l.recipients, l.per_hour))
        .unwrap_or(limits_for(NationalProfile::Tuteur))
}

/// Checks a send against the limits, given how many messages the person sent in the last hour.
pub fn check_limits(
    limits: Limits,
    recipients: usize,
    sent_last_hour: u64,
) -> Result<(), SendRefusal> {
    if recipients > limits.recipients as usize {
        return Err(SendRefusal::TooManyRecipients(limits.recipients));
    }
    if sent_last_hour >= u64::from(limits.per_hour) {
        return Err(SendRefusal::TooManyMessages(limits.per_hour));
    }
    Ok(())
}

/// A kill switch: holders of `profile` may not send, in one structure or (`None`) the whole
/// tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    pub structure_id: Option<Uuid>,
    pub profile: NationalProfile,
}

/// Whether the switches silence this person: every profile they hold is covered (a teacher
/// who is also a parent still writes as a teacher when only parents are switched off).
pub fn is_blocked(profiles: &[(Uuid, NationalProfile)], blocks: &[Block]) -> bool {
    !profiles.is_empty()
        && profiles.iter().all(|(s, p)| {
            blocks
                .iter()
                .any(|b| b.profile == *p && b.structure_id.is_none_or(|bs| bs == *s))
        })
}

/// Who a reply-all goes to: the original sender and recipients, less the replier, and only
/// those the replier may reach or who wrote the message. Never anyone new.
pub fn reply_all_recipients(
    sender: Uuid,
    recipients: &[Uuid],
    replier: Uuid,
    reachable: &HashSet<Uuid>,
) -> Vec<Uuid> {
    let mut out = Vec::new();
    for id in std::iter::once(sender).chain(recipients.iter().copied()) {
        if id != replier && (id == sender || reachable.contains(&id)) && !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// A sent message can be recalled by its sender for a while.
pub fn may_recall(sent_at: DateTime<Utc>, now: DateTime<Utc>, window: Duration) -> bool {
    now >= sent_at && now - sent_at <= window
}

/// Largest attached file.
pub const MAX_ATTACHMENT_BYTES: u64 = 10 * 1024 * 1024;
/// Files per message.
pub const MAX_ATTACHMENTS: usize = 5;

/// The content type of an allowed attachment, told by its name and checked against its first
/// bytes (a renamed executable is not a PDF). `None`: not allowed.
pub fn attachment_type(file_name: &str, head: &[u8]) -> Option<&'static str> {
    let ext = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
    let zip = head.starts_with(b"PK\x03\x04");
    let (content_type, ok) = match ext.as_str() {
        "pdf" => ("application/pdf", head.starts_with(b"%PDF-")),
        "png" => ("image/png", head.starts_with(b"\x89PNG\r\n\x1a\n")),
        "jpg" | "jpeg" => ("image/jpeg", head.starts_with(&[0xFF, 0xD8, 0xFF])),
        "gif" => (
            "image/gif",
            head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
        ),
        "webp" => (
            "image/webp",
            head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP",
        ),
        "mp3" => (
            "audio/mpeg",
            head.starts_with(b"ID3") || head.starts_with(&[0xFF, 0xFB]),
        ),
        "m4a" => ("audio/mp4", head.len() >= 8 && &head[4..8] == b"ftyp"),
        "mp4" => ("video/mp4", head.len() >= 8 && &head[4..8] == b"ftyp"),
        "odt" => ("application/vnd.oasis.opendocument.text", zip),
        "ods" => ("application/vnd.oasis.opendocument.spreadsheet", zip),
        "odp" => ("application/vnd.oasis.opendocument.presentation", zip),
        "docx" => (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            zip,
        ),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            zip,
        ),
        "pptx" => (
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            zip,
        ),
        "txt" => ("text/plain; charset=utf-8", is_plain_text(head)),
        _ => return None,
    };
    ok.then_some(content_type)
}

/// Text without markup or binary: valid UTF-8 (a character cut at the end of the sample is
/// fine), no NUL, no `<`.
fn is_plain_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(_) => head.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => return false,
    };
    !head[..valid].contains(&0) && !head[..valid].contains(&b'<')
}

/// A file name safe to show and to send back in a header: no path, no control characters.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(120)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    if trimmed.is_empty() {
        "fichier".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NationalProfile as P;

    #[test]
    fn text_checks() {
        assert_eq!(check_text(" ", "x"), Err(SendRefusal::EmptySubject));
        assert_eq!(check_text("a", "  \n"), Err(SendRefusal::EmptyBody));
        assert_eq!(
            check_text(&"é".repeat(201), "x"),
            Err(SendRefusal::SubjectTooLong)
        );
        assert_eq!(check_text(&"é".repeat(200), "x"), Ok(()));
        assert_eq!(
            check_text("a", &"x".repeat(MAX_BODY_BYTES + 1)),
            Err(SendRefusal::BodyTooLong)
        );
    }

    #[test]
    fn pupils_have_the_lowest_limits_and_a_teacher_parent_writes_as_a_teacher() {
        let s = Uuid::now_v7();
        let pupil = limits_of(&[(s, P::Eleve)]);
        assert!(pupil.recipients < limits_of(&[(s, P::Tuteur)]).recipients);
        let both = limits_of(&[(s, P::Tuteur), (s, P::Enseignant)]);
        assert_eq!(both, limits_for(P::Enseignant));
        assert_eq!(
            check_limits(pupil, 6, 0),
            Err(SendRefusal::TooManyRecipients(5))
        );
        assert_eq!(
            check_limits(pupil, 1, 10),
            Err(SendRefusal::TooManyMessages(10))
        );
        assert_eq!(check_limits(pupil, 5, 9), Ok(()));
    }

    #[test]
    fn kill_switch_covers_every_profile_or_none() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let pupils_everywhere = [Block {
            structure_id: None,
            profile: P::Eleve,
        }];
        assert!(is_blocked(&[(a, P::Eleve)], &pupils_everywhere));
        assert!(!is_blocked(&[(a, P::Tuteur)], &pupils_everywhere));
        let parents_of_a = [Block {
            structure_id: Some(a),
            profile: P::Tuteur,
        }];
        assert!(is_blocked(&[(a, P::Tuteur)], &parents_of_a));
        assert!(!is_blocked(
            &[(a, P::Tuteur), (b, P::Tuteur)],
            &parents_of_a
        ));
        assert!(!is_blocked(
            &[(a, P::Tuteur), (a, P::Enseignant)],
            &parents_of_a
        ));
        assert!(!is_blocked(&[], &pupils_everywhere));
    }

    #[test]
    fn reply_all_never_widens_the_audience() {
        let [sender, me, known, stranger] = [(); 4].map(|_| Uuid::now_v7());
        let reachable: HashSet<Uuid> = [known].into();
        let out = reply_all_recipients(sender, &[me, known, stranger, known], me, &reachable);
        assert_eq!(out, vec![sender, known]);
    }

    #[test]
    fn recall_window() {
        let t = Utc::now();
        let w = Duration::minutes(10);
        assert!(may_recall(t, t + Duration::minutes(9), w));
        assert!(!may_recall(t, t + Duration::minutes(11), w));
    }

    #[test]
    fn attachments_are_told_by_name_and_content() {
        assert_eq!(
            attachment_type("sortie.pdf", b"%PDF-1.7 ..."),
            Some("application/pdf")
        );
        assert_eq!(
            attachment_type("SORTIE.PDF", b"%PDF-1.4"),
            Some("application/pdf")
        );
        assert_eq!(attachment_type("virus.pdf", b"MZ\x90\x00"), None);
        assert_eq!(attachment_type("page.html", b"<html>"), None);
        assert_eq!(attachment_type("image.svg", b"<svg"), None);
        assert_eq!(attachment_type("note.txt", b"<script>"), None);
        assert_eq!(
            attachment_type("note.txt", "Réunion jeudi".as_bytes()),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(
            attachment_type("photo.jpg", &[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(attachment_type("sans-extension", b"%PDF-"), None);
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("C:\\x\\a\"b;.pdf"), "ab.pdf");
        assert_eq!(clean_file_name("..."), "fichier");
    }
}
