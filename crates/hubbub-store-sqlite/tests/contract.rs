//! The shared store contract, run against SQLite: a fresh database file in a
//! temporary directory for every test.

use hubbub_store_sqlite::{SqliteOptions, SqliteStore};
use hubbub_store_tests::Fixture;
use std::sync::Arc;

async fn fresh_store() -> Fixture {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(SqliteOptions::new(dir.path().join("hubbub.db")))
        .await
        .expect("open a fresh sqlite store");
    Fixture::new(Arc::new(store), dir)
}

hubbub_store_tests::store_contract_tests!(fresh_store);

/// `run_all` drives the same suite in sequence (for backends that prefer one test).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_also_runs_in_sequence() {
    hubbub_store_tests::run_all(fresh_store).await;
    assert!(hubbub_store_tests::CONTRACT_TESTS.len() >= 38);
}
