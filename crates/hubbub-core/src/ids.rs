//! Typed 64-bit identifiers. ChatKitty exposes every id as an int64, and so do we; the
//! newtypes stop a channel id from being passed where a user id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                Self(v)
            }
        }
    };
}

id_type!(
    /// An application (tenant). Every stored row belongs to exactly one.
    AppId
);
id_type!(
    /// A chat user, unique within its application.
    UserId
);
id_type!(
    /// A channel (a chat room; a live room is a channel with live attributes).
    ChannelId
);
id_type!(
    /// A message. Ids grow with time within a node, so they double as cursors.
    MessageId
);
id_type!(
    /// A live session: one broadcast of a live room.
    LiveSessionId
);
id_type!(
    /// A background job of an application (an import or an analytics export).
    JobId
);
id_type!(
    /// A reply thread: a channel's main thread or a message's reply thread (see
    /// [`ThreadRef`](crate::model::ThreadRef) for how the id encodes which).
    ThreadId
);
id_type!(
    /// A notification of a user.
    NotificationId
);
id_type!(
    /// A report of a message.
    ReportId
);
id_type!(
    /// A user session: one connected realtime client of a user.
    UserSessionId
);
id_type!(
    /// A chat session: one user session's subscription to one channel.
    ChatSessionId
);
