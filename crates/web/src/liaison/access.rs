//! Who may see a mot, and as whom: the school (its administrators, the author, the
//! teachers of its classes), a family (guardians of its pupils), or one of its pupils.
//! Anyone else gets "not found", so ids cannot be probed.

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::session::SignedIn;
use preau_domain::access::Place;
use preau_store::TenantScope;
use preau_store::liaison::{self, Mot};
use uuid::Uuid;

pub(crate) enum Access {
    /// `may_edit`: the author or an administrator of the school.
    Staff {
        may_edit: bool,
    },
    /// The signed-in guardian's children among the mot's pupils.
    Family {
        children: Vec<Uuid>,
    },
    Pupil,
}

pub(crate) async fn access(
    state: &AppState,
    who: &SignedIn,
    scope: TenantScope,
    id: Uuid,
) -> AppResult<(Mot, Access)> {
    let mot = liaison::get(&state.db, scope, id).await?;
    let actor = &who.actor;
    let admin = actor.may_admin_structure(Place {
        tenant_id: scope.id(),
        structure_id: mot.structure_id,
    });
    let author = mot.author_id == Some(who.user.id);
    if admin || author {
        return Ok((mot, Access::Staff { may_edit: true }));
    }
    if !actor.taught_classes.is_empty() {
        let classes = liaison::classes_of(&state.db, scope, id).await?;
        if classes
            .iter()
            .any(|(c, _)| actor.taught_classes.contains(c))
        {
            return Ok((mot, Access::Staff { may_edit: false }));
        }
    }
    // Families and pupils see it once published, never before.
    if !mot.published() {
        return Err(AppError::NotFound);
    }
    let mut children = Vec::new();
    for child in &actor.children {
        if liaison::recipient_class(&state.db, scope, id, *child)
            .await?
            .is_some()
        {
            children.push(*child);
        }
    }
    if !children.is_empty() {
        return Ok((mot, Access::Family { children }));
    }
    if liaison::recipient_class(&state.db, scope, id, who.user.id)
        .await?
        .is_some()
    {
        return Ok((mot, Access::Pupil));
    }
    Err(AppError::NotFound)
}
