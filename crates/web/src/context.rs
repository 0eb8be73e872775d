//! What the page layout needs on every page: translator, CSRF token, who is signed in, menu.

use crate::i18n::Tr;
use crate::session::SignedIn;

pub struct NavItem {
    pub href: &'static str,
    pub key: &'static str,
    pub current: bool,
    /// Unread things behind the entry (shown as a badge when above zero).
    pub count: i64,
}

pub struct UserBadge {
    pub name: String,
    pub profile_key: &'static str,
}

pub struct Ctx {
    pub t: Tr,
    pub title_key: &'static str,
    /// A title made of data (a school's name…), shown instead of `title_key`'s text.
    pub title_text: Option<String>,
    pub csrf: String,
    pub user: Option<UserBadge>,
    pub nav: Vec<NavItem>,
}

impl Ctx {
    pub fn anonymous(t: Tr, title_key: &'static str) -> Self {
        Self {
            t,
            title_key,
            title_text: None,
            csrf: String::new(),
            user: None,
            nav: Vec::new(),
        }
    }

    pub fn with_csrf(mut self, csrf: String) -> Self {
        self.csrf = csrf;
        self
    }

    /// The badge of the messagerie entry: unread notifications.
    pub fn with_unread(mut self, count: i64) -> Self {
        for item in &mut self.nav {
            if item.href == "/messages" {
                item.count = count;
            }
        }
        self
    }

    pub fn titled(mut self, text: String) -> Self {
        self.title_text = Some(text);
        self
    }

    /// Layout for a signed-in page; `current` is the path of the menu entry to mark.
    pub fn signed_in(who: &SignedIn, csrf: String, title_key: &'static str, current: &str) -> Self {
        let actor = &who.actor;
        let mut nav = vec![NavItem {
            href: "/",
            key: "nav-home",
            current: false,
            count: 0,
        }];
        if !actor.taught_classes.is_empty() {
            nav.push(NavItem {
                href: "/classes",
                key: "nav-classes",
                current: false,
                count: 0,
            });
        }
        if actor.tenant_id.is_some() && !actor.profiles.is_empty() {
            nav.push(NavItem {
                href: "/liaison",
                key: "nav-liaison",
                current: false,
                count: 0,
            });
        }
        if !actor.taught_classes.is_empty()
            || !actor.admin_structures.is_empty()
            || !actor.children.is_empty()
        {
            nav.push(NavItem {
                href: "/absences",
                key: "nav-absences",
                current: false,
                count: 0,
            });
        }
        if actor.tenant_id.is_some() {
            nav.push(NavItem {
                href: "/messages",
                key: "nav-messages",
                current: false,
                count: 0,
            });
            nav.push(NavItem {
                href: "/discussions",
                key: "nav-chat",
                current: false,
                count: 0,
            });
        }
        if actor.may_use_admin() {
            nav.push(NavItem {
                href: "/admin",
                key: "nav-admin",
                current: false,
                count: 0,
            });
        }
        nav.push(NavItem {
            href: "/compte",
            key: "nav-account",
            current: false,
            count: 0,
        });
        for item in &mut nav {
            item.current = item.href == current;
        }
        let profile_key = if actor.is_operator {
            "profile-operator"
        } else {
            actor
                .main_profile()
                .map_or("profile-none", |p| p.label_key())
        };
        Self {
            t: Tr::for_language(&who.user.language),
            title_key,
            title_text: None,
            csrf,
            user: Some(UserBadge {
                name: who.user.display_name(),
                profile_key,
            }),
            nav,
        }
    }

    pub fn title(&self) -> String {
        self.title_text
            .clone()
            .unwrap_or_else(|| self.t.get(self.title_key))
    }
}
