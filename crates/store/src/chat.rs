//! Instant chat: conversations, their members and messages, read markers, school hours.

use crate::db::RowExt;
use crate::error::{StoreError, StoreResult};
use crate::{Db, TenantScope, now};
use chrono::{DateTime, Utc};
use preau_domain::chat::ChatHours;
use uuid::Uuid;

/// Starts a conversation between `creator` and `others` (already checked as reachable).
pub async fn create(
    db: &Db,
    scope: TenantScope,
    creator: Uuid,
    others: &[Uuid],
    title: &str,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    let at = now();
    in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO chat_conversations (id, tenant_id, created_by, title, last_at, created_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(id)
        .bind(scope.id())
        .bind(creator)
        .bind(title)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        for user in std::iter::once(&creator).chain(others) {
            sqlx::query(
                "INSERT INTO chat_members (conversation_id, tenant_id, user_id, last_read_at) VALUES ($1, $2, $3, NULL) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(scope.id())
            .bind(*user)
            .execute(&mut *tx)
            .await?;
        }
        audit_in!(
            tx,
            Some(scope.id()),
            Some(creator),
            "chat.create",
            Some(id),
            format!("{} personnes", others.len() + 1)
        );
    });
    Ok(id)
}

/// A conversation in a member's list.
#[derive(Clone, Debug)]
pub struct ConversationLine {
    pub id: Uuid,
    pub title: String,
    pub last_at: DateTime<Utc>,
    pub unread: i64,
}

pub async fn conversations(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
) -> StoreResult<Vec<ConversationLine>> {
    let at = now();
    on_read!(db, |c| {
        sqlx::query(
            "SELECT c.id, c.title, c.last_at, \
               (SELECT COUNT(*) FROM chat_messages x WHERE x.conversation_id = c.id AND x.sender_id <> $1 \
                  AND x.visible_at <= $3 AND (m.last_read_at IS NULL OR x.visible_at > m.last_read_at)) AS unread \
             FROM chat_members m JOIN chat_conversations c ON c.id = m.conversation_id \
             WHERE m.user_id = $1 AND m.tenant_id = $2 ORDER BY c.last_at DESC LIMIT 100",
        )
        .bind(user)
        .bind(scope.id())
        .bind(at)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(ConversationLine {
                id: r.uuid("id")?,
                title: r.text("title")?,
                last_at: r.time("last_at")?,
                unread: r.int("unread")?,
            })
        })
        .collect()
    })
}

/// A member of a conversation and where they have read up to.
#[derive(Clone, Debug)]
pub struct Member {
    pub id: Uuid,
    pub name: String,
    pub last_read_at: Option<DateTime<Utc>>,
}

/// The conversation's title and members, if `user` is one of them.
pub async fn conversation(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    id: Uuid,
) -> StoreResult<(String, Vec<Member>)> {
    let (title, members) = on_read!(db, |c| {
        let title = sqlx::query(
            "SELECT c.title FROM chat_conversations c JOIN chat_members m ON m.conversation_id = c.id \
             WHERE c.id = $1 AND c.tenant_id = $2 AND m.user_id = $3",
        )
        .bind(id)
        .bind(scope.id())
        .bind(user)
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)?
        .text("title")?;
        let members = sqlx::query(
            "SELECT u.id, u.first_name || ' ' || u.last_name AS name, m.last_read_at FROM chat_members m \
             JOIN users u ON u.id = m.user_id WHERE m.conversation_id = $1 ORDER BY u.last_name, u.first_name",
        )
        .bind(id)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(Member {
                id: r.uuid("id")?,
                name: r.text("name")?,
                last_read_at: r.opt_time("last_read_at")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        (title, members)
    });
    Ok((title, members))
}

#[derive(Clone, Debug)]
pub struct ChatMessage {
    pub id: Uuid,
    pub sender_id: Uuid,
    pub sender_name: String,
    pub body: String,
    pub visible_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The latest messages of a conversation, oldest first: those already visible, and the
/// reader's own (even while they wait for the school's hours).
pub async fn messages(
    db: &Db,
    scope: TenantScope,
    reader: Uuid,
    id: Uuid,
) -> StoreResult<Vec<ChatMessage>> {
    let at = now();
    on_read!(db, |c| {
        sqlx::query(
            "SELECT x.id, x.sender_id, u.first_name || ' ' || u.last_name AS sender_name, x.body, x.visible_at, x.created_at \
             FROM chat_messages x JOIN users u ON u.id = x.sender_id \
             WHERE x.conversation_id = $1 AND x.tenant_id = $2 AND (x.visible_at <= $3 OR x.sender_id = $4) \
             ORDER BY x.visible_at DESC, x.id DESC LIMIT 200",
        )
        .bind(id)
        .bind(scope.id())
        .bind(at)
        .bind(reader)
        .fetch_all(c)
        .await?
        .iter()
        .rev()
        .map(|r| {
            Ok(ChatMessage {
                id: r.uuid("id")?,
                sender_id: r.uuid("sender_id")?,
                sender_name: r.text("sender_name")?,
                body: r.text("body")?,
                visible_at: r.time("visible_at")?,
                created_at: r.time("created_at")?,
            })
        })
        .collect()
    })
}

/// Posts a message (the caller checked membership and text), visible at `visible_at`.
pub async fn post(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    id: Uuid,
    body: &str,
    visible_at: DateTime<Utc>,
) -> StoreResult<Uuid> {
    let message = Uuid::now_v7();
    let at = now();
    in_write_tx!(db, |tx| {
        sqlx::query(
            "INSERT INTO chat_messages (id, tenant_id, conversation_id, sender_id, body, visible_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(message)
        .bind(scope.id())
        .bind(id)
        .bind(sender)
        .bind(body)
        .bind(visible_at)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE chat_conversations SET last_at = $1 WHERE id = $2")
            .bind(visible_at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE chat_members SET last_read_at = $1 WHERE conversation_id = $2 AND user_id = $3",
        )
        .bind(at)
        .bind(id)
        .bind(sender)
        .execute(&mut *tx)
        .await?;
        audit_in!(
            tx,
            Some(scope.id()),
            Some(sender),
            "chat.send",
            Some(message),
            String::new()
        );
    });
    Ok(message)
}

/// Whether `user` belongs to the conversation.
pub async fn is_member(db: &Db, scope: TenantScope, user: Uuid, id: Uuid) -> StoreResult<bool> {
    Ok(on_read!(db, |c| {
        sqlx::query("SELECT 1 AS x FROM chat_members WHERE conversation_id = $1 AND user_id = $2 AND tenant_id = $3")
            .bind(id)
            .bind(user)
            .bind(scope.id())
            .fetch_optional(c)
            .await?
            .is_some()
    }))
}

pub async fn mark_read(db: &Db, scope: TenantScope, user: Uuid, id: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE chat_members SET last_read_at = $1 WHERE conversation_id = $2 AND user_id = $3 AND tenant_id = $4",
        )
        .bind(now())
        .bind(id)
        .bind(user)
        .bind(scope.id())
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

/// The chat hours of a school.
pub async fn hours(db: &Db, scope: TenantScope, structure_id: Uuid) -> StoreResult<ChatHours> {
    let (opens, closes) = on_read!(db, |c| {
        let r = sqlx::query(
            "SELECT chat_opens, chat_closes FROM structures WHERE id = $1 AND tenant_id = $2",
        )
        .bind(structure_id)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        .ok_or(StoreError::NotFound)?;
        (r.text("chat_opens")?, r.text("chat_closes")?)
    });
    Ok(ChatHours::parse(&opens, &closes).unwrap_or_default())
}

pub async fn set_hours(
    db: &Db,
    scope: TenantScope,
    structure_id: Uuid,
    hours: ChatHours,
    by: Uuid,
) -> StoreResult<()> {
    let (opens, closes) = (
        hours.opens.format("%H:%M").to_string(),
        hours.closes.format("%H:%M").to_string(),
    );
    in_write_tx!(db, |tx| {
        let done = sqlx::query("UPDATE structures SET chat_opens = $1, chat_closes = $2 WHERE id = $3 AND tenant_id = $4")
            .bind(&opens)
            .bind(&closes)
            .bind(structure_id)
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
            "chat.hours",
            Some(structure_id),
            format!("{opens}–{closes}")
        );
    });
    Ok(())
}

/// Chat messages someone wrote since a time (for the sending limit).
pub async fn sent_since(
    db: &Db,
    scope: TenantScope,
    sender: Uuid,
    since: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(on_read!(db, |c| {
        sqlx::query("SELECT COUNT(*) AS n FROM chat_messages WHERE sender_id = $1 AND tenant_id = $2 AND created_at > $3")
            .bind(sender)
            .bind(scope.id())
            .bind(since)
            .fetch_one(c)
            .await?
            .int("n")? as u64
    }))
}

/// Conversations someone started since a time (for the limit on new ones).
pub async fn created_since(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    since: DateTime<Utc>,
) -> StoreResult<u64> {
    Ok(on_read!(db, |c| {
        sqlx::query("SELECT COUNT(*) AS n FROM chat_conversations WHERE created_by = $1 AND tenant_id = $2 AND created_at > $3")
            .bind(user)
            .bind(scope.id())
            .bind(since)
            .fetch_one(c)
            .await?
            .int("n")? as u64
    }))
}
