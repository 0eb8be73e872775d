//! Loads what the access rules need to know about a signed-in user, in one query.

use crate::Db;
use crate::db::{RowExt, parse_code};
use crate::directory::User;
use crate::error::StoreResult;
use preau_domain::Function;
use preau_domain::access::Actor;

pub async fn load(db: &Db, user: &User) -> StoreResult<Actor> {
    let mut actor = Actor {
        user_id: user.id,
        tenant_id: user.tenant_id,
        is_operator: user.is_operator,
        ..Actor::default()
    };
    if user.tenant_id.is_none() {
        return Ok(actor);
    }
    let rows = on_read!(db, |c| {
        sqlx::query(
            "SELECT 'p' AS fact, structure_id AS id, profile AS code FROM user_profiles WHERE user_id = $1 \
             UNION ALL SELECT 'f', structure_id, function FROM user_functions WHERE user_id = $1 \
             UNION ALL SELECT 'a', structure_id, '' FROM admin_grants WHERE user_id = $1 \
             UNION ALL SELECT CASE WHEN c.archived_at IS NULL THEN 't' ELSE 'o' END, m.class_id, '' \
                FROM class_members m JOIN classes c ON c.id = m.class_id WHERE m.user_id = $1 AND m.role = 'enseignant' \
             UNION ALL SELECT 'c', child_id, '' FROM guardianships WHERE guardian_id = $1",
        )
        .bind(user.id)
        .fetch_all(c)
        .await?
        .iter()
        .map(|r| Ok((r.text("fact")?, r.opt_uuid("id")?, r.text("code")?)))
        .collect::<StoreResult<Vec<_>>>()?
    });
    for (fact, id, code) in rows {
        match (fact.as_str(), id) {
            ("p", Some(id)) => actor.profiles.push((id, parse_code(&code)?)),
            ("f", Some(id)) => {
                let function: Function = parse_code(&code)?;
                if function == Function::Directeur {
                    actor.admin_structures.push(id);
                }
                actor.functions.push((id, function));
            }
            ("a", Some(id)) => actor.admin_structures.push(id),
            ("a", None) => actor.is_tenant_admin = true,
            ("t", Some(id)) => actor.taught_classes.push(id),
            ("o", Some(id)) => actor.past_classes.push(id),
            ("c", Some(id)) => actor.children.push(id),
            _ => {}
        }
    }
    actor.profiles.sort();
    actor.admin_structures.sort();
    actor.admin_structures.dedup();
    Ok(actor)
}
