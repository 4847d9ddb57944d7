//! The domain model. These are the stored facts; each dialect renders them in its own
//! shapes (ChatKitty resources, PRISM chats, Tencent room info, ...).

mod application;
mod channel;
mod dialect;
mod job;
mod live;
mod mentions;
mod message;
mod moderation;
mod notifications;
mod receipts;
mod sessions;
mod threads;
mod user;

pub use application::*;
pub use channel::*;
pub use dialect::*;
pub use job::*;
pub use live::*;
pub use mentions::*;
pub use message::*;
pub use moderation::*;
pub use notifications::*;
pub use receipts::*;
pub use sessions::*;
pub use threads::*;
pub use user::*;

/// Timestamps are UTC with microsecond precision everywhere.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The current time truncated to microseconds, so a value survives a round trip
/// through every store unchanged.
pub fn now() -> Timestamp {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
