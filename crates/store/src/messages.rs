//! Messagerie: messages, their delivered copies, folders, recall, reports, the kill switch.
//! Who may write to whom is decided before calling here (see `communication`).

use crate::db::{RowExt, parse_code};
use crate::error::{StoreError, StoreResult};
use crate::{Db, TenantScope, now};
use chrono::{DateTime, Duration, Utc};
use preau_domain::messaging::{Block, Folder};
use uuid::Uuid;

/// A message about to be sent.
pub struct Outgoing<'a> {
    pub sender: Uuid,
    /// (thread, parent) of a reply.
    pub reply_to: Option<(Uuid, Uuid)>,
    pub subject: &'a str,
    /// Already sanitised.
    pub body_html: &'a str,
    /// The recipients as chosen (ids of people and groups), kept with drafts.
    pub audience: &'a str,
    pub audience_label: &'a str,
    pub broadcast: bool,
    pub recipients: &'a [Uuid],
}

/// Sends a message: the message, one copy per recipient, their notifications and the audit
/// row, in one transaction. A draft being sent is removed in the same transaction.
pub async fn send(
    db: &Db,
    scope: TenantScope,
    out: &Outgoing<'_>,
    draft: Option<Uuid>,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    let at = now();
    let thread = out.reply_to.map_or(id, |(t, _)| t);
    let link = format!("/messages/{id}");
    in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO messages (id, tenant_id, thread_id, parent_id, sender_id, subject, body, audience, audience_label, \
             broadcast, sender_folder, recipient_count, sent_at, recalled_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'sent', $11, $12, NULL, $13)",
        )
        .bind(id)
        .bind(scope.id())
        .bind(thread)
        .bind(out.reply_to.map(|(_, p)| p))
        .bind(out.sender)
        .bind(out.subject)
        .bind(out.body_html)
        .bind(out.audience)
        .bind(out.audience_label)
        .bind(out.broadcast)
        .bind(out.recipients.len() as i64)
        .bind(at)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        if let Some(draft) = draft {
            // The draft's attachments go with the message; then the draft goes.
            sqlx::query(
                "UPDATE message_attachments SET message_id = $1 WHERE message_id = $2 AND tenant_id = $3 \
                 AND EXISTS (SELECT 1 FROM messages d WHERE d.id = $2 AND d.sender_id = $4 AND d.sender_folder = 'drafts')",
            )
            .bind(id)
            .bind(draft)
            .bind(scope.id())
            .bind(out.sender)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "DELETE FROM messages WHERE id = $1 AND sender_id = $2 AND tenant_id = $3 AND sender_folder = 'drafts'",
            )
            .bind(draft)
            .bind(out.sender)
            .bind(scope.id())
            .execute(&mut *tx)
            .await?;
        }
        for chunk in out.recipients.chunks(100) {
            let sql = crate::db::multi_row_sql(
                crate::Backend::Postgres,
                "INSERT INTO message_recipients (message_id, tenant_id, user_id, folder, sent_at, read_at) VALUES",
                6,
                chunk.len(),
                "ON CONFLICT DO NOTHING",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for user in chunk {
                q = q
                    .bind(id)
                    .bind(scope.id())
                    .bind(*user)
                    .bind(Folder::Inbox.code())
                    .bind(at)
                    .bind(None::<DateTime<Utc>>);
            }
            q.execute(&mut *tx).await?;
        }
        notify_in!(
            tx,
            scope.id(),
            out.recipients,
            "message",
            Some(id),
            out.subject,
            &link
        );
        audit_in!(
            tx,
            Some(scope.id()),
            Some(out.sender),
            "message.send",
            Some(id),
            format!("{} destinataires", out.recipients.len())
        );
    });
    Ok(id)
}

/// Saves (or replaces) a draft; returns its id.
/// What a draft holds.
pub struct DraftText<'a> {
    pub subject: &'a str,
    pub body: &'a str,
    /// The recipients as chosen (`u:…`, `g:…`, comma-separated) and as shown.
    pub audience: &'a str,
    pub audience_label: &'a str,
}

pub async fn save_draft(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    draft: Option<Uuid>,
    text: &DraftText<'_>,
) -> StoreResult<Uuid> {
    let id = draft.unwrap_or_else(Uuid::now_v7);
    in_write_tx!(db, |tx| {
        if draft.is_some() {
            let done = sqlx::query(
                "UPDATE messages SET subject = $1, body = $2, audience = $3, created_at = $4, audience_label = $8 \
                 WHERE id = $5 AND sender_id = $6 AND tenant_id = $7 AND sender_folder = 'drafts'",
            )
            .bind(text.subject)
            .bind(text.body)
            .bind(text.audience)
            .bind(now())
            .bind(id)
            .bind(sender)
            .bind(scope.id())
            .bind(text.audience_label)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        } else {
            sqlx::query(
                "INSERT INTO messages (id, tenant_id, thread_id, parent_id, sender_id, subject, body, audience, audience_label, \
                 broadcast, sender_folder, recipient_count, sent_at, recalled_at, created_at) \
                 VALUES ($1, $2, $1, NULL, $3, $4, $5, $6, $8, FALSE, 'drafts', 0, NULL, NULL, $7)",
            )
            .bind(id)
            .bind(scope.id())
            .bind(sender)
            .bind(text.subject)
            .bind(text.body)
            .bind(text.audience)
            .bind(now())
            .bind(text.audience_label)
            .execute(&mut *tx)
            .await?;
        }
    });
    Ok(id)
}

/// A draft as saved: (subject, body as typed, audience).
pub async fn draft(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    id: Uuid,
) -> StoreResult<(String, String, String)> {
    on_read!(db, |c| {
        let r = sqlx::query(
            "SELECT subject, body, audience FROM messages WHERE id = $1 AND sender_id = $2 AND tenant_id = $3 AND sender_folder = 'drafts'",
        )
        .bind(id)
        .bind(sender)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok((r.text("subject")?, r.text("body")?, r.text("audience")?))
    })
}

/// Messages sent by someone in the last hour (for the sending limit).
pub async fn sent_since(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    since: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT COUNT(*) AS n FROM messages WHERE sender_id = $1 AND tenant_id = $2 AND sent_at > $3",
        )
        .bind(sender)
        .bind(scope.id())
        .bind(since)
        .fetch_one(c)
        .await?
        .int("n")? as u64
    }))
}

/// One line of a folder.
#[derive(Clone, Debug)]
pub struct Summary {
    pub id: Uuid,
    pub subject: String,
    /// The sender (inbox, trash) or the recipients (sent, drafts).
    pub counterpart: String,
    pub at: DateTime<Utc>,
    pub unread: bool,
    pub broadcast: bool,
}

/// A page of a folder, newest first.
pub async fn folder(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    folder: Folder,
    limit: i64,
    before: Option<(DateTime<Utc>, Uuid)>,
) -> StoreResult<Vec<Summary>> {
    let rows = match folder {
        // The inbox holds only delivered copies: one indexed range, newest first.
        Folder::Inbox => {
            "SELECT m.id, m.subject, u.first_name || ' ' || u.last_name AS counterpart, r.sent_at AS at, \
                    r.read_at IS NULL AS unread, m.broadcast \
             FROM message_recipients r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = m.sender_id \
             WHERE r.user_id = $1 AND r.tenant_id = $2 AND r.folder = $3 AND m.recalled_at IS NULL"
        }
        Folder::Trash => {
            "SELECT m.id, m.subject, u.first_name || ' ' || u.last_name AS counterpart, r.sent_at AS at, \
                    r.read_at IS NULL AS unread, m.broadcast \
             FROM message_recipients r JOIN messages m ON m.id = r.message_id JOIN users u ON u.id = m.sender_id \
             WHERE r.user_id = $1 AND r.tenant_id = $2 AND r.folder = $3 AND m.recalled_at IS NULL \
             UNION ALL \
             SELECT m.id, m.subject, m.audience_label, COALESCE(m.sent_at, m.created_at), FALSE, m.broadcast \
             FROM messages m WHERE m.sender_id = $1 AND m.tenant_id = $2 AND m.sender_folder = $3"
        }
        Folder::Sent | Folder::Drafts => {
            "SELECT m.id, m.subject, m.audience_label AS counterpart, COALESCE(m.sent_at, m.created_at) AS at, \
                    FALSE AS unread, m.broadcast \
             FROM messages m WHERE m.sender_id = $1 AND m.tenant_id = $2 AND m.sender_folder = $3"
        }
    };
    // Older pages start after the last line shown (time, then id for equal times).
    let sql = format!(
        "SELECT f.id, f.subject, f.counterpart, f.at, f.unread, f.broadcast FROM ({rows}) f \
         WHERE ($5 IS NULL OR f.at < $5 OR (f.at = $5 AND f.id < $6)) \
         ORDER BY f.at DESC, f.id DESC LIMIT $4"
    );
    Ok(on_read!(db, |c| {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user)
            .bind(scope.id())
            .bind(folder.code())
            .bind(limit)
            .bind(before.map(|(t, _)| t))
            .bind(before.map(|(_, id)| id))
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| {
                Ok(Summary {
                    id: r.uuid("id")?,
                    subject: r.text("subject")?,
                    counterpart: r.text("counterpart")?,
                    at: r.time("at")?,
                    unread: r.flag("unread")?,
                    broadcast: r.flag("broadcast")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?
    }))
}

/// Unread messages in the inbox.
pub async fn unread_count(db: &Db, scope: TenantScope, user: Uuid) -> StoreResult<i64> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT COUNT(*) AS n FROM message_recipients r JOIN messages m ON m.id = r.message_id \
             WHERE r.user_id = $1 AND r.tenant_id = $2 AND r.folder = 'inbox' AND r.read_at IS NULL AND m.recalled_at IS NULL",
        )
        .bind(user)
        .bind(scope.id())
        .fetch_one(c)
        .await?
        .int("n")?
    }))
}

/// A message as one reader may see it.
#[derive(Clone, Debug)]
pub struct Message {
    pub id: Uuid,
    pub thread_id: Uuid,
    pub sender_id: Uuid,
    pub sender_name: String,
    pub subject: String,
    pub body_html: String,
    pub audience_label: String,
    pub broadcast: bool,
    pub sent_at: DateTime<Utc>,
    /// The reader wrote it.
    pub mine: bool,
    pub recalled: bool,
    pub recipient_count: i64,
}

const MESSAGE_COLUMNS: &str = "m.id, m.thread_id, m.sender_id, u.first_name || ' ' || u.last_name AS sender_name, m.subject, \
     m.body, m.audience_label, m.broadcast, m.sent_at, m.recalled_at, m.recipient_count";

/// The messages of a thread the reader may see (sent by them, or delivered to them and not
/// recalled), oldest first. Empty when the reader has none: the caller answers "not found".
pub async fn thread(
    db: &Db,
    scope: TenantScope,
    reader: Uuid,
    thread_id: Uuid,
) -> StoreResult<Vec<Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m JOIN users u ON u.id = m.sender_id \
         WHERE m.thread_id = $1 AND m.tenant_id = $2 AND m.sent_at IS NOT NULL AND ( \
           (m.sender_id = $3 AND m.sender_folder <> 'gone') OR \
           (m.recalled_at IS NULL AND EXISTS (SELECT 1 FROM message_recipients r \
              WHERE r.message_id = m.id AND r.user_id = $3 AND r.folder <> 'gone'))) \
         ORDER BY m.sent_at, m.id"
    );
    let rows = on_read!(db, |c| {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(thread_id)
            .bind(scope.id())
            .bind(reader)
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| {
                Ok(Message {
                    id: r.uuid("id")?,
                    thread_id: r.uuid("thread_id")?,
                    sender_id: r.uuid("sender_id")?,
                    sender_name: r.text("sender_name")?,
                    subject: r.text("subject")?,
                    body_html: r.text("body")?,
                    audience_label: r.text("audience_label")?,
                    broadcast: r.flag("broadcast")?,
                    sent_at: r.time("sent_at")?,
                    mine: r.uuid("sender_id")? == reader,
                    recalled: r.opt_time("recalled_at")?.is_some(),
                    recipient_count: r.int("recipient_count")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?
    });
    Ok(rows)
}

/// Who a message was delivered to (for reply-all).
pub async fn recipients(db: &Db, scope: TenantScope, message: Uuid) -> StoreResult<Vec<Uuid>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT user_id FROM message_recipients WHERE message_id = $1 AND tenant_id = $2",
        )
        .bind(message)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| r.uuid("user_id"))
        .collect()
    })
}

/// The thread a message belongs to, if the reader may see the message.
pub async fn thread_of(
    db: &Db,
    scope: TenantScope,
    reader: Uuid,
    message: Uuid,
) -> StoreResult<Uuid> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT m.thread_id FROM messages m WHERE m.id = $1 AND m.tenant_id = $2 AND m.sent_at IS NOT NULL AND ( \
               (m.sender_id = $3 AND m.sender_folder <> 'gone') OR \
               (m.recalled_at IS NULL AND EXISTS (SELECT 1 FROM message_recipients r \
                  WHERE r.message_id = m.id AND r.user_id = $3 AND r.folder <> 'gone')))",
        )
        .bind(message)
        .bind(scope.id())
        .bind(reader)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)?
        .uuid("thread_id")
    })
}

/// Marks a thread's copies read for the reader, and the notifications about them.
pub async fn mark_thread_read(
    db: &Db,
    scope: TenantScope,
    reader: Uuid,
    thread_id: Uuid,
) -> StoreResult<()> {
    let at = now();
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE message_recipients SET read_at = $1 WHERE user_id = $2 AND tenant_id = $3 AND read_at IS NULL \
             AND message_id IN (SELECT id FROM messages WHERE thread_id = $4)",
        )
        .bind(at)
        .bind(reader)
        .bind(scope.id())
        .bind(thread_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND tenant_id = $3 AND read_at IS NULL \
             AND subject_id IN (SELECT id FROM messages WHERE thread_id = $4)",
        )
        .bind(at)
        .bind(reader)
        .bind(scope.id())
        .bind(thread_id)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

/// Moves the reader's copy (or their sent message or draft) to a folder: `Trash`, back to
/// where it came from (`Inbox` restores), or away for good (`None`).
pub async fn move_to(
    db: &Db,
    scope: TenantScope,
    reader: Uuid,
    message: Uuid,
    to: Option<Folder>,
) -> StoreResult<Vec<Uuid>> {
    let files = in_write_tx!(db, |tx| {
        let copy = match to {
            Some(Folder::Trash) => "trash",
            Some(_) => "inbox",
            None => "gone",
        };
        let own = match to {
            Some(Folder::Trash) => "trash",
            Some(_) => "sent",
            None => "gone",
        };
        let a = sqlx::query(
            "UPDATE message_recipients SET folder = $1 WHERE message_id = $2 AND user_id = $3 AND tenant_id = $4 AND folder <> 'gone'",
        )
        .bind(copy)
        .bind(message)
        .bind(reader)
        .bind(scope.id())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // A draft thrown away is deleted (its files with it); a sent message changes folder.
        let discarding = to == Some(Folder::Trash) || to.is_none();
        let files: Vec<Uuid> = if discarding {
            sqlx::query(
                "SELECT a.id FROM message_attachments a JOIN messages m ON m.id = a.message_id \
                 WHERE m.id = $1 AND m.sender_id = $2 AND m.tenant_id = $3 AND m.sender_folder = 'drafts'",
            )
            .bind(message)
            .bind(reader)
            .bind(scope.id())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.uuid("id"))
            .collect::<StoreResult<_>>()?
        } else {
            Vec::new()
        };
        let b = if discarding {
            sqlx::query(
                "DELETE FROM messages WHERE id = $1 AND sender_id = $2 AND tenant_id = $3 AND sender_folder = 'drafts'",
            )
            .bind(message)
            .bind(reader)
            .bind(scope.id())
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            0
        };
        let c = sqlx::query(
            "UPDATE messages SET sender_folder = $1 WHERE id = $2 AND sender_id = $3 AND tenant_id = $4 \
             AND sender_folder IN ('sent', 'trash')",
        )
        .bind(own)
        .bind(message)
        .bind(reader)
        .bind(scope.id())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if a + b + c == 0 {
            return Err(StoreError::NotFound);
        }
        // Put away unread: its notification is no longer news.
        if discarding {
            sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND subject_id = $3 AND read_at IS NULL")
                .bind(now())
                .bind(reader)
                .bind(message)
                .execute(&mut *tx)
                .await?;
        }
        files
    });
    Ok(files)
}

/// Recalls a sent message within the window: recipients no longer see it nor its
/// notification. Returns false when the window has passed.
pub async fn recall(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    message: Uuid,
    window: Duration,
) -> StoreResult<bool> {
    let at = now();
    in_write_tx!(db, |tx| {
        let sent_at = sqlx::query(
            "SELECT sent_at FROM messages WHERE id = $1 AND sender_id = $2 AND tenant_id = $3 AND recalled_at IS NULL AND sent_at IS NOT NULL",
        )
        .bind(message)
        .bind(sender)
        .bind(scope.id())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?
        .time("sent_at")?;
        if !preau_domain::messaging::may_recall(sent_at, at, window) {
            return Ok(false);
        }
        sqlx::query("UPDATE messages SET recalled_at = $1 WHERE id = $2")
            .bind(at)
            .bind(message)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM notifications WHERE subject_id = $1 AND tenant_id = $2")
            .bind(message)
            .bind(scope.id())
            .execute(&mut *tx)
            .await?;
        audit_in!(
            tx,
            Some(scope.id()),
            Some(sender),
            "message.recall",
            Some(message),
            String::new()
        );
    });
    Ok(true)
}

/// A reader reports a message delivered to them; the directeurs of the sender's school see it.
pub async fn report(
    db: &Db,
    scope: TenantScope,
    reader: Uuid,
    message: Uuid,
    reason: &str,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        let sender = sqlx::query(
            "SELECT m.sender_id FROM messages m JOIN message_recipients r ON r.message_id = m.id \
             WHERE m.id = $1 AND m.tenant_id = $2 AND r.user_id = $3",
        )
        .bind(message)
        .bind(scope.id())
        .bind(reader)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?
        .uuid("sender_id")?;
        // The school the reporter and the sender share, else the sender's (else none: the
        // tenant's administrators see it).
        let structure = sqlx::query(
            "SELECT p.structure_id FROM user_profiles p JOIN structures s ON s.id = p.structure_id \
             WHERE p.user_id = $1 AND s.kind IN ('ecole_maternelle', 'ecole_elementaire', 'ecole_primaire', 'college') \
             ORDER BY CASE WHEN EXISTS (SELECT 1 FROM user_profiles q WHERE q.user_id = $2 AND q.structure_id = p.structure_id) \
                      THEN 0 ELSE 1 END, p.structure_id LIMIT 1",
        )
        .bind(sender)
        .bind(reader)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.uuid("structure_id"))
        .transpose()?;
        sqlx::query(
            "INSERT INTO message_reports (id, tenant_id, message_id, reporter_id, structure_id, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(Uuid::now_v7())
        .bind(scope.id())
        .bind(message)
        .bind(reader)
        .bind(structure)
        .bind(reason)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        audit_in!(
            tx,
            Some(scope.id()),
            Some(reader),
            "message.report",
            Some(message),
            reason.to_owned()
        );
    });
    Ok(())
}

/// A report waiting for a directeur.
#[derive(Clone, Debug)]
pub struct Report {
    pub id: Uuid,
    pub message_id: Uuid,
    pub subject: String,
    pub body_html: String,
    pub sender_name: String,
    pub reporter_name: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Open reports of the given schools, newest first.
pub async fn open_reports(
    db: &Db,
    scope: TenantScope,
    structures: &[Uuid],
    with_unplaced: bool,
) -> StoreResult<Vec<Report>> {
    let mut out = Vec::new();
    let mut places: Vec<Option<Uuid>> = structures.iter().copied().map(Some).collect();
    if with_unplaced {
        places.push(None);
    }
    for s in &places {
        let rows = on_read!(db, |c| {
            sqlx::query(
                "SELECT x.id, x.message_id, m.subject, m.body, su.first_name || ' ' || su.last_name AS sender_name, \
                        ru.first_name || ' ' || ru.last_name AS reporter_name, x.reason, x.created_at \
                 FROM message_reports x JOIN messages m ON m.id = x.message_id \
                 JOIN users su ON su.id = m.sender_id JOIN users ru ON ru.id = x.reporter_id \
                 WHERE (x.structure_id = $1 OR ($1 IS NULL AND x.structure_id IS NULL)) \
                   AND x.tenant_id = $2 AND x.resolved_at IS NULL ORDER BY x.created_at DESC",
            )
            .bind(s)
            .bind(scope.id())
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| {
                Ok(Report {
                    id: r.uuid("id")?,
                    message_id: r.uuid("message_id")?,
                    subject: r.text("subject")?,
                    body_html: r.text("body")?,
                    sender_name: r.text("sender_name")?,
                    reporter_name: r.text("reporter_name")?,
                    reason: r.text("reason")?,
                    at: r.time("created_at")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// Closes a report of one of the given schools.
pub async fn resolve_report(
    db: &Db,
    scope: TenantScope,
    structures: &[Uuid],
    with_unplaced: bool,
    report: Uuid,
    by: Uuid,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        let structure = sqlx::query(
            "SELECT structure_id FROM message_reports WHERE id = $1 AND tenant_id = $2",
        )
        .bind(report)
        .bind(scope.id())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?
        .opt_uuid("structure_id")?;
        let allowed = match structure {
            Some(s) => structures.contains(&s),
            None => with_unplaced,
        };
        if !allowed {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE message_reports SET resolved_at = $1, resolved_by = $2 WHERE id = $3")
            .bind(now())
            .bind(by)
            .bind(report)
            .execute(&mut *tx)
            .await?;
        audit_in!(
            tx,
            Some(scope.id()),
            Some(by),
            "message.report_resolved",
            Some(report),
            String::new()
        );
    });
    Ok(())
}

/// The kill switches of a tenant.
pub async fn blocks(db: &Db, scope: TenantScope) -> StoreResult<Vec<(Uuid, Block)>> {
    on_read!(db, |c| {
        sqlx::query("SELECT id, structure_id, profile FROM messaging_blocks WHERE tenant_id = $1 ORDER BY created_at")
            .bind(scope.id())
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.uuid("id")?,
                    Block {
                        structure_id: r.opt_uuid("structure_id")?,
                        profile: parse_code(&r.text("profile")?)?,
                    },
                ))
            })
            .collect()
    })
}

/// Flips a kill switch on.
pub async fn add_block(db: &Db, scope: TenantScope, block: Block, by: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        if let Some(s) = block.structure_id {
            ensure_in_tenant!(tx, scope, "structures", s);
        }
        sqlx::query(
            "INSERT INTO messaging_blocks (id, tenant_id, structure_id, profile, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(Uuid::now_v7())
        .bind(scope.id())
        .bind(block.structure_id)
        .bind(block.profile.code())
        .bind(by)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        audit_in!(
            tx,
            Some(scope.id()),
            Some(by),
            "messaging.block",
            block.structure_id,
            block.profile.code().to_owned()
        );
    });
    Ok(())
}

/// Flips a kill switch off.
pub async fn remove_block(db: &Db, scope: TenantScope, id: Uuid, by: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        let done = sqlx::query("DELETE FROM messaging_blocks WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(scope.id())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        audit_in!(
            tx,
            Some(scope.id()),
            Some(by),
            "messaging.unblock",
            Some(id),
            String::new()
        );
    });
    Ok(())
}

/// Tells the directeurs of the sender's schools (and the audit log, which operators watch)
/// that an account hit its sending limit; at most once an hour per account.
pub async fn alert_abnormal_sending(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    detail: &str,
) -> StoreResult<bool> {
    let since = now() - Duration::hours(1);
    in_write_tx!(db, |tx| {
        let recent = sqlx::query(
            "SELECT 1 AS x FROM audit_log WHERE tenant_id = $1 AND actor_id = $2 AND action = 'message.flood' AND at > $3",
        )
        .bind(scope.id())
        .bind(sender)
        .bind(since)
        .fetch_optional(&mut *tx)
        .await?;
        if recent.is_some() {
            return Ok(false);
        }
        let directeurs: Vec<Uuid> = sqlx::query(
            "SELECT DISTINCT f.user_id FROM user_profiles p JOIN user_functions f ON f.structure_id = p.structure_id \
             WHERE p.user_id = $1 AND p.tenant_id = $2 AND f.function = 'directeur'",
        )
        .bind(sender)
        .bind(scope.id())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.uuid("user_id"))
        .collect::<StoreResult<_>>()?;
        let name =
            sqlx::query("SELECT first_name || ' ' || last_name AS n FROM users WHERE id = $1")
                .bind(sender)
                .fetch_one(&mut *tx)
                .await?
                .text("n")?;
        let summary = format!("{name} — {detail}");
        notify_in!(
            tx,
            scope.id(),
            &directeurs,
            "message_flood",
            Some(sender),
            &summary,
            "/admin/messagerie"
        );
        audit_in!(
            tx,
            Some(scope.id()),
            Some(sender),
            "message.flood",
            Some(sender),
            detail.to_owned()
        );
    });
    tracing::warn!(tenant = %scope.id(), user = %sender, detail, "abnormal sending");
    Ok(true)
}

/// A file attached to a message.
#[derive(Clone, Debug)]
pub struct Attachment {
    pub id: Uuid,
    pub message_id: Uuid,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
}

fn attachment_of(r: &impl RowExt) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: r.uuid("id")?,
        message_id: r.uuid("message_id")?,
        file_name: r.text("file_name")?,
        content_type: r.text("content_type")?,
        size: r.int("size")?,
    })
}

/// Records a file (already written under its id) on one of the sender's drafts.
pub async fn attach_to_draft(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    draft: Uuid,
    a: &Attachment,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("SELECT id FROM messages WHERE id = $1 AND sender_id = $2 AND tenant_id = $3 AND sender_folder = 'drafts'")
            .bind(draft)
            .bind(sender)
            .bind(scope.id())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "INSERT INTO message_attachments (id, tenant_id, message_id, file_name, content_type, size, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a.id)
        .bind(scope.id())
        .bind(draft)
        .bind(&a.file_name)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

/// Attachments of messages, by message.
pub async fn attachments(
    db: &Db,
    scope: TenantScope,
    message_ids: &[Uuid],
) -> StoreResult<Vec<Attachment>> {
    let mut out = Vec::new();
    for m in message_ids {
        let rows = on_read!(db, |c| {
            sqlx::query(
                "SELECT id, message_id, file_name, content_type, size FROM message_attachments \
                 WHERE message_id = $1 AND tenant_id = $2 ORDER BY created_at, id",
            )
            .bind(m)
            .bind(scope.id())
            .fetch_all(c)
            .await?
            .iter()
            .map(attachment_of)
            .collect::<StoreResult<Vec<_>>>()?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// Attachments of one of the sender's drafts (nobody else's).
pub async fn draft_attachments(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    draft: Uuid,
) -> StoreResult<Vec<Attachment>> {
    on_read!(db, |c| {
        sqlx::query(
            "SELECT a.id, a.message_id, a.file_name, a.content_type, a.size FROM message_attachments a \
             JOIN messages m ON m.id = a.message_id \
             WHERE a.message_id = $1 AND a.tenant_id = $2 AND m.sender_id = $3 AND m.sender_folder = 'drafts' \
             ORDER BY a.created_at, a.id",
        )
        .bind(draft)
        .bind(scope.id())
        .bind(sender)
        .fetch_all(c)
        .await?
        .iter()
        .map(attachment_of)
        .collect()
    })
}

/// Whether `draft` is one of the sender's drafts.
pub async fn owns_draft(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    draft: Uuid,
) -> StoreResult<bool> {
    Ok(on_read!(db, |c| {
        sqlx::query("SELECT 1 AS x FROM messages WHERE id = $1 AND tenant_id = $2 AND sender_id = $3 AND sender_folder = 'drafts'")
            .bind(draft)
            .bind(scope.id())
            .bind(sender)
            .fetch_optional(c)
            .await?
            .is_some()
    }))
}

/// An attachment the reader may download: of a message they sent or received (not recalled,
/// not deleted), or of their own draft.
pub async fn readable_attachment(
    db: &Db,
    scope: TenantScope,
    reader: Uuid,
    id: Uuid,
) -> StoreResult<Attachment> {
    on_read!(db, |c| {
        let r = sqlx::query(
            "SELECT a.id, a.message_id, a.file_name, a.content_type, a.size FROM message_attachments a \
             JOIN messages m ON m.id = a.message_id \
             WHERE a.id = $1 AND a.tenant_id = $2 AND ( \
               (m.sender_id = $3 AND m.sender_folder <> 'gone') OR \
               (m.recalled_at IS NULL AND EXISTS (SELECT 1 FROM message_recipients r \
                  WHERE r.message_id = m.id AND r.user_id = $3 AND r.folder <> 'gone')))",
        )
        .bind(id)
        .bind(scope.id())
        .bind(reader)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)?;
        attachment_of(&r)
    })
}

/// Removes an attachment from one of the sender's drafts; returns its id for the file.
pub async fn detach_from_draft(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    id: Uuid,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        let done = sqlx::query(
            "DELETE FROM message_attachments WHERE id = $1 AND tenant_id = $2 AND message_id IN \
             (SELECT id FROM messages WHERE sender_id = $3 AND sender_folder = 'drafts')",
        )
        .bind(id)
        .bind(scope.id())
        .bind(sender)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
    });
    Ok(())
}
