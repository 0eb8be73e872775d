//! Password hashing: Argon2id, PHC strings, parameters upgraded on sign-in.
//!
//! Each hash needs `m` KiB of memory; allocating it per hash costs up to twice the hashing
//! time, so every blocking thread keeps its buffer. A semaphore caps concurrent hashes at the
//! number of cores, so a sign-in storm queues instead of exhausting memory.

use crate::error::{StoreError, StoreResult};
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use tokio::sync::Semaphore;

/// Parameters of new hashes: OWASP's Argon2id floor (19 MiB, 2 passes, 1 lane).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl HashCost {
    pub const DEFAULT: HashCost = HashCost {
        memory_kib: 19 * 1024,
        iterations: 2,
    };
    /// For tests only: fast hashes.
    pub const TESTING: HashCost = HashCost {
        memory_kib: 64,
        iterations: 1,
    };

    fn params(self) -> StoreResult<Params> {
        Params::new(self.memory_kib, self.iterations, 1, Some(32))
            .map_err(|e| StoreError::Hashing(e.to_string()))
    }
}

thread_local! {
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn hasher_semaphore() -> Arc<Semaphore> {
    static SEM: OnceLock<Arc<Semaphore>> = OnceLock::new();
    SEM.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Arc::new(Semaphore::new(cores))
    })
    .clone()
}

/// Computes a raw Argon2id output with this thread's reusable memory.
fn raw_hash(params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> StoreResult<()> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        let needed = params.block_count();
        if blocks.len() < needed {
            blocks.resize(needed, Block::default());
        }
        argon
            .hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
            .map_err(|e| StoreError::Hashing(e.to_string()))
    })
}

/// Hashes synchronously; use [`hash_password`] from async code.
pub fn hash_password_blocking(cost: HashCost, password: &str) -> StoreResult<String> {
    let params = cost.params()?;
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let mut out = [0u8; 32];
    raw_hash(&params, password.as_bytes(), &salt, &mut out)?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| StoreError::Hashing(e.to_string()))?,
        salt: Some(Salt::new(&salt).map_err(|e| StoreError::Hashing(e.to_string()))?),
        hash: Some(Output::new(&out).map_err(|e| StoreError::Hashing(e.to_string()))?),
    };
    Ok(phc.to_string())
}

/// Result of checking a password against a stored PHC string.
#[derive(Debug, PartialEq, Eq)]
pub enum Verified {
    No,
    Yes,
    /// Correct, but stored with other parameters than today's: store a new hash.
    YesRehash,
}

/// Verifies synchronously; use [`verify_password`] from async code.
pub fn verify_password_blocking(
    cost: HashCost,
    password: &str,
    phc: &str,
) -> StoreResult<Verified> {
    let parsed = PasswordHash::new(phc).map_err(|e| StoreError::Hashing(e.to_string()))?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(StoreError::Hashing("incomplete PHC string".into()));
    };
    let params = Params::try_from(&parsed).map_err(|e| StoreError::Hashing(e.to_string()))?;
    let mut out = vec![0u8; expected.len()];
    raw_hash(&params, password.as_bytes(), salt.as_ref(), &mut out)?;
    // Output's equality is constant-time.
    let actual = Output::new(&out).map_err(|e| StoreError::Hashing(e.to_string()))?;
    if actual != *expected {
        return Ok(Verified::No);
    }
    let current = cost.params()?;
    let same_cost = parsed.algorithm == argon2::ARGON2ID_IDENT
        && params.m_cost() == current.m_cost()
        && params.t_cost() == current.t_cost()
        && params.p_cost() == current.p_cost();
    Ok(if same_cost {
        Verified::Yes
    } else {
        Verified::YesRehash
    })
}

async fn on_hashing_thread<T: Send + 'static>(
    job: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    let _permit = hasher_semaphore()
        .acquire_owned()
        .await
        .map_err(|e| StoreError::Hashing(e.to_string()))?;
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| StoreError::Hashing(e.to_string()))?
}

pub async fn hash_password(cost: HashCost, password: String) -> StoreResult<String> {
    on_hashing_thread(move || hash_password_blocking(cost, &password)).await
}

pub async fn verify_password(
    cost: HashCost,
    password: String,
    phc: String,
) -> StoreResult<Verified> {
    on_hashing_thread(move || verify_password_blocking(cost, &password, &phc)).await
}

/// Spends the time of one verification, so an unknown login answers as slowly as a known one.
pub async fn waste_verification(cost: HashCost, password: String) {
    let _ = on_hashing_thread(move || hash_password_blocking(cost, &password)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verify_and_rehash() -> StoreResult<()> {
        let phc = hash_password_blocking(HashCost::TESTING, "Une phrase de passe")?;
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        assert_eq!(
            verify_password_blocking(HashCost::TESTING, "Une phrase de passe", &phc)?,
            Verified::Yes
        );
        assert_eq!(
            verify_password_blocking(HashCost::TESTING, "une phrase de passe", &phc)?,
            Verified::No
        );
        let stronger = HashCost {
            memory_kib: 128,
            iterations: 1,
        };
        assert_eq!(
            verify_password_blocking(stronger, "Une phrase de passe", &phc)?,
            Verified::YesRehash
        );
        // Interoperates with the reference implementation's PHC parsing.
        use argon2::PasswordVerifier;
        assert!(
            Argon2::default()
                .verify_password(b"Une phrase de passe", phc.as_str())
                .is_ok()
        );
        Ok(())
    }
}
