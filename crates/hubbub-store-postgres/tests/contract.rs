//! The shared store contract, run against PostgreSQL: a fresh database (cloned from a
//! migrated template) for every test, dropped after it. The server is
//! `HUBBUB_TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`); an
//! unreachable server fails the tests with a message saying so.

use hubbub_store_postgres::PostgresStore;
use hubbub_store_postgres::test_database::TestDatabase;
use hubbub_store_tests::Fixture;
use std::sync::Arc;

async fn fresh_store() -> Fixture {
    let database = TestDatabase::create().await;
    let store = PostgresStore::open(database.options())
        .await
        .expect("open a fresh postgres store");
    Fixture::new(Arc::new(store), database)
}

hubbub_store_tests::store_contract_tests!(fresh_store);
