//! SQLite's WAL must stay bounded under a sustained write load while readers are always busy.

use preau_store::{Db, DbOptions, accounts};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_stays_bounded_with_busy_readers() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("wal.sqlite");
    let options = DbOptions {
        wal_size_limit_bytes: 1024 * 1024,
        ..DbOptions::default()
    };
    let db = Db::connect(&format!("sqlite://{}", path.display()), &options)
        .await
        .expect("sqlite");
    db.migrate().await.expect("migrate");
    db.spawn_wal_checkpointer(Duration::from_millis(100));

    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let mut readers = Vec::new();
    let Db::Sqlite(sqlite) = &db else {
        unreachable!()
    };
    // Overlapping read transactions: at every moment some reader holds a snapshot, which
    // is what keeps SQLite's automatic checkpoints from ever resetting the WAL.
    for n in 0..4u64 {
        let (pool, stop, reads) = (sqlite.reader.clone(), stop.clone(), reads.clone());
        readers.push(tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5 * n)).await;
            while !stop.load(Ordering::Relaxed) {
                let mut conn = pool.acquire().await.expect("reader");
                sqlx::query("BEGIN")
                    .execute(&mut *conn)
                    .await
                    .expect("begin");
                let _ = sqlx::query("SELECT COUNT(*) FROM tenants")
                    .fetch_one(&mut *conn)
                    .await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                sqlx::query("COMMIT")
                    .execute(&mut *conn)
                    .await
                    .expect("commit");
                reads.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let wal = path.with_extension("sqlite-wal");
    let max_wal = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (stop, max_wal, wal) = (stop.clone(), max_wal.clone(), wal.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let size = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
                max_wal.fetch_max(size, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let detail = "x".repeat(2000);
    let writes = 4000;
    for _ in 0..writes {
        accounts::audit(&db, None, None, "bench.write", None, &detail)
            .await
            .expect("write");
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.await.expect("reader");
    }
    watcher.await.expect("watcher");
    assert_eq!(
        accounts::count_audit(&db, "bench.write")
            .await
            .expect("count"),
        writes
    );
    assert!(reads.load(Ordering::Relaxed) > 20, "readers were not busy");
    // 4,000 transactions of ≈ 2 KB write ≈ 16 MB of WAL frames without checkpoints.
    let max = max_wal.load(Ordering::Relaxed);
    assert!(max < 8 * 1024 * 1024, "WAL grew to {max} bytes");
    eprintln!(
        "largest WAL seen: {max} bytes; reads: {}",
        reads.load(Ordering::Relaxed)
    );
    assert!(
        db.checkpoint().await.expect("checkpoint"),
        "checkpoint with no reader left must finish"
    );
    let after = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert!(
        after <= 1024 * 1024,
        "WAL not truncated after checkpoint: {after} bytes"
    );
}
