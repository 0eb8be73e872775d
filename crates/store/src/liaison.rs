//! Cahier de liaison: mots, the pupils they are addressed to (fixed when posted), "vu" per
//! child and guardian, private replies, edit history, reminders and attachments. Who may
//! post to which classes is decided before calling here (see `web::liaison`).

use crate::db::{RowExt, parse_code};
use crate::error::{StoreError, StoreResult};
use crate::{Db, TenantScope, now};
use chrono::{DateTime, Duration, Utc};
use preau_domain::liaison::Audience;
use uuid::Uuid;

/// The job that notifies a mot's families once it is published.
pub const PUBLISH_JOB: &str = "liaison_publish";

/// A file kept with a mot.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub id: Uuid,
    pub mot_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

/// A mot about to be posted.
pub struct NewMot<'a> {
    pub structure_id: Uuid,
    pub author_id: Uuid,
    pub title: &'a str,
    pub body: &'a str,
    pub language: &'a str,
    pub audience: Audience,
    /// The classes addressed (every current class of the school for `School`).
    pub class_ids: &'a [Uuid],
    /// The pupils chosen one by one (`Pupils` only), all in `class_ids`.
    pub pupil_ids: &'a [Uuid],
    pub signature_required: bool,
    pub replies_allowed: bool,
    pub urgent: bool,
    pub publish_at: DateTime<Utc>,
    pub attachments: &'a [Attachment],
}

#[derive(Clone, Debug)]
pub struct Mot {
    pub id: Uuid,
    pub structure_id: Uuid,
    pub structure_name: String,
    pub author_id: Option<Uuid>,
    pub author_name: String,
    pub title: String,
    pub body: String,
    pub language: String,
    pub audience: Audience,
    pub signature_required: bool,
    pub replies_allowed: bool,
    pub urgent: bool,
    pub publish_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub reminded_at: Option<DateTime<Utc>>,
}

impl Mot {
    pub fn published(&self) -> bool {
        self.publish_at <= now()
    }
}

const MOT_COLUMNS: &str = "m.id, m.structure_id, s.name AS structure_name, m.author_id, \
     COALESCE(a.first_name || ' ' || a.last_name, '') AS author_name, m.title, m.body, m.language, \
     m.audience, m.signature_required, m.replies_allowed, m.urgent, m.publish_at, m.edited_at, m.reminded_at";

const MOT_FROM: &str = "liaison_mots m JOIN structures s ON s.id = m.structure_id \
     LEFT JOIN users a ON a.id = m.author_id";

fn mot_of(r: &impl RowExt) -> StoreResult<Mot> {
    Ok(Mot {
        id: r.uuid("id")?,
        structure_id: r.uuid("structure_id")?,
        structure_name: r.text("structure_name")?,
        author_id: r.opt_uuid("author_id")?,
        author_name: r.text("author_name")?,
        title: r.text("title")?,
        body: r.text("body")?,
        language: r.text("language")?,
        audience: parse_code(&r.text("audience")?)?,
        signature_required: r.flag("signature_required")?,
        replies_allowed: r.flag("replies_allowed")?,
        urgent: r.flag("urgent")?,
        publish_at: r.time("publish_at")?,
        edited_at: r.opt_time("edited_at")?,
        reminded_at: r.opt_time("reminded_at")?,
    })
}

/// Posts a mot: the mot, its classes, its pupils, its attachments and the job that will
/// notify the families at publication, in one transaction.
pub async fn post(db: &Db, scope: TenantScope, mot: &NewMot<'_>) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    let at = now();
    let tenant = scope.id();
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "structures", mot.structure_id);
        sqlx::query(
            "INSERT INTO liaison_mots (id, tenant_id, structure_id, author_id, title, body, language, audience, \
             signature_required, replies_allowed, urgent, publish_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(id)
        .bind(tenant)
        .bind(mot.structure_id)
        .bind(mot.author_id)
        .bind(mot.title.trim())
        .bind(mot.body.trim())
        .bind(mot.language)
        .bind(mot.audience.code())
        .bind(mot.signature_required)
        .bind(mot.replies_allowed)
        .bind(mot.urgent)
        .bind(chrono::SubsecRound::trunc_subsecs(mot.publish_at, 0))
        .bind(at)
        .execute(&mut *tx)
        .await?;
        for class in mot.class_ids {
            // Only classes of the mot's own school, still current.
            let added = sqlx::query(
                "INSERT INTO liaison_mot_classes (mot_id, tenant_id, class_id) \
                 SELECT $1, $2, c.id FROM classes c WHERE c.id = $3 AND c.tenant_id = $2 \
                 AND c.structure_id = $4 AND c.archived_at IS NULL",
            )
            .bind(id)
            .bind(tenant)
            .bind(*class)
            .bind(mot.structure_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 0 {
                return Err(StoreError::NotFound);
            }
            if mot.audience != Audience::Pupils {
                sqlx::query(
                    "INSERT INTO liaison_recipients (mot_id, tenant_id, pupil_id, class_id) \
                     SELECT $1, $2, cm.user_id, cm.class_id FROM class_members cm \
                     JOIN users u ON u.id = cm.user_id \
                     WHERE cm.class_id = $3 AND cm.role = 'eleve' AND u.detached_at IS NULL \
                     ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(tenant)
                .bind(*class)
                .execute(&mut *tx)
                .await?;
            }
        }
        for pupil in mot.pupil_ids {
            let added = sqlx::query(
                "INSERT INTO liaison_recipients (mot_id, tenant_id, pupil_id, class_id) \
                 SELECT $1, $2, cm.user_id, cm.class_id FROM class_members cm \
                 JOIN liaison_mot_classes mc ON mc.class_id = cm.class_id AND mc.mot_id = $1 \
                 WHERE cm.user_id = $3 AND cm.role = 'eleve' ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(tenant)
            .bind(*pupil)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 0 {
                return Err(StoreError::NotFound);
            }
        }
        for a in mot.attachments {
            sqlx::query(
                "INSERT INTO liaison_attachments (id, tenant_id, mot_id, file_name, content_type, size) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(a.id)
            .bind(tenant)
            .bind(id)
            .bind(&a.file_name)
            .bind(&a.content_type)
            .bind(a.size)
            .execute(&mut *tx)
            .await?;
        }
        let payload = format!("{{\"mot\":\"{id}\"}}");
        enqueue_in!(
            tx,
            Some(tenant),
            PUBLISH_JOB,
            payload.as_str(),
            mot.publish_at
        );
        audit_in!(
            tx,
            tenant,
            mot.author_id,
            "liaison.post",
            Some(id),
            mot.title.trim()
        );
    });
    Ok(id)
}

/// Urgent mots an author posted over the last day (each may send SMS).
pub async fn urgent_posted_since(
    db: &Db,
    scope: TenantScope,
    author: Uuid,
    since: DateTime<Utc>,
) -> StoreResult<i64> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT COUNT(*) AS n FROM liaison_mots WHERE author_id = $1 AND tenant_id = $2 \
             AND urgent AND created_at >= $3",
        )
        .bind(author)
        .bind(scope.id())
        .bind(since)
        .fetch_one(c)
        .await?
        .int("n")?
    }))
}

pub async fn get(db: &Db, scope: TenantScope, id: Uuid) -> StoreResult<Mot> {
    on_read!(db, |c| {
        let sql =
            format!("SELECT {MOT_COLUMNS} FROM {MOT_FROM} WHERE m.id = $1 AND m.tenant_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(scope.id())
            .fetch_optional(c)
            .await?
            .map(|r| mot_of(&r))
            .transpose()?
            .ok_or(StoreError::NotFound)
    })
}

/// The classes a mot was addressed to: (id, name).
pub async fn classes_of(
    db: &Db,
    scope: TenantScope,
    mot: Uuid,
) -> StoreResult<Vec<(Uuid, String)>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT c.id, c.name FROM liaison_mot_classes mc JOIN classes c ON c.id = mc.class_id \
             WHERE mc.mot_id = $1 AND mc.tenant_id = $2 ORDER BY c.name",
        )
        .bind(mot)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| Ok((r.uuid("id")?, r.text("name")?)))
        .collect()
    })
}

/// One mot as a family sees it, for one child.
#[derive(Clone, Debug)]
pub struct ForChild {
    pub mot: Mot,
    pub pupil_id: Uuid,
    /// When I said "vu" for this child.
    pub my_ack: Option<DateTime<Utc>>,
    /// "Vu" by any of the child's guardians.
    pub acks: i64,
}

/// Published mots addressed to any of `pupils`, newest first: one line per (mot, pupil).
pub async fn for_pupils(
    db: &Db,
    scope: TenantScope,
    pupils: &[Uuid],
    viewer: Uuid,
    limit: i64,
) -> StoreResult<Vec<ForChild>> {
    if pupils.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..pupils.len()).map(|i| format!("${}", i + 5)).collect();
    let sql = format!(
        "SELECT {MOT_COLUMNS}, r.pupil_id, \
         (SELECT k.at FROM liaison_acks k WHERE k.mot_id = m.id AND k.pupil_id = r.pupil_id AND k.guardian_id = $1) AS my_ack, \
         (SELECT COUNT(*) FROM liaison_acks k WHERE k.mot_id = m.id AND k.pupil_id = r.pupil_id) AS acks \
         FROM liaison_recipients r JOIN liaison_mots m ON m.id = r.mot_id \
         JOIN structures s ON s.id = m.structure_id LEFT JOIN users a ON a.id = m.author_id \
         WHERE r.tenant_id = $2 AND m.publish_at <= $3 AND r.pupil_id IN ({}) \
         ORDER BY m.publish_at DESC, m.id DESC LIMIT $4",
        marks.join(", ")
    );
    on_read!(db, |c| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(viewer)
            .bind(scope.id())
            .bind(now())
            .bind(limit);
        for p in pupils {
            q = q.bind(*p);
        }
        q.fetch_all(c)
            .await?
            .iter()
            .map(|r| {
                Ok(ForChild {
                    mot: mot_of(r)?,
                    pupil_id: r.uuid("pupil_id")?,
                    my_ack: r.opt_time("my_ack")?,
                    acks: r.int("acks")?,
                })
            })
            .collect()
    })
}

/// A mot in the school's list, with its counts.
#[derive(Clone, Debug)]
pub struct Tracked {
    pub mot: Mot,
    pub pupils: i64,
    pub acknowledged: i64,
    pub replies: i64,
}

/// Mots of these schools (administered) or addressed to these classes (taught), or written
/// by `author`, newest first.
pub async fn for_staff(
    db: &Db,
    scope: TenantScope,
    author: Uuid,
    structures: &[Uuid],
    classes: &[Uuid],
    limit: i64,
) -> StoreResult<Vec<Tracked>> {
    let mut next = 4;
    let mut marks = |n: usize| -> String {
        let list: Vec<String> = (0..n)
            .map(|_| {
                next += 1;
                format!("${next}")
            })
            .collect();
        if list.is_empty() {
            "NULL".to_owned()
        } else {
            list.join(", ")
        }
    };
    let in_structures = marks(structures.len());
    let in_classes = marks(classes.len());
    let sql = format!(
        "SELECT {MOT_COLUMNS}, \
         (SELECT COUNT(*) FROM liaison_recipients r WHERE r.mot_id = m.id) AS pupils, \
         (SELECT COUNT(DISTINCT k.pupil_id) FROM liaison_acks k WHERE k.mot_id = m.id) AS acknowledged, \
         (SELECT COUNT(*) FROM liaison_replies x WHERE x.mot_id = m.id AND x.author_id = x.guardian_id) AS replies \
         FROM {MOT_FROM} WHERE m.tenant_id = $1 AND (m.author_id = $2 OR m.structure_id IN ({in_structures}) \
         OR m.id IN (SELECT mc.mot_id FROM liaison_mot_classes mc WHERE mc.class_id IN ({in_classes}))) \
         AND m.created_at <= $3 ORDER BY m.publish_at DESC, m.id DESC LIMIT $4"
    );
    on_read!(db, |c| {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(scope.id())
            .bind(author)
            .bind(now())
            .bind(limit);
        for s in structures {
            q = q.bind(*s);
        }
        for k in classes {
            q = q.bind(*k);
        }
        q.fetch_all(c)
            .await?
            .iter()
            .map(|r| {
                Ok(Tracked {
                    mot: mot_of(r)?,
                    pupils: r.int("pupils")?,
                    acknowledged: r.int("acknowledged")?,
                    replies: r.int("replies")?,
                })
            })
            .collect()
    })
}

/// Whether `pupil` is among a mot's pupils, and in which class.
pub async fn recipient_class(
    db: &Db,
    scope: TenantScope,
    mot: Uuid,
    pupil: Uuid,
) -> StoreResult<Option<Option<Uuid>>> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT class_id FROM liaison_recipients WHERE mot_id = $1 AND pupil_id = $2 AND tenant_id = $3",
        )
        .bind(mot)
        .bind(pupil)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        .map(|r| r.opt_uuid("class_id"))
        .transpose()?
    }))
}

/// One guardian of one pupil, and whether they said "vu".
#[derive(Clone, Debug)]
pub struct GuardianAck {
    pub id: Uuid,
    pub name: String,
    pub at: Option<DateTime<Utc>>,
    pub replies: i64,
}

/// One pupil of a mot, with their guardians' acknowledgements.
#[derive(Clone, Debug)]
pub struct PupilAck {
    pub pupil_id: Uuid,
    pub name: String,
    pub class_name: String,
    pub guardians: Vec<GuardianAck>,
}

impl PupilAck {
    pub fn acknowledged(&self) -> bool {
        self.guardians.iter().any(|g| g.at.is_some())
    }
}

/// Who has and has not said "vu" for a mot, pupil by pupil (optionally one class).
pub async fn acknowledgements(
    db: &Db,
    scope: TenantScope,
    mot: Uuid,
    class: Option<Uuid>,
) -> StoreResult<Vec<PupilAck>> {
    let rows = on_read!(db, |c| {
        sqlx::query(
            "SELECT r.pupil_id, p.first_name || ' ' || p.last_name AS pupil_name, COALESCE(c.name, '') AS class_name, \
             g.guardian_id, gu.first_name || ' ' || gu.last_name AS guardian_name, k.at, \
             (SELECT COUNT(*) FROM liaison_replies x WHERE x.mot_id = r.mot_id AND x.guardian_id = g.guardian_id \
              AND x.pupil_id = r.pupil_id AND x.author_id = x.guardian_id) AS replies \
             FROM liaison_recipients r JOIN users p ON p.id = r.pupil_id \
             LEFT JOIN classes c ON c.id = r.class_id \
             LEFT JOIN guardianships g ON g.child_id = r.pupil_id \
             LEFT JOIN users gu ON gu.id = g.guardian_id \
             LEFT JOIN liaison_acks k ON k.mot_id = r.mot_id AND k.pupil_id = r.pupil_id AND k.guardian_id = g.guardian_id \
             WHERE r.mot_id = $1 AND r.tenant_id = $2 AND ($3 IS NULL OR r.class_id = $3) \
             ORDER BY class_name, p.last_name, p.first_name, r.pupil_id, gu.last_name, gu.first_name",
        )
        .bind(mot)
        .bind(scope.id())
        .bind(class)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.uuid("pupil_id")?,
                r.text("pupil_name")?,
                r.text("class_name")?,
                r.opt_uuid("guardian_id")?,
                r.opt_text("guardian_name")?,
                r.opt_time("at")?,
                r.int("replies")?,
            ))
        })
        .collect::<StoreResult<Vec<_>>>()?
    });
    let mut out: Vec<PupilAck> = Vec::new();
    for (pupil, name, class_name, guardian, guardian_name, at, replies) in rows {
        if out.last().is_none_or(|p| p.pupil_id != pupil) {
            out.push(PupilAck {
                pupil_id: pupil,
                name,
                class_name,
                guardians: Vec::new(),
            });
        }
        if let (Some(id), Some(name), Some(last)) = (guardian, guardian_name, out.last_mut()) {
            last.guardians.push(GuardianAck {
                id,
                name,
                at,
                replies,
            });
        }
    }
    Ok(out)
}

/// "Vu" by a guardian for one child. `false` when the child is not among the mot's pupils
/// or the mot is not published yet. Saying it twice keeps the first time.
pub async fn acknowledge(
    db: &Db,
    scope: TenantScope,
    mot: Uuid,
    pupil: Uuid,
    guardian: Uuid,
) -> StoreResult<bool> {
    let at = now();
    Ok(in_write_tx!(db, |tx| {
        let added = sqlx::query(
            "INSERT INTO liaison_acks (mot_id, tenant_id, pupil_id, guardian_id, at) \
             SELECT r.mot_id, r.tenant_id, r.pupil_id, $3, $4 FROM liaison_recipients r \
             JOIN liaison_mots m ON m.id = r.mot_id \
             JOIN guardianships g ON g.child_id = r.pupil_id AND g.guardian_id = $3 \
             WHERE r.mot_id = $1 AND r.pupil_id = $2 AND r.tenant_id = $5 AND m.publish_at <= $4 \
             ON CONFLICT DO NOTHING",
        )
        .bind(mot)
        .bind(pupil)
        .bind(guardian)
        .bind(at)
        .bind(scope.id())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added > 0 {
            // What told this guardian about the mot is now read.
            sqlx::query(
                "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND subject_id = $3 AND read_at IS NULL",
            )
            .bind(at)
            .bind(guardian)
            .bind(mot)
            .execute(&mut *tx)
            .await?;
            true
        } else {
            sqlx::query(
                "SELECT 1 AS one FROM liaison_acks WHERE mot_id = $1 AND pupil_id = $2 AND guardian_id = $3",
            )
            .bind(mot)
            .bind(pupil)
            .bind(guardian)
            .fetch_optional(&mut *tx)
            .await?
            .is_some()
        }
    }))
}

#[derive(Clone, Debug)]
pub struct Reply {
    pub id: Uuid,
    pub pupil_id: Uuid,
    pub guardian_id: Uuid,
    pub author_id: Option<Uuid>,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One message of the private exchange between a guardian (about one child) and the school.
pub struct NewReply<'a> {
    pub pupil: Uuid,
    /// The family's side of the exchange.
    pub guardian: Uuid,
    pub author: Uuid,
    pub body: &'a str,
    /// Told of it: the mot's author, or the guardian.
    pub notify: &'a [Uuid],
}

/// Adds to an exchange and tells the other side.
pub async fn add_reply(
    db: &Db,
    scope: TenantScope,
    mot: &Mot,
    reply: &NewReply<'_>,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    let tenant = scope.id();
    let link = format!("/liaison/{}", mot.id);
    in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO liaison_replies (id, tenant_id, mot_id, pupil_id, guardian_id, author_id, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(tenant)
        .bind(mot.id)
        .bind(reply.pupil)
        .bind(reply.guardian)
        .bind(reply.author)
        .bind(reply.body.trim())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let batch = Uuid::now_v7();
        notify_in!(
            tx,
            tenant,
            reply.notify,
            "liaison_reply",
            Some(mot.id),
            mot.title.as_str(),
            link.as_str(),
            batch,
            false,
            Some(mot.structure_id)
        );
    });
    Ok(id)
}

/// Replies on a mot, oldest first: all of them, or one guardian's exchange.
pub async fn replies(
    db: &Db,
    scope: TenantScope,
    mot: Uuid,
    guardian: Option<Uuid>,
) -> StoreResult<Vec<Reply>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT x.id, x.pupil_id, x.guardian_id, x.author_id, \
             COALESCE(u.first_name || ' ' || u.last_name, '') AS author_name, x.body, x.created_at \
             FROM liaison_replies x LEFT JOIN users u ON u.id = x.author_id \
             WHERE x.mot_id = $1 AND x.tenant_id = $2 AND ($3 IS NULL OR x.guardian_id = $3) \
             ORDER BY x.created_at, x.id",
        )
        .bind(mot)
        .bind(scope.id())
        .bind(guardian)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(Reply {
                id: r.uuid("id")?,
                pupil_id: r.uuid("pupil_id")?,
                guardian_id: r.uuid("guardian_id")?,
                author_id: r.opt_uuid("author_id")?,
                author_name: r.text("author_name")?,
                body: r.text("body")?,
                created_at: r.time("created_at")?,
            })
        })
        .collect()
    })
}

/// Reminds the guardians of pupils nobody said "vu" for. Returns how many were reminded,
/// or `None` when the last reminder was too recent.
pub async fn remind(
    db: &Db,
    scope: TenantScope,
    mot: &Mot,
    by: Uuid,
    interval: Duration,
) -> StoreResult<Option<usize>> {
    let at = now();
    let tenant = scope.id();
    let link = format!("/liaison/{}", mot.id);
    Ok(in_write_tx!(db, |tx| {
        let claimed = sqlx::query(
            "UPDATE liaison_mots SET reminded_at = $1 WHERE id = $2 AND tenant_id = $3 \
             AND (reminded_at IS NULL OR reminded_at <= $4)",
        )
        .bind(at)
        .bind(mot.id)
        .bind(tenant)
        .bind(at - interval)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            None
        } else {
            let guardians: Vec<Uuid> = sqlx::query(
                "SELECT DISTINCT g.guardian_id FROM liaison_recipients r \
                 JOIN guardianships g ON g.child_id = r.pupil_id \
                 JOIN users u ON u.id = g.guardian_id AND u.detached_at IS NULL \
                 WHERE r.mot_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM liaison_acks k WHERE k.mot_id = r.mot_id AND k.pupil_id = r.pupil_id)",
            )
            .bind(mot.id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.uuid("guardian_id"))
            .collect::<StoreResult<_>>()?;
            let batch = Uuid::now_v7();
            notify_in!(
                tx,
                tenant,
                &guardians,
                "liaison_reminder",
                Some(mot.id),
                mot.title.as_str(),
                link.as_str(),
                batch,
                mot.urgent,
                Some(mot.structure_id)
            );
            audit_in!(
                tx,
                tenant,
                Some(by),
                "liaison.remind",
                Some(mot.id),
                guardians.len().to_string()
            );
            Some(guardians.len())
        }
    }))
}

/// An earlier version of an edited mot.
#[derive(Clone, Debug)]
pub struct Revision {
    pub title: String,
    pub body: String,
    pub editor_name: String,
    pub replaced_at: DateTime<Utc>,
}

/// Changes a mot's text, keeping the previous one in its history.
pub async fn edit(
    db: &Db,
    scope: TenantScope,
    mot: &Mot,
    editor: Uuid,
    title: &str,
    body: &str,
) -> StoreResult<()> {
    let at = now();
    in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO liaison_revisions (id, tenant_id, mot_id, title, body, edited_by, replaced_at) \
             SELECT $1, tenant_id, id, title, body, $2, $3 FROM liaison_mots WHERE id = $4 AND tenant_id = $5",
        )
        .bind(Uuid::now_v7())
        .bind(editor)
        .bind(at)
        .bind(mot.id)
        .bind(scope.id())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE liaison_mots SET title = $1, body = $2, edited_at = $3 WHERE id = $4 AND tenant_id = $5")
            .bind(title.trim())
            .bind(body.trim())
            .bind(at)
            .bind(mot.id)
            .bind(scope.id())
            .execute(&mut *tx)
            .await?;
        audit_in!(
            tx,
            scope.id(),
            Some(editor),
            "liaison.edit",
            Some(mot.id),
            title.trim()
        );
    });
    Ok(())
}

pub async fn revisions(db: &Db, scope: TenantScope, mot: Uuid) -> StoreResult<Vec<Revision>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT v.title, v.body, COALESCE(u.first_name || ' ' || u.last_name, '') AS editor_name, v.replaced_at \
             FROM liaison_revisions v LEFT JOIN users u ON u.id = v.edited_by \
             WHERE v.mot_id = $1 AND v.tenant_id = $2 ORDER BY v.replaced_at DESC, v.id DESC",
        )
        .bind(mot)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(Revision {
                title: r.text("title")?,
                body: r.text("body")?,
                editor_name: r.text("editor_name")?,
                replaced_at: r.time("replaced_at")?,
            })
        })
        .collect()
    })
}

fn attachment_of(r: &impl RowExt) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: r.uuid("id")?,
        mot_id: r.uuid("mot_id")?,
        file_name: r.text("file_name")?,
        content_type: r.text("content_type")?,
        size: r.int("size")?,
    })
}

pub async fn attachments(db: &Db, scope: TenantScope, mot: Uuid) -> StoreResult<Vec<Attachment>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT id, mot_id, file_name, content_type, size FROM liaison_attachments \
             WHERE mot_id = $1 AND tenant_id = $2 ORDER BY file_name",
        )
        .bind(mot)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(attachment_of)
        .collect()
    })
}

pub async fn attachment(db: &Db, scope: TenantScope, id: Uuid) -> StoreResult<Attachment> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT id, mot_id, file_name, content_type, size FROM liaison_attachments WHERE id = $1 AND tenant_id = $2",
        )
        .bind(id)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        .map(|r| attachment_of(&r))
        .transpose()?
        .ok_or(StoreError::NotFound)
    })
}

/// The publication job: tells the guardians of a mot's pupils, once. Returns how many.
pub async fn notify_families(db: &Db, scope: TenantScope, mot_id: Uuid) -> StoreResult<usize> {
    let mot = get(db, scope, mot_id).await?;
    let tenant = scope.id();
    let link = format!("/liaison/{}", mot.id);
    Ok(in_write_tx!(db, |tx| {
        let done = sqlx::query(
            "SELECT 1 AS one FROM notifications WHERE subject_id = $1 AND kind = 'liaison' LIMIT 1",
        )
        .bind(mot.id)
        .fetch_optional(&mut *tx)
        .await?
        .is_some();
        if done {
            0
        } else {
            let guardians: Vec<Uuid> = sqlx::query(
                "SELECT DISTINCT g.guardian_id FROM liaison_recipients r \
                 JOIN guardianships g ON g.child_id = r.pupil_id \
                 JOIN users u ON u.id = g.guardian_id AND u.detached_at IS NULL AND u.state <> 'disabled' \
                 WHERE r.mot_id = $1",
            )
            .bind(mot.id)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.uuid("guardian_id"))
            .collect::<StoreResult<_>>()?;
            let batch = Uuid::now_v7();
            notify_in!(
                tx,
                tenant,
                &guardians,
                "liaison",
                Some(mot.id),
                mot.title.as_str(),
                link.as_str(),
                batch,
                mot.urgent,
                Some(mot.structure_id)
            );
            guardians.len()
        }
    }))
}
