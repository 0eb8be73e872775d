//! The services a person may open from the portal home, by what they are.

use crate::access::Actor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Service {
    /// i18n key of the name.
    pub key: &'static str,
    pub href: &'static str,
}

/// Services open to this person, in display order. Only services that exist are listed.
pub fn services_for(actor: &Actor) -> Vec<Service> {
    let mut services = Vec::new();
    if actor.tenant_id.is_some() && !actor.profiles.is_empty() {
        services.push(Service {
            key: "service-liaison",
            href: "/liaison",
        });
    }
    if !actor.taught_classes.is_empty()
        || !actor.admin_structures.is_empty()
        || !actor.children.is_empty()
    {
        services.push(Service {
            key: "service-absences",
            href: "/absences",
        });
    }
    if !actor.taught_classes.is_empty() {
        services.push(Service {
            key: "service-classes",
            href: "/classes",
        });
    }
    if actor.may_use_admin() {
        services.push(Service {
            key: "service-admin",
            href: "/admin",
        });
    }
    services.push(Service {
        key: "service-account",
        href: "/compte",
    });
    services
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_do_not_get_admin_or_classes() {
        let parent = Actor {
            children: vec![uuid::Uuid::new_v4()],
            ..Default::default()
        };
        let keys: Vec<_> = services_for(&parent).iter().map(|s| s.key).collect();
        assert_eq!(keys, ["service-absences", "service-account"]);
        let teacher = Actor {
            taught_classes: vec![uuid::Uuid::new_v4()],
            ..Default::default()
        };
        assert!(services_for(&teacher).iter().any(|s| s.href == "/classes"));
    }
}
