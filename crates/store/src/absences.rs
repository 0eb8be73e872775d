//! Absences and lateness by half-day, taken from the class register, and the notices
//! families give in advance. An absence with no notice alerts the pupil's guardians.

use crate::db::{RowExt, parse_code};
use crate::error::{StoreError, StoreResult};
use crate::{Db, TenantScope, now};
use chrono::{DateTime, NaiveDate, Utc};
use preau_domain::absences::{Half, HalfDay, Mark, covers};
use uuid::Uuid;

/// A notice a guardian gave.
#[derive(Clone, Debug)]
pub struct Notice {
    pub id: Uuid,
    pub pupil_id: Uuid,
    pub pupil_name: String,
    pub from: HalfDay,
    pub to: HalfDay,
    pub reason: String,
    pub guardian_name: String,
    pub created_at: DateTime<Utc>,
}

fn day_of(text: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| StoreError::Invalid(format!("stored day {text:?}")))
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

fn notice_of(r: &impl RowExt) -> StoreResult<Notice> {
    Ok(Notice {
        id: r.uuid("id")?,
        pupil_id: r.uuid("pupil_id")?,
        pupil_name: r.text("pupil_name")?,
        from: (
            day_of(&r.text("from_day")?)?,
            parse_code(&r.text("from_half")?)?,
        ),
        to: (
            day_of(&r.text("to_day")?)?,
            parse_code(&r.text("to_half")?)?,
        ),
        reason: r.text("reason")?,
        guardian_name: r.text("guardian_name")?,
        created_at: r.time("created_at")?,
    })
}

const NOTICE_COLUMNS: &str = "n.id, n.pupil_id, p.first_name || ' ' || p.last_name AS pupil_name, \
     n.from_day, n.from_half, n.to_day, n.to_half, n.reason, \
     COALESCE(g.first_name || ' ' || g.last_name, '') AS guardian_name, n.created_at";

const NOTICE_FROM: &str =
    "absence_notices n JOIN users p ON p.id = n.pupil_id LEFT JOIN users g ON g.id = n.guardian_id";

/// Records a guardian's notice and tells the child's teachers. The caller checked the child
/// is theirs and the range is sound.
#[allow(clippy::too_many_arguments)]
pub async fn add_notice(
    db: &Db,
    scope: TenantScope,
    structure: Uuid,
    pupil: Uuid,
    guardian: Uuid,
    from: HalfDay,
    to: HalfDay,
    reason: &str,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    let tenant = scope.id();
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "structures", structure);
        sqlx::query(
            "INSERT INTO absence_notices (id, tenant_id, structure_id, pupil_id, guardian_id, from_day, from_half, \
             to_day, to_half, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(id)
        .bind(tenant)
        .bind(structure)
        .bind(pupil)
        .bind(guardian)
        .bind(day_text(from.0))
        .bind(from.1.code())
        .bind(day_text(to.0))
        .bind(to.1.code())
        .bind(reason.trim())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        let teachers: Vec<Uuid> = sqlx::query(
            "SELECT DISTINCT t.user_id FROM class_members p JOIN class_members t ON t.class_id = p.class_id \
             JOIN classes c ON c.id = p.class_id AND c.archived_at IS NULL \
             WHERE p.user_id = $1 AND p.role = 'eleve' AND t.role = 'enseignant'",
        )
        .bind(pupil)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.uuid("user_id"))
        .collect::<StoreResult<_>>()?;
        let name: String =
            sqlx::query("SELECT first_name || ' ' || last_name AS name FROM users WHERE id = $1")
                .bind(pupil)
                .fetch_one(&mut *tx)
                .await?
                .text("name")?;
        notify_in!(
            tx,
            tenant,
            &teachers,
            "absence_notice",
            Some(id),
            name.as_str(),
            "/absences",
            Uuid::now_v7(),
            false,
            Some(structure)
        );
        audit_in!(
            tx,
            tenant,
            Some(guardian),
            "absence.notice",
            Some(pupil),
            reason.trim()
        );
    });
    Ok(id)
}

/// Notices about these pupils that end on or after `from`, soonest first.
pub async fn notices_for(
    db: &Db,
    scope: TenantScope,
    pupils: &[Uuid],
    from: NaiveDate,
) -> StoreResult<Vec<Notice>> {
    let mut out = Vec::new();
    for pupil in pupils {
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM {NOTICE_FROM} WHERE n.pupil_id = $1 AND n.tenant_id = $2 \
             AND n.to_day >= $3 ORDER BY n.from_day, n.created_at"
        );
        let rows = on_read!(db, |c| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(*pupil)
                .bind(scope.id())
                .bind(day_text(from))
                .fetch_all(c)
                .await?
                .iter()
                .map(notice_of)
                .collect::<StoreResult<Vec<_>>>()?
        });
        out.extend(rows);
    }
    out.sort_by_key(|n| (n.from, n.created_at));
    Ok(out)
}

/// Notices of a school covering one day.
pub async fn notices_on(
    db: &Db,
    scope: TenantScope,
    structure: Uuid,
    day: NaiveDate,
) -> StoreResult<Vec<Notice>> {
    let sql = format!(
        "SELECT {NOTICE_COLUMNS} FROM {NOTICE_FROM} WHERE n.structure_id = $1 AND n.tenant_id = $2 \
         AND n.from_day <= $3 AND n.to_day >= $3 ORDER BY p.last_name, p.first_name"
    );
    on_read!(db, |c| {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(structure)
            .bind(scope.id())
            .bind(day_text(day))
            .fetch_all(c)
            .await?
            .iter()
            .map(notice_of)
            .collect()
    })
}

/// One pupil on the register of a half-day.
#[derive(Clone, Debug)]
pub struct RegisterLine {
    pub pupil_id: Uuid,
    pub first_name: String,
    pub last_name: String,
    pub mark: Option<Mark>,
    /// The family's notice covering this half-day.
    pub notice: Option<Notice>,
}

/// A class's register for one half-day: every pupil, what was marked, the notices.
pub async fn register(
    db: &Db,
    scope: TenantScope,
    class: Uuid,
    day: NaiveDate,
    half: Half,
) -> StoreResult<Vec<RegisterLine>> {
    let (pupils, notices) = on_read!(db, |c| {
        let pupils = sqlx::query(
            "SELECT u.id, u.first_name, u.last_name, a.kind FROM class_members m JOIN users u ON u.id = m.user_id \
             LEFT JOIN absences a ON a.pupil_id = u.id AND a.day = $3 AND a.half = $4 \
             WHERE m.class_id = $1 AND m.tenant_id = $2 AND m.role = 'eleve' AND u.detached_at IS NULL \
             ORDER BY u.last_name, u.first_name, u.id",
        )
        .bind(class)
        .bind(scope.id())
        .bind(day_text(day))
        .bind(half.code())
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| {
            Ok(RegisterLine {
                pupil_id: r.uuid("id")?,
                first_name: r.text("first_name")?,
                last_name: r.text("last_name")?,
                mark: r.opt_text("kind")?.map(|k| parse_code(&k)).transpose()?,
                notice: None,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        let sql = format!(
            "SELECT {NOTICE_COLUMNS} FROM {NOTICE_FROM} JOIN class_members m ON m.user_id = n.pupil_id \
             WHERE m.class_id = $1 AND n.tenant_id = $2 AND n.from_day <= $3 AND n.to_day >= $3"
        );
        let notices = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(class)
            .bind(scope.id())
            .bind(day_text(day))
            .fetch_all(c)
            .await?
            .iter()
            .map(notice_of)
            .collect::<StoreResult<Vec<_>>>()?;
        (pupils, notices)
    });
    let mut pupils = pupils;
    for line in &mut pupils {
        line.notice = notices
            .iter()
            .find(|n| n.pupil_id == line.pupil_id && covers(n.from, n.to, (day, half)))
            .cloned();
    }
    Ok(pupils)
}

/// Saves a class's register for one half-day (`marks`: every pupil listed, `None` present)
/// and alerts the guardians of pupils newly absent without notice. Returns those pupils.
#[allow(clippy::too_many_arguments)]
pub async fn record(
    db: &Db,
    scope: TenantScope,
    structure: Uuid,
    class: Uuid,
    day: NaiveDate,
    half: Half,
    marks: &[(Uuid, Option<Mark>)],
    by: Uuid,
) -> StoreResult<Vec<Uuid>> {
    let lines = register(db, scope, class, day, half).await?;
    let tenant = scope.id();
    let at = now();
    let mut alerted = Vec::new();
    in_write_tx!(db, |tx| {
        ensure_in_tenant!(tx, scope, "classes", class);
        for (pupil, mark) in marks {
            // Only pupils of this class's register.
            let Some(line) = lines.iter().find(|l| l.pupil_id == *pupil) else {
                return Err(StoreError::NotFound);
            };
            if line.mark == *mark {
                continue;
            }
            match mark {
                None => {
                    sqlx::query("DELETE FROM absences WHERE pupil_id = $1 AND day = $2 AND half = $3 AND tenant_id = $4")
                        .bind(*pupil)
                        .bind(day_text(day))
                        .bind(half.code())
                        .bind(tenant)
                        .execute(&mut *tx)
                        .await?;
                }
                Some(mark) => {
                    sqlx::query(
                        "INSERT INTO absences (id, tenant_id, structure_id, class_id, pupil_id, day, half, kind, notice_id, \
                         recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                         ON CONFLICT (pupil_id, day, half) DO UPDATE SET kind = excluded.kind, \
                         recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
                    )
                    .bind(Uuid::now_v7())
                    .bind(tenant)
                    .bind(structure)
                    .bind(class)
                    .bind(*pupil)
                    .bind(day_text(day))
                    .bind(half.code())
                    .bind(mark.code())
                    .bind(line.notice.as_ref().map(|n| n.id))
                    .bind(by)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                    if *mark == Mark::Absent
                        && line.notice.is_none()
                        && line.mark != Some(Mark::Absent)
                    {
                        let guardians: Vec<Uuid> = sqlx::query(
                            "SELECT g.guardian_id FROM guardianships g JOIN users u ON u.id = g.guardian_id \
                             WHERE g.child_id = $1 AND u.detached_at IS NULL",
                        )
                        .bind(*pupil)
                        .fetch_all(&mut *tx)
                        .await?
                        .iter()
                        .map(|r| r.uuid("guardian_id"))
                        .collect::<StoreResult<_>>()?;
                        let name = format!("{} {}", line.first_name, line.last_name);
                        notify_in!(
                            tx,
                            tenant,
                            &guardians,
                            "absence",
                            Some(*pupil),
                            name.as_str(),
                            "/absences",
                            Uuid::now_v7(),
                            true,
                            Some(structure)
                        );
                        alerted.push(*pupil);
                    }
                }
            }
        }
        audit_in!(
            tx,
            tenant,
            Some(by),
            "absence.register",
            Some(class),
            format!("{} {}", day_text(day), half.code())
        );
    });
    Ok(alerted)
}

/// One absence or lateness in a school's or class's list.
#[derive(Clone, Debug)]
pub struct Absence {
    pub pupil_id: Uuid,
    pub pupil_name: String,
    pub class_id: Uuid,
    pub class_name: String,
    pub day: NaiveDate,
    pub half: Half,
    pub mark: Mark,
    pub explained: bool,
    pub recorded_at: DateTime<Utc>,
}

fn absence_of(r: &impl RowExt) -> StoreResult<Absence> {
    Ok(Absence {
        pupil_id: r.uuid("pupil_id")?,
        pupil_name: r.text("pupil_name")?,
        class_id: r.uuid("class_id")?,
        class_name: r.text("class_name")?,
        day: day_of(&r.text("day")?)?,
        half: parse_code(&r.text("half")?)?,
        mark: parse_code(&r.text("kind")?)?,
        explained: r.opt_uuid("notice_id")?.is_some(),
        recorded_at: r.time("recorded_at")?,
    })
}

const ABSENCE_SELECT: &str = "SELECT a.pupil_id, p.last_name || ' ' || p.first_name AS pupil_name, a.class_id, \
     c.name AS class_name, a.day, a.half, a.kind, a.notice_id, a.recorded_at \
     FROM absences a JOIN users p ON p.id = a.pupil_id JOIN classes c ON c.id = a.class_id";

/// A school's absences and lateness of one day, by class then name.
pub async fn of_school_day(
    db: &Db,
    scope: TenantScope,
    structure: Uuid,
    day: NaiveDate,
) -> StoreResult<Vec<Absence>> {
    let sql = format!(
        "{ABSENCE_SELECT} WHERE a.structure_id = $1 AND a.tenant_id = $2 AND a.day = $3 \
         ORDER BY c.name, pupil_name, a.half DESC"
    );
    on_read!(db, |c| {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(structure)
            .bind(scope.id())
            .bind(day_text(day))
            .fetch_all(c)
            .await?
            .iter()
            .map(absence_of)
            .collect()
    })
}

/// A class's absences and lateness between two days (inclusive), for the monthly summary.
pub async fn of_class_between(
    db: &Db,
    scope: TenantScope,
    class: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<Absence>> {
    let sql = format!(
        "{ABSENCE_SELECT} WHERE a.class_id = $1 AND a.tenant_id = $2 AND a.day >= $3 AND a.day <= $4 \
         ORDER BY pupil_name, a.day, a.half DESC"
    );
    on_read!(db, |c| {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(class)
            .bind(scope.id())
            .bind(day_text(from))
            .bind(day_text(to))
            .fetch_all(c)
            .await?
            .iter()
            .map(absence_of)
            .collect()
    })
}

/// These pupils' absences from a day on, newest first (what a family sees).
pub async fn of_pupils_since(
    db: &Db,
    scope: TenantScope,
    pupils: &[Uuid],
    from: NaiveDate,
) -> StoreResult<Vec<Absence>> {
    let mut out = Vec::new();
    let sql = format!(
        "{ABSENCE_SELECT} WHERE a.pupil_id = $1 AND a.tenant_id = $2 AND a.day >= $3 ORDER BY a.day DESC"
    );
    for pupil in pupils {
        let rows = on_read!(db, |c| {
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(*pupil)
                .bind(scope.id())
                .bind(day_text(from))
                .fetch_all(c)
                .await?
                .iter()
                .map(absence_of)
                .collect::<StoreResult<Vec<_>>>()?
        });
        out.extend(rows);
    }
    out.sort_by_key(|a| std::cmp::Reverse((a.day, a.half)));
    Ok(out)
}
