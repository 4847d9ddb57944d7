//! Reply threads.
//!
//! hubbub's thread model: every channel has one **MAIN** thread (its top-level
//! messages), and every message has one **MESSAGE** thread (the replies to it, whose
//! `parent_id` is that message). Threads are not stored: both kinds follow from the
//! channel and from `parent_id`, so a thread exists as soon as its channel or message
//! does and costs nothing until someone replies. Their ids are derived:
//!
//! * the MAIN thread of channel `c` has id `-c` (negative);
//! * the MESSAGE thread of message `m` has id `m` (the message's own id).
//!
//! STANDALONE threads (named threads not attached to a message) are not supported.

use super::Timestamp;
use crate::ids::{ChannelId, MessageId, ThreadId};
use serde::{Deserialize, Serialize};

/// Which thread an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ThreadRef {
    /// The top-level messages of a channel.
    Main(ChannelId),
    /// The replies to a message.
    Message(MessageId),
}

impl ThreadRef {
    /// The thread's public id.
    pub fn id(self) -> ThreadId {
        match self {
            ThreadRef::Main(channel) => ThreadId(-channel.0),
            ThreadRef::Message(message) => ThreadId(message.0),
        }
    }

    /// The thread an id names; `None` for 0 (and for `i64::MIN`, which has no channel).
    pub fn from_id(id: ThreadId) -> Option<Self> {
        match id.0 {
            0 | i64::MIN => None,
            n if n < 0 => Some(ThreadRef::Main(ChannelId(-n))),
            n => Some(ThreadRef::Message(MessageId(n))),
        }
    }

    /// `MAIN` or `MESSAGE`, as ChatKitty names thread types.
    pub fn kind(self) -> &'static str {
        match self {
            ThreadRef::Main(_) => "MAIN",
            ThreadRef::Message(_) => "MESSAGE",
        }
    }
}

/// A thread as readers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    pub reference: ThreadRef,
    pub channel_id: ChannelId,
    /// When the thread began: its channel's creation for a MAIN thread, its message's
    /// for a MESSAGE thread.
    pub created_at: Timestamp,
}

/// Restricts a message list to one thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadFilter {
    /// Messages that reply to nothing (a channel's MAIN thread, with `channel_id`).
    TopLevel,
    /// Replies to this message.
    RepliesTo(MessageId),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_ids_round_trip_and_do_not_collide() {
        let main = ThreadRef::Main(ChannelId(702));
        let replies = ThreadRef::Message(MessageId(702));
        assert_eq!(main.id(), ThreadId(-702));
        assert_eq!(replies.id(), ThreadId(702));
        assert_eq!(ThreadRef::from_id(main.id()), Some(main));
        assert_eq!(ThreadRef::from_id(replies.id()), Some(replies));
        assert_eq!(ThreadRef::from_id(ThreadId(0)), None);
        assert_eq!(ThreadRef::from_id(ThreadId(i64::MIN)), None);
        assert_eq!(main.kind(), "MAIN");
        assert_eq!(replies.kind(), "MESSAGE");
    }
}
