//! Rights of signed-in users, kept in memory between requests. An entry is valid only for
//! the tenant's directory version it was loaded under; every change to profiles, functions,
//! classes, guardianships or grants bumps that version in the database (all app nodes see it
//! in the session lookup), so no request ever acts on stale rights.

use preau_domain::access::Actor;
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// Entries kept before the cache starts afresh (≈ 1 KB each).
const CAPACITY: usize = 200_000;

#[derive(Default)]
pub struct ActorCache {
    entries: Mutex<HashMap<Uuid, (i64, Actor)>>,
}

impl ActorCache {
    pub fn get(&self, user_id: Uuid, version: i64) -> Option<Actor> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&user_id)
            .filter(|(v, _)| *v == version)
            .map(|(_, actor)| actor.clone())
    }

    pub fn put(&self, user_id: Uuid, version: i64, actor: Actor) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(user_id, (version, actor));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_of_another_version_are_misses() {
        let cache = ActorCache::default();
        let id = Uuid::new_v4();
        cache.put(
            id,
            3,
            Actor {
                user_id: id,
                ..Default::default()
            },
        );
        assert!(cache.get(id, 3).is_some());
        assert!(cache.get(id, 4).is_none());
        assert!(cache.get(Uuid::new_v4(), 3).is_none());
    }
}
