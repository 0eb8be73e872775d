//! Whom each user may write to, kept in memory between requests like rights are (see
//! `actor_cache`): valid only for the tenant's directory version it was computed under, and
//! every change to groups, rules or memberships bumps that version.

use preau_store::{Db, StoreResult, TenantScope, communication};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Entries kept before the cache starts afresh: a school's staff member reaches about a
/// thousand people (≈ 30 KB), so this bounds the cache near 60 MB.
const CAPACITY: usize = 2_000;

pub type Reach = Arc<HashMap<Uuid, bool>>;

#[derive(Default)]
pub struct ReachCache {
    entries: Mutex<HashMap<Uuid, (i64, Reach)>>,
}

impl ReachCache {
    fn get(&self, user: Uuid, version: i64) -> Option<Reach> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&user)
            .filter(|(v, _)| *v == version)
            .map(|(_, r)| r.clone())
    }

    fn put(&self, user: Uuid, version: i64, reach: Reach) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(user, (version, reach));
    }

    /// The people `user` may reach (→ only by broadcast), from memory when still valid.
    pub async fn reach(
        &self,
        db: &Db,
        scope: TenantScope,
        user: Uuid,
        version: i64,
    ) -> StoreResult<Reach> {
        if let Some(hit) = self.get(user, version) {
            return Ok(hit);
        }
        let reach = Arc::new(communication::reachable(db, scope, user).await?);
        self.put(user, version, reach.clone());
        Ok(reach)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_version_is_a_miss() {
        let cache = ReachCache::default();
        let id = Uuid::new_v4();
        cache.put(id, 7, Arc::new(HashMap::from([(Uuid::new_v4(), false)])));
        assert!(cache.get(id, 7).is_some());
        assert!(cache.get(id, 8).is_none());
        assert!(cache.get(Uuid::new_v4(), 7).is_none());
    }
}
