//! Who may do what. Every check answers from facts loaded for the signed-in user;
//! handlers ask here before calling the store, and the store scopes every query by tenant.

use crate::{Function, NationalProfile};
use uuid::Uuid;

/// The signed-in user's rights, loaded once per request from the session.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub user_id: Uuid,
    /// `None` only for platform operators without a tenant.
    pub tenant_id: Option<Uuid>,
    pub is_operator: bool,
    pub is_tenant_admin: bool,
    /// (structure, national profile) pairs.
    pub profiles: Vec<(Uuid, NationalProfile)>,
    /// (structure, function) pairs.
    pub functions: Vec<(Uuid, Function)>,
    /// Structures this user administers (directeur, or granted).
    pub admin_structures: Vec<Uuid>,
    /// Classes this user teaches.
    pub taught_classes: Vec<Uuid>,
    /// Classes of past school years the user taught: readable, no longer changeable.
    pub past_classes: Vec<Uuid>,
    /// Children this user is a guardian of.
    pub children: Vec<Uuid>,
}

/// Where an object lives, as far as access rules care.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    pub tenant_id: Uuid,
    pub structure_id: Uuid,
}

impl Actor {
    pub fn has_profile(&self, profile: NationalProfile) -> bool {
        self.profiles.iter().any(|(_, p)| *p == profile)
    }

    pub fn has_function(&self, function: Function) -> bool {
        self.functions.iter().any(|(_, f)| *f == function)
    }

    /// The profile shown first: the most "responsible" one the user holds.
    pub fn main_profile(&self) -> Option<NationalProfile> {
        const ORDER: [NationalProfile; 9] = [
            NationalProfile::Direction,
            NationalProfile::Enseignant,
            NationalProfile::Academique,
            NationalProfile::Collectivite,
            NationalProfile::Documentaliste,
            NationalProfile::VieScolaire,
            NationalProfile::Technique,
            NationalProfile::Tuteur,
            NationalProfile::Eleve,
        ];
        ORDER.into_iter().find(|p| self.has_profile(*p))
    }

    pub fn is_pupil_only(&self) -> bool {
        !self.profiles.is_empty()
            && self
                .profiles
                .iter()
                .all(|(_, p)| *p == NationalProfile::Eleve)
    }

    fn in_tenant(&self, tenant_id: Uuid) -> bool {
        self.tenant_id == Some(tenant_id)
    }

    pub fn may_admin_platform(&self) -> bool {
        self.is_operator
    }

    pub fn may_admin_tenant(&self, tenant_id: Uuid) -> bool {
        self.is_operator || (self.is_tenant_admin && self.in_tenant(tenant_id))
    }

    pub fn may_admin_structure(&self, place: Place) -> bool {
        self.may_admin_tenant(place.tenant_id)
            || (self.in_tenant(place.tenant_id)
                && self.admin_structures.contains(&place.structure_id))
    }

    /// Any administration page at all.
    pub fn may_use_admin(&self) -> bool {
        self.is_operator || self.is_tenant_admin || !self.admin_structures.is_empty()
    }

    /// The class list: its teachers (this year's and, read-only, past years') and the
    /// school's administrators.
    pub fn may_see_class_list(&self, place: Place, class_id: Uuid) -> bool {
        self.may_admin_structure(place)
            || (self.in_tenant(place.tenant_id)
                && (self.taught_classes.contains(&class_id)
                    || self.past_classes.contains(&class_id)))
    }

    /// Managing a class's accounts (new codes, guardians, letters): its teacher this year, or
    /// an administrator of its school.
    pub fn may_manage_class(&self, place: Place, class_id: Uuid) -> bool {
        self.may_admin_structure(place)
            || (self.in_tenant(place.tenant_id) && self.taught_classes.contains(&class_id))
    }

    /// Resetting a pupil's password: a teacher of one of the pupil's classes, or an administrator.
    pub fn may_reset_pupil_password(&self, place: Place, pupil_classes: &[Uuid]) -> bool {
        pupil_classes
            .iter()
            .any(|c| self.may_manage_class(place, *c))
            || self.may_admin_structure(place)
    }

    /// A guardian sees only their own children.
    pub fn is_guardian_of(&self, child_id: Uuid) -> bool {
        self.children.contains(&child_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (Uuid, Uuid, Uuid) {
        (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4())
    }

    #[test]
    fn directeur_administers_only_their_school_of_their_tenant() {
        let (tenant, school, other_school) = ids();
        let directeur = Actor {
            tenant_id: Some(tenant),
            admin_structures: vec![school],
            ..Default::default()
        };
        assert!(directeur.may_admin_structure(Place {
            tenant_id: tenant,
            structure_id: school
        }));
        assert!(!directeur.may_admin_structure(Place {
            tenant_id: tenant,
            structure_id: other_school
        }));
        assert!(!directeur.may_admin_structure(Place {
            tenant_id: Uuid::new_v4(),
            structure_id: school
        }));
        assert!(!directeur.may_admin_tenant(tenant));
    }

    #[test]
    fn tenant_admin_stays_in_their_tenant() {
        let (tenant, school, other_tenant) = ids();
        let admin = Actor {
            tenant_id: Some(tenant),
            is_tenant_admin: true,
            ..Default::default()
        };
        assert!(admin.may_admin_structure(Place {
            tenant_id: tenant,
            structure_id: school
        }));
        assert!(!admin.may_admin_structure(Place {
            tenant_id: other_tenant,
            structure_id: school
        }));
        let operator = Actor {
            is_operator: true,
            ..Default::default()
        };
        assert!(operator.may_admin_tenant(other_tenant));
    }

    #[test]
    fn teacher_resets_only_pupils_of_their_classes() {
        let (tenant, school, class) = ids();
        let place = Place {
            tenant_id: tenant,
            structure_id: school,
        };
        let teacher = Actor {
            tenant_id: Some(tenant),
            taught_classes: vec![class],
            ..Default::default()
        };
        assert!(teacher.may_reset_pupil_password(place, &[class]));
        assert!(!teacher.may_reset_pupil_password(place, &[Uuid::new_v4()]));
        assert!(teacher.may_see_class_list(place, class));
        assert!(!teacher.may_see_class_list(place, Uuid::new_v4()));
    }
}
