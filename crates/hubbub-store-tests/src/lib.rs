//! # hubbub-store-tests
//!
//! The one contract suite every [`Store`] backend runs, so the backends cannot drift.
//! Each test is a public `async fn(Arc<dyn Store>)` written against the trait only; it
//! gets a fresh, empty store and asserts values, not just success.
//!
//! A backend runs the whole suite from its own `tests/contract.rs`:
//!
//! ```ignore
//! async fn fresh_store() -> hubbub_store_tests::Fixture {
//!     let dir = tempfile::tempdir().unwrap();
//!     let store = MyStore::open(dir.path().join("db")).await.unwrap();
//!     hubbub_store_tests::Fixture::new(Arc::new(store), dir)
//! }
//! hubbub_store_tests::store_contract_tests!(fresh_store);
//! ```
//!
//! which expands to one `#[test]` per contract test (each on its own multi-threaded
//! tokio runtime), or calls [`run_all`] to run them in sequence.
//!
//! This crate may depend on `hubbub-core`, tokio, futures, chrono and serde_json —
//! never on a backend.

mod applications;
mod channels;
mod fixtures;
mod isolation;
mod jobs;
mod messages;
mod moderation;
mod receipts;
mod restrictions;
mod sessions;
mod threads;
mod users;

pub use applications::*;
pub use channels::*;
pub use isolation::*;
pub use jobs::*;
pub use messages::*;
pub use moderation::*;
pub use receipts::*;
pub use restrictions::*;
pub use sessions::*;
pub use threads::*;
pub use users::*;

use hubbub_core::store::Store;
use std::any::Any;
use std::future::Future;
use std::sync::Arc;

/// A fresh store for one test, with whatever must live as long as it (a temporary
/// directory, a test database handle).
pub struct Fixture {
    pub store: Arc<dyn Store>,
    _keep: Option<Box<dyn Any + Send>>,
}

impl Fixture {
    /// A store and a value kept alive until the test ends.
    pub fn new(store: Arc<dyn Store>, keep: impl Any + Send) -> Self {
        Self {
            store,
            _keep: Some(Box::new(keep)),
        }
    }
}

impl From<Arc<dyn Store>> for Fixture {
    fn from(store: Arc<dyn Store>) -> Self {
        Self { store, _keep: None }
    }
}

/// Runs one test on its own multi-threaded runtime (concurrency tests need real
/// parallelism). Used by [`store_contract_tests!`].
#[doc(hidden)]
pub fn run_one<M, MF, F, T, TF>(make: M, test: T)
where
    M: FnOnce() -> MF,
    MF: Future<Output = F>,
    F: Into<Fixture>,
    T: FnOnce(Arc<dyn Store>) -> TF,
    TF: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the contract test");
    runtime.block_on(async {
        let fixture: Fixture = make().await.into();
        test(Arc::clone(&fixture.store)).await;
        drop(fixture);
    });
}

macro_rules! suite {
    ($d:tt $($name:ident),* $(,)?) => {
        /// Names of every contract test, in the order [`run_all`] runs them.
        pub const CONTRACT_TESTS: &[&str] = &[$(stringify!($name)),*];

        /// Runs every contract test in sequence, each on a fresh store from `make`.
        pub async fn run_all<M, MF, F>(make: M)
        where
            M: Fn() -> MF,
            MF: Future<Output = F>,
            F: Into<Fixture>,
        {
            $(
                {
                    let fixture: Fixture = make().await.into();
                    $name(Arc::clone(&fixture.store)).await;
                }
            )*
        }

        /// Expands to one `#[test]` per contract test, each on a fresh store from
        /// `$make` (an async fn returning `Arc<dyn Store>` or a [`Fixture`]).
        #[macro_export]
        macro_rules! store_contract_tests {
            ($d make:path) => {
                $(
                    #[test]
                    fn $name() {
                        $d crate::run_one($d make, $d crate::$name);
                    }
                )*
            };
        }
    };
}

suite!($
    // health, applications, access tokens
    check_ready_on_a_fresh_store,
    applications_round_trip,
    duplicate_client_id_conflicts,
    app_settings_update,
    access_tokens_store_find_and_purge,
    // users and secrets
    users_round_trip,
    duplicate_user_name_conflicts,
    update_user_changes_only_given_fields,
    missing_users_are_not_found,
    list_users_pages_sorts_and_counts,
    list_users_filters_by_properties_subset,
    list_users_filters_by_unread,
    user_secrets_set_replace_delete,
    delete_user_removes_memberships_roles_secrets_and_marks,
    // channels, members, moderators
    channels_round_trip,
    duplicate_channel_names_and_direct_keys_conflict,
    update_channel_changes_only_given_fields,
    list_channels_filters_pages_and_counts,
    delete_channel_cascades,
    members_add_remove_list,
    moderators_add_remove_list,
    // messages
    append_assigns_seqs_ids_and_updates_the_channel,
    concurrent_appends_have_no_gaps,
    idempotent_appends_return_the_original,
    concurrent_idempotent_appends_store_one_message,
    a_failing_append_does_not_fail_its_neighbours,
    get_message_joins_the_author,
    list_messages_cursor_paging,
    reads_see_acknowledged_writes,
    list_messages_filters,
    messages_after_seq_is_oldest_first,
    update_message_sets_edited_at_only_on_body_change,
    delete_message_keeps_seqs_and_fixes_last_message,
    read_marks_never_move_backwards,
    stats_count_commits_and_messages,
    // tenant isolation
    tenant_isolation_of_users,
    tenant_isolation_of_channels,
    tenant_isolation_of_messages,
    // jobs
    jobs_round_trip,
    list_jobs_filters_by_running_and_pages,
    abandoned_jobs_fail_and_heartbeats_keep_jobs_alive,
    append_messages_keeps_order_and_isolates_failures,
    import_keys_round_trip_per_app_and_scope,
    keyset_walks_cover_every_row_once,
    // threads, receipts, notifications, sessions, reports, invites
    replies_count_follows_replies,
    thread_filters_list_top_level_and_replies,
    extras_are_written_with_their_message_once,
    a_failing_append_writes_none_of_its_extras,
    notifications_are_cursor_paged_newest_first,
    tenant_isolation_of_threads_and_notifications,
    read_marks_keep_their_time_and_history,
    unread_summaries_count_per_channel_and_member,
    reports_count_once_per_user,
    invites_are_pending_until_membership,
    tenant_isolation_of_reports_and_invites,
    sessions_start_end_and_list_by_state,
    end_active_sessions_ends_every_application,
    tenant_isolation_of_sessions,
    // moderation, dialect credentials and tokens, passwords
    restrictions_set_replace_lapse_and_lift,
    restrictions_page_in_order_and_leave_with_their_user,
    robots_are_capped_ordered_and_removable,
    dialect_credentials_are_unique_per_dialect,
    dialect_tokens_find_take_once_expire_and_revoke,
    user_passwords_set_clear_and_stay_private,
);
