//! Read queries, written against any sqlx executor: the pool serves them to callers,
//! and the writes run the same ones inside their transactions.

pub(crate) mod applications;
pub(crate) mod channels;
pub(crate) mod filters;
pub(crate) mod invites;
pub(crate) mod jobs;
pub(crate) mod messages;
pub(crate) mod moderation;
pub(crate) mod notifications;
pub(crate) mod receipts;
pub(crate) mod reports;
pub(crate) mod sessions;
pub(crate) mod users;
