//! In-app notifications: one row per person and event, read from the badge and the home
//! page. Every service notifies through here (e-mail, push and SMS digests build on it).

use crate::db::{RowExt, parse_code};
use crate::error::StoreResult;
use crate::{Db, TenantScope, now};
use chrono::{DateTime, Duration, Utc};
use preau_domain::notify::{Channel, EmailMode, Topic};
use uuid::Uuid;

/// The job that sends one event's notifications by e-mail, push and SMS.
pub const DELIVERY_JOB: &str = "notify_deliver";

/// Notifies each of `$users` (a slice of ids) of an event, inside a transaction, and
/// enqueues their delivery outside the ENT. The long form names the event's batch, whether
/// it may break families' quiet hours, and whose school's release time applies.
macro_rules! notify_in {
    ($tx:expr, $tenant:expr, $users:expr, $kind:expr, $subject:expr, $summary:expr, $link:expr) => {
        notify_in!($tx, $tenant, $users, $kind, $subject, $summary, $link,
            uuid::Uuid::now_v7(), false, None::<uuid::Uuid>)
    };
    ($tx:expr, $tenant:expr, $users:expr, $kind:expr, $subject:expr, $summary:expr, $link:expr,
     $batch:expr, $urgent:expr, $structure:expr) => {{
        let users: &[Uuid] = $users;
        let at = $crate::now();
        let batch: uuid::Uuid = $batch;
        for chunk in users.chunks(100) {
            let sql = $crate::db::multi_row_sql(
                $crate::Backend::Postgres,
                "INSERT INTO notifications (id, tenant_id, user_id, kind, subject_id, summary, link, created_at, \
                 batch_id, urgent, structure_id) VALUES",
                11,
                chunk.len(),
                "",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for user in chunk {
                q = q
                    .bind(Uuid::now_v7())
                    .bind($tenant)
                    .bind(*user)
                    .bind($kind)
                    .bind($subject)
                    .bind($summary)
                    .bind($link)
                    .bind(at)
                    .bind(batch)
                    .bind($urgent)
                    .bind($structure);
            }
            q.execute(&mut *$tx).await?;
        }
        if !users.is_empty() {
            let payload = format!("{{\"batch\":\"{batch}\"}}");
            enqueue_in!($tx, Some($tenant), $crate::notifications::DELIVERY_JOB, payload.as_str(), at);
        }
    }};
}

#[derive(Clone, Debug)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub summary: String,
    pub link: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

pub async fn unread_count(db: &Db, scope: TenantScope, user: Uuid) -> StoreResult<i64> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND tenant_id = $2 AND read_at IS NULL",
        )
        .bind(user)
        .bind(scope.id())
        .fetch_one(c)
        .await?
        .int("n")?
    }))
}

pub async fn recent(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    limit: i64,
) -> StoreResult<Vec<Notification>> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT id, kind, summary, link, created_at, read_at FROM notifications \
             WHERE user_id = $1 AND tenant_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(user)
        .bind(scope.id())
        .bind(limit)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(Notification {
                id: r.uuid("id")?,
                kind: r.text("kind")?,
                summary: r.text("summary")?,
                link: r.text("link")?,
                created_at: r.time("created_at")?,
                read: r.opt_time("read_at")?.is_some(),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?
    }))
}

/// Marks read what a person was told about one object (a message they opened).
pub async fn mark_read_for(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    subject: Uuid,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND tenant_id = $3 AND subject_id = $4 AND read_at IS NULL",
        )
        .bind(now())
        .bind(user)
        .bind(scope.id())
        .bind(subject)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

/// Marks read every notification of a kind for a person (the page they lead to was seen).
pub async fn mark_kind_read(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    kind: &str,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND tenant_id = $3 AND kind = $4 AND read_at IS NULL",
        )
        .bind(now())
        .bind(user)
        .bind(scope.id())
        .bind(kind)
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

/// One notification of an event, with what is needed to deliver it outside the ENT.
#[derive(Clone, Debug)]
pub struct Delivery {
    pub notification_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub urgent: bool,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub email_mode: EmailMode,
    pub sms_on: bool,
    pub has_push: bool,
    /// A guardian or pupil only: quiet hours apply.
    pub family: bool,
    /// The school's release time ("07:30") and spread, when the event belongs to a school.
    pub release_at: Option<String>,
    pub spread_minutes: i64,
    /// (topic, channel) this person turned off.
    pub muted: Vec<(Topic, Channel)>,
}

impl Delivery {
    pub fn wants(&self, channel: Channel) -> bool {
        let topic = Topic::of_kind(&self.kind);
        !self.muted.contains(&(topic, channel))
    }
}

/// The notifications of one event, for the delivery job.
pub async fn batch(db: &Db, batch: Uuid) -> StoreResult<Vec<Delivery>> {
    let (rows, muted) = on_read!(db, |c| {
        let rows = sqlx::query(
            "SELECT n.id, n.user_id, n.kind, n.urgent, u.email, u.mobile, \
             COALESCE(ns.email_mode, 'digest') AS email_mode, COALESCE(ns.sms, TRUE) AS sms_on, \
             EXISTS (SELECT 1 FROM push_subscriptions ps WHERE ps.user_id = n.user_id) AS has_push, \
             NOT EXISTS (SELECT 1 FROM user_profiles up WHERE up.user_id = n.user_id \
               AND up.profile NOT IN ('National_TUT', 'National_ELV')) AS family, \
             s.release_at, COALESCE(s.release_spread_minutes, 0) AS spread \
             FROM notifications n JOIN users u ON u.id = n.user_id \
             LEFT JOIN notification_settings ns ON ns.user_id = n.user_id \
             LEFT JOIN structures s ON s.id = n.structure_id \
             WHERE n.batch_id = $1 AND n.read_at IS NULL AND u.state <> 'disabled'",
        )
        .bind(batch)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(Delivery {
                notification_id: r.uuid("id")?,
                user_id: r.uuid("user_id")?,
                kind: r.text("kind")?,
                urgent: r.flag("urgent")?,
                email: r.opt_text("email")?.filter(|e| !e.trim().is_empty()),
                mobile: r.opt_text("mobile")?.filter(|m| !m.trim().is_empty()),
                email_mode: parse_code(&r.text("email_mode")?)?,
                sms_on: r.flag("sms_on")?,
                has_push: r.flag("has_push")?,
                family: r.flag("family")?,
                release_at: r.opt_text("release_at")?,
                spread_minutes: r.int("spread")?,
                muted: Vec::new(),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        let muted = sqlx::query(
            "SELECT m.user_id, m.kind, m.channel FROM notification_muted m \
             WHERE m.user_id IN (SELECT n.user_id FROM notifications n WHERE n.batch_id = $1)",
        )
        .bind(batch)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.uuid("user_id")?,
                parse_code::<Topic>(&r.text("kind")?)?,
                parse_code::<Channel>(&r.text("channel")?)?,
            ))
        })
        .collect::<StoreResult<Vec<_>>>()?;
        (rows, muted)
    });
    let mut rows = rows;
    for (user, topic, channel) in muted {
        for d in rows.iter_mut().filter(|d| d.user_id == user) {
            d.muted.push((topic, channel));
        }
    }
    Ok(rows)
}

/// One notification, to send it by e-mail, push or SMS.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub summary: String,
    pub link: String,
    pub read: bool,
    pub email: Option<String>,
    pub mobile: Option<String>,
    pub language: String,
    /// The school the event belongs to, or the tenant's name.
    pub from_name: String,
}

pub async fn outgoing(db: &Db, id: Uuid) -> StoreResult<Option<Outgoing>> {
    Ok(on_read!(db, |c| {
        sqlx::query(
            "SELECT n.id, n.tenant_id, n.user_id, n.kind, n.summary, n.link, n.read_at, u.email, u.mobile, u.language, \
             COALESCE(s.name, t.name) AS from_name FROM notifications n JOIN users u ON u.id = n.user_id \
             JOIN tenants t ON t.id = n.tenant_id LEFT JOIN structures s ON s.id = n.structure_id WHERE n.id = $1",
        )
        .bind(id)
        .fetch_optional(c)
        .await?
        .map(|r| {
            Ok::<_, crate::StoreError>(Outgoing {
                id: r.uuid("id")?,
                tenant_id: r.uuid("tenant_id")?,
                user_id: r.uuid("user_id")?,
                kind: r.text("kind")?,
                summary: r.text("summary")?,
                link: r.text("link")?,
                read: r.opt_time("read_at")?.is_some(),
                email: r.opt_text("email")?,
                mobile: r.opt_text("mobile")?,
                language: r.text("language")?,
                from_name: r.text("from_name")?,
            })
        })
        .transpose()?
    }))
}

/// How one person wants to be told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub email_mode: EmailMode,
    pub sms: bool,
    pub muted: Vec<(Topic, Channel)>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            email_mode: EmailMode::Digest,
            sms: true,
            muted: Vec::new(),
        }
    }
}

pub async fn settings(db: &Db, scope: TenantScope, user: Uuid) -> StoreResult<Settings> {
    on_read!(db, |c| {
        let mut settings = match sqlx::query(
            "SELECT email_mode, sms FROM notification_settings WHERE user_id = $1 AND tenant_id = $2",
        )
        .bind(user)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        {
            Some(r) => Settings {
                email_mode: parse_code(&r.text("email_mode")?)?,
                sms: r.flag("sms")?,
                muted: Vec::new(),
            },
            None => Settings::default(),
        };
        settings.muted = sqlx::query(
            "SELECT kind, channel FROM notification_muted WHERE user_id = $1 AND tenant_id = $2",
        )
        .bind(user)
        .bind(scope.id())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok((
                parse_code(&r.text("kind")?)?,
                parse_code(&r.text("channel")?)?,
            ))
        })
        .collect::<StoreResult<Vec<_>>>()?;
        Ok(settings)
    })
}

/// Saves one person's choices (the caller checked it is their own).
pub async fn save_settings(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    settings: &Settings,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "users", user);
        sqlx::query(
            "INSERT INTO notification_settings (user_id, tenant_id, email_mode, sms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET email_mode = excluded.email_mode, sms = excluded.sms",
        )
        .bind(user)
        .bind(scope.id())
        .bind(settings.email_mode.code())
        .bind(settings.sms)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM notification_muted WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        for (topic, channel) in &settings.muted {
            sqlx::query(
                "INSERT INTO notification_muted (user_id, tenant_id, kind, channel) VALUES ($1, $2, $3, $4)",
            )
            .bind(user)
            .bind(scope.id())
            .bind(topic.code())
            .bind(channel.code())
            .execute(&mut *tx)
            .await?;
        }
    });
    Ok(())
}

/// A browser's push subscription (from `PushManager.subscribe`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

pub async fn add_push_subscription(
    db: &Db,
    scope: TenantScope,
    user: Uuid,
    sub: &PushSubscription,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        // A browser re-subscribing, or handed to another person, keeps one row.
        sqlx::query(
            "INSERT INTO push_subscriptions (id, tenant_id, user_id, endpoint, p256dh, auth, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (endpoint) DO UPDATE SET \
             tenant_id = excluded.tenant_id, user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth",
        )
        .bind(Uuid::now_v7())
        .bind(scope.id())
        .bind(user)
        .bind(&sub.endpoint)
        .bind(&sub.p256dh)
        .bind(&sub.auth)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    });
    Ok(())
}

pub async fn push_subscriptions(db: &Db, user: Uuid) -> StoreResult<Vec<PushSubscription>> {
    on_read!(db, |c| {
        sqlx::query("SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = $1")
            .bind(user)
            .fetch_all(c)
            .await?
            .iter()
            .map(|r| {
                Ok(PushSubscription {
                    endpoint: r.text("endpoint")?,
                    p256dh: r.text("p256dh")?,
                    auth: r.text("auth")?,
                })
            })
            .collect()
    })
}

/// Forgets a subscription (the push service said it is gone, or the person turned it off).
pub async fn remove_push_subscription(db: &Db, user: Uuid, endpoint: &str) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2")
            .bind(endpoint)
            .bind(user)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// Takes one SMS from the tenant's monthly budget: `false` when it is spent.
pub async fn reserve_sms(
    db: &Db,
    tenant: Uuid,
    user: Uuid,
    notification: Uuid,
    month_start: DateTime<Utc>,
) -> StoreResult<Option<Uuid>> {
    let id = Uuid::now_v7();
    Ok(in_write_tx!(db, |tx| {
        let added = sqlx::query(
            "INSERT INTO sms_sent (id, tenant_id, user_id, notification_id, sent_at) \
             SELECT $1, t.id, $2, $3, $4 FROM tenants t WHERE t.id = $5 AND t.sms_monthly_budget > \
             (SELECT COUNT(*) FROM sms_sent x WHERE x.tenant_id = $5 AND x.sent_at >= $6)",
        )
        .bind(id)
        .bind(user)
        .bind(notification)
        .bind(now())
        .bind(tenant)
        .bind(month_start)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        (added > 0).then_some(id)
    }))
}

/// Gives an SMS back to the budget (the provider refused it).
pub async fn release_sms(db: &Db, id: Uuid) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("DELETE FROM sms_sent WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// (budget, used) this month.
pub async fn sms_budget(
    db: &Db,
    scope: TenantScope,
    month_start: DateTime<Utc>,
) -> StoreResult<(i64, i64)> {
    Ok(on_read!(db, |c| {
        let r = sqlx::query(
            "SELECT t.sms_monthly_budget AS budget, \
             (SELECT COUNT(*) FROM sms_sent x WHERE x.tenant_id = t.id AND x.sent_at >= $2) AS used \
             FROM tenants t WHERE t.id = $1",
        )
        .bind(scope.id())
        .bind(month_start)
        .fetch_one(c)
        .await?;
        (r.int("budget")?, r.int("used")?)
    }))
}

pub async fn set_sms_budget(db: &Db, scope: TenantScope, budget: i64) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        sqlx::query("UPDATE tenants SET sms_monthly_budget = $1 WHERE id = $2")
            .bind(budget.max(0))
            .bind(scope.id())
            .execute(&mut *tx)
            .await?;
    });
    Ok(())
}

/// One person's unread notifications for their daily digest.
#[derive(Clone, Debug)]
pub struct Digest {
    pub user_id: Uuid,
    pub email: String,
    pub items: Vec<(String, String, DateTime<Utc>)>,
}

/// Digests due: people on the digest (the default, so guardians who never open the ENT get
/// one) with unread notifications since their last digest, at most a day back. Marks them
/// sent; the caller sends them.
pub async fn take_digests(db: &Db, since: DateTime<Utc>, limit: i64) -> StoreResult<Vec<Digest>> {
    let at = now();
    let rows = in_write_tx!(db, |tx| {
        let users: Vec<(Uuid, Uuid, String)> = sqlx::query(
            "SELECT u.id, u.tenant_id, u.email FROM users u LEFT JOIN notification_settings ns ON ns.user_id = u.id \
             WHERE u.email IS NOT NULL AND u.email <> '' AND u.state <> 'disabled' AND u.tenant_id IS NOT NULL \
             AND COALESCE(ns.email_mode, 'digest') = 'digest' \
             AND (ns.last_digest_at IS NULL OR ns.last_digest_at < $1) \
             AND EXISTS (SELECT 1 FROM notifications n WHERE n.user_id = u.id AND n.read_at IS NULL \
               AND n.created_at >= $2 AND n.created_at >= COALESCE(ns.last_digest_at, $2)) \
             ORDER BY u.id LIMIT $3",
        )
        .bind(at - Duration::hours(20))
        .bind(since)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok((r.uuid("id")?, r.uuid("tenant_id")?, r.text("email")?)))
        .collect::<StoreResult<_>>()?;
        let mut out = Vec::with_capacity(users.len());
        for (user, tenant, email) in users {
            let items = sqlx::query(
                "SELECT n.summary, n.link, n.created_at, n.kind FROM notifications n \
                 LEFT JOIN notification_settings ns ON ns.user_id = n.user_id \
                 WHERE n.user_id = $1 AND n.read_at IS NULL AND n.created_at >= $2 \
                 AND n.created_at >= COALESCE(ns.last_digest_at, $2) \
                 AND NOT EXISTS (SELECT 1 FROM notification_muted m WHERE m.user_id = n.user_id \
                   AND m.channel = 'email' AND m.kind = CASE WHEN n.kind LIKE 'liaison%' THEN 'liaison' \
                   WHEN n.kind LIKE 'absence%' THEN 'absence' ELSE 'message' END) \
                 ORDER BY n.created_at LIMIT 50",
            )
            .bind(user)
            .bind(since)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| Ok((r.text("summary")?, r.text("link")?, r.time("created_at")?)))
            .collect::<StoreResult<Vec<_>>>()?;
            sqlx::query(
                "INSERT INTO notification_settings (user_id, tenant_id, email_mode, sms, last_digest_at) \
                 VALUES ($1, $2, 'digest', TRUE, $3) ON CONFLICT (user_id) DO UPDATE SET last_digest_at = excluded.last_digest_at",
            )
            .bind(user)
            .bind(tenant)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            if !items.is_empty() {
                out.push(Digest {
                    user_id: user,
                    email,
                    items,
                });
            }
        }
        out
    });
    Ok(rows)
}

/// A platform-wide value, created by `make` the first time it is asked for.
pub async fn platform_value(
    db: &Db,
    name: &str,
    make: impl FnOnce() -> String,
) -> StoreResult<String> {
    let existing = on_read!(db, |c| {
        sqlx::query("SELECT value FROM platform_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(c)
            .await?
            .map(|r| r.text("value"))
            .transpose()?
    });
    if let Some(value) = existing {
        return Ok(value);
    }
    let fresh = make();
    Ok(in_write_tx!(db, |tx| {
        sqlx::query("INSERT INTO platform_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(&fresh)
            .execute(&mut *tx)
            .await?;
        // Another server may have written it first: everyone uses the stored one.
        sqlx::query("SELECT value FROM platform_settings WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?
            .text("value")?
    }))
}

/// A school's release time for held family notifications ("07:30") and spread in minutes.
pub async fn release_time(
    db: &Db,
    scope: TenantScope,
    structure: Uuid,
) -> StoreResult<(String, i64)> {
    Ok(on_read!(db, |c| {
        let r = sqlx::query(
            "SELECT release_at, release_spread_minutes FROM structures WHERE id = $1 AND tenant_id = $2",
        )
        .bind(structure)
        .bind(scope.id())
        .fetch_optional(c)
        .await?
        .ok_or(crate::StoreError::NotFound)?;
        (r.text("release_at")?, r.int("release_spread_minutes")?)
    }))
}

/// Sets a school's release time (the caller checked it is within the hours families may be
/// reached).
pub async fn set_release_time(
    db: &Db,
    scope: TenantScope,
    structure: Uuid,
    at: &str,
    spread_minutes: i64,
    by: Uuid,
) -> StoreResult<()> {
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "structures", structure);
        sqlx::query(
            "UPDATE structures SET release_at = $1, release_spread_minutes = $2 WHERE id = $3",
        )
        .bind(at)
        .bind(spread_minutes)
        .bind(structure)
        .execute(&mut *tx)
        .await?;
        audit_in!(
            tx,
            scope.id(),
            Some(by),
            "notify.release_time",
            Some(structure),
            format!("{at} +{spread_minutes} min")
        );
    });
    Ok(())
}
