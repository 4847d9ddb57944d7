//! Fan-out: from the bus to every local subscriber of a channel.
//!
//! One [`Hub`] per node reads the bus and routes each committed [`ChannelEvent`] to the
//! subscribers of its channel ("room"). Each event is encoded **once per wire format**
//! present in the room (Centrifugo JSON push, SSE event, ...) by the transport's
//! [`FrameEncoder`], and the same [`Frame`] (an `Arc<[u8]>`) is queued for every
//! subscriber: nothing is serialized per subscriber.
//!
//! Every connection owns one [`Outbox`]: a bounded queue drained by the connection's
//! writer, which joins whatever is queued into one socket write.
//!
//! **Slow consumers.** Queuing never waits. When a connection's outbox is full, the
//! outbox closes itself with the overflow reason it was built with (the gateway uses
//! Centrifugo's 3008 "slow", which tells the client to reconnect and recover from
//! history) and drops what it held. The room moves on; nobody else waits.
//!
//! **Order.** The engine publishes after each commit, and under group commit two
//! callers of the same commit may publish in either order. A room therefore delivers
//! `message.created` events strictly in seq order: an early arrival waits in the room
//! until the missing seq arrives, and if it does not come within [`GAP_WAIT`] (the bus
//! dropped it, or the node lagged) the room reads the gap from the store. Events
//! without a seq (edits, typing, custom events) are delivered as they come.
//!
//! **Subscribing without a gap.** A subscriber is registered first in a *buffering*
//! state, then the transport reads its starting position (and any recovery) from the
//! store, then [`Hub::activate`] queues the subscribe reply followed by the buffered
//! events newer than that position — under the room lock, so nothing interleaves.
//!
//! **Interest.** A hub built [`Hub::with_interest`] tells the bus when a room appears
//! and when it goes away, so a clustered bus carries other nodes' events of a channel
//! here only while it has subscribers. A new cross-node subscription becomes live a
//! little after the subscriber read its position, so the bus then sends an
//! [`EventType::Resync`], and the room reads from the store whatever was committed in
//! between (the same after a reconnect of the bus).

use crate::bus::Bus;
use crate::events::{ChannelEvent, EventType};
use crate::ids::{AppId, ChannelId};
use crate::store::Store;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, broadcast};

/// One encoded frame, shared by every subscriber that receives it.
pub type Frame = Arc<[u8]>;

/// A channel of one application, as the hub keys it.
pub type RoomKey = (AppId, ChannelId);

/// Identifies one subscription in the hub.
pub type SubId = u64;

/// How long an out-of-order event waits for the seqs before it.
pub const GAP_WAIT: Duration = Duration::from_millis(50);

/// Most events a subscriber may have buffered while it subscribes.
const MAX_SUBSCRIBE_BUFFER: usize = 10_000;

/// Most messages read from the store to fill one gap.
const MAX_GAP_FILL: u32 = 1000;

/// A wire format of frames (an index below [`MAX_FORMATS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameFormat(pub u8);

/// How many distinct frame formats a room can serve.
pub const MAX_FORMATS: usize = 4;

/// Encodes events into frames of the transports' wire formats.
pub trait FrameEncoder: Send + Sync + 'static {
    /// The frame of `event` for subscribers of the channel called `room` (its protocol
    /// name) in `format`.
    fn encode(&self, format: FrameFormat, room: &str, event: &ChannelEvent) -> Frame;

    /// The push frame of a [`EventType::Join`] or [`EventType::Leave`] event from
    /// another node, for the formats that carry such pushes (`None`: not sent).
    fn encode_push(&self, format: FrameFormat, room: &str, event: &ChannelEvent) -> Option<Frame> {
        let _ = (format, room, event);
        None
    }
}

/// Why an outbox closed: a code and a reason for the transport to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closing {
    pub code: u16,
    pub reason: &'static str,
}

struct OutboxState {
    frames: Vec<Frame>,
    bytes: usize,
    closing: Option<Closing>,
}

/// A connection's bounded queue of outgoing frames.
pub struct Outbox {
    state: Mutex<OutboxState>,
    notify: Notify,
    max_frames: usize,
    max_bytes: usize,
    overflow: Closing,
}

impl Outbox {
    /// An outbox holding at most `max_frames` frames and `max_bytes` bytes; beyond
    /// either it closes with `overflow`.
    pub fn new(max_frames: usize, max_bytes: usize, overflow: Closing) -> Self {
        Self {
            state: Mutex::new(OutboxState {
                frames: Vec::new(),
                bytes: 0,
                closing: None,
            }),
            notify: Notify::new(),
            max_frames: max_frames.max(1),
            max_bytes: max_bytes.max(1),
            overflow,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame without waiting. Returns `false` if the outbox is closed, or
    /// has just closed because it was full (the slow-consumer rule).
    pub fn push(&self, frame: Frame) -> bool {
        let mut state = self.lock();
        if state.closing.is_some() {
            return false;
        }
        if state.frames.len() >= self.max_frames || state.bytes + frame.len() > self.max_bytes {
            state.closing = Some(self.overflow);
            state.frames = Vec::new();
            state.bytes = 0;
            drop(state);
            self.notify.notify_one();
            return false;
        }
        let was_empty = state.frames.is_empty();
        state.bytes += frame.len();
        state.frames.push(frame);
        drop(state);
        if was_empty {
            self.notify.notify_one();
        }
        true
    }

    /// Closes the outbox; frames already queued are still handed to the writer, then
    /// the closing. The first closing wins.
    pub fn close(&self, closing: Closing) {
        let mut state = self.lock();
        if state.closing.is_none() {
            state.closing = Some(closing);
        }
        drop(state);
        self.notify.notify_one();
    }

    /// The closing, once closed.
    pub fn closing(&self) -> Option<Closing> {
        self.lock().closing
    }

    /// Frames queued now.
    pub fn len(&self) -> usize {
        self.lock().frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves whatever is queued now into `into` (appending) without waiting; returns
    /// the closing if the outbox closed.
    pub fn take_into(&self, into: &mut Vec<Frame>) -> Option<Closing> {
        let mut state = self.lock();
        into.append(&mut state.frames);
        state.bytes = 0;
        state.closing
    }

    /// The closing this outbox uses when it overflows.
    pub fn overflow(&self) -> Closing {
        self.overflow
    }

    /// Waits until something is queued or the outbox closed (takes nothing).
    pub async fn ready(&self) {
        loop {
            {
                let state = self.lock();
                if !state.frames.is_empty() || state.closing.is_some() {
                    return;
                }
            }
            self.notify.notified().await;
        }
    }

    /// Waits until there is something to write, then moves every queued frame into
    /// `into` (which should be empty) and returns the closing if the outbox closed.
    /// A closed outbox hands out its remaining frames together with the closing.
    pub async fn next_batch(&self, into: &mut Vec<Frame>) -> Option<Closing> {
        loop {
            {
                let mut state = self.lock();
                if !state.frames.is_empty() || state.closing.is_some() {
                    std::mem::swap(&mut state.frames, into);
                    state.bytes = 0;
                    return state.closing;
                }
            }
            self.notify.notified().await;
        }
    }
}

struct Sub {
    outbox: Arc<Outbox>,
    format: FrameFormat,
    /// `message.created` events with a seq at or below this are not delivered (the
    /// subscriber got them in its subscribe reply, or asked to start later).
    skip_through: i64,
    /// While subscribing: events that arrived, with their seq.
    buffer: Option<Vec<(Option<i64>, Frame)>>,
}

struct Room {
    name: Arc<str>,
    /// The seq the room delivers next.
    next_seq: i64,
    /// Events that arrived ahead of `next_seq`.
    pending: BTreeMap<i64, Arc<ChannelEvent>>,
    /// Since when the room waits for a missing seq (or must resync after a lag).
    gap_since: Option<Instant>,
    subs: HashMap<SubId, Sub>,
}

/// Counters of the hub (cumulative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HubStats {
    /// Events taken from the bus for a room with subscribers.
    pub events: u64,
    /// Frames queued to subscribers.
    pub deliveries: u64,
    /// Subscribers dropped because their outbox was full or closed.
    pub dropped_subscribers: u64,
    /// Messages read from the store to fill gaps.
    pub gap_fills: u64,
    /// Rooms now.
    pub rooms: u64,
}

/// The node's fan-out hub. Cheap to share (`Arc<Hub>`).
pub struct Hub {
    rooms: RwLock<HashMap<RoomKey, Arc<Mutex<Room>>>>,
    /// Rooms waiting for a missing seq (only these are looked at on each tick).
    waiting: Mutex<HashSet<RoomKey>>,
    encoder: Arc<dyn FrameEncoder>,
    store: Arc<dyn Store>,
    /// Told when rooms appear and go away.
    interest: Option<Arc<dyn Bus>>,
    next_id: AtomicU64,
    events: AtomicU64,
    deliveries: AtomicU64,
    dropped: AtomicU64,
    gap_fills: AtomicU64,
}

fn lock_room(room: &Mutex<Room>) -> std::sync::MutexGuard<'_, Room> {
    room.lock().unwrap_or_else(|e| e.into_inner())
}

impl Hub {
    pub fn new(encoder: Arc<dyn FrameEncoder>, store: Arc<dyn Store>) -> Self {
        Self {
            rooms: RwLock::new(HashMap::new()),
            waiting: Mutex::new(HashSet::new()),
            encoder,
            store,
            interest: None,
            next_id: AtomicU64::new(1),
            events: AtomicU64::new(0),
            deliveries: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            gap_fills: AtomicU64::new(0),
        }
    }

    /// Tells `bus` when a channel gets its first local subscriber and when it loses
    /// its last ([`Bus::interest`]).
    pub fn with_interest(mut self, bus: Arc<dyn Bus>) -> Self {
        self.interest = Some(bus);
        self
    }

    pub fn stats(&self) -> HubStats {
        HubStats {
            events: self.events.load(Ordering::Relaxed),
            deliveries: self.deliveries.load(Ordering::Relaxed),
            dropped_subscribers: self.dropped.load(Ordering::Relaxed),
            gap_fills: self.gap_fills.load(Ordering::Relaxed),
            rooms: self.rooms.read().map(|r| r.len() as u64).unwrap_or(0),
        }
    }

    /// Registers a subscriber in the buffering state. `name` is the channel's
    /// protocol name; `last_seq` the channel's newest seq as read before this call
    /// (it seeds a new room's position).
    pub fn subscribe(
        &self,
        key: RoomKey,
        name: &str,
        last_seq: i64,
        outbox: Arc<Outbox>,
        format: FrameFormat,
    ) -> SubId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut rooms = self.rooms.write().unwrap_or_else(|e| e.into_inner());
        let room = rooms.entry(key).or_insert_with(|| {
            // Under the rooms lock, so the bus sees appearances and departures in order.
            if let Some(bus) = &self.interest {
                bus.interest(key.0, key.1, true);
            }
            Arc::new(Mutex::new(Room {
                name: Arc::from(name),
                next_seq: last_seq + 1,
                pending: BTreeMap::new(),
                gap_since: None,
                subs: HashMap::new(),
            }))
        });
        lock_room(room).subs.insert(
            id,
            Sub {
                outbox,
                format,
                skip_through: i64::MAX,
                buffer: Some(Vec::new()),
            },
        );
        id
    }

    /// Completes once the bus carries the room's events from other nodes (see
    /// [`Bus::until_live`]); call between [`Hub::subscribe`] and reading the position.
    pub async fn until_live(&self, key: RoomKey) {
        if let Some(bus) = &self.interest {
            bus.until_live(key.0, key.1).await;
        }
    }

    /// Ends the buffering state: queues `first` (the subscribe reply), then the
    /// buffered events newer than `skip_through`, and delivers live events from now on.
    /// Returns `false` if the subscriber is gone (its outbox closed meanwhile).
    pub fn activate(
        &self,
        key: RoomKey,
        id: SubId,
        first: Option<Frame>,
        skip_through: i64,
    ) -> bool {
        let Some(room) = self.room(key) else {
            return false;
        };
        let mut room = lock_room(&room);
        let Some(sub) = room.subs.get_mut(&id) else {
            return false;
        };
        sub.skip_through = skip_through;
        let buffered = sub.buffer.take().unwrap_or_default();
        let mut alive = first.is_none_or(|f| sub.outbox.push(f));
        for (seq, frame) in buffered {
            if !alive {
                break;
            }
            if seq.is_some_and(|s| s <= skip_through) {
                continue;
            }
            alive = sub.outbox.push(frame);
        }
        if !alive {
            room.subs.remove(&id);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        alive
    }

    /// Removes a subscriber (and its room when it was the last).
    pub fn unsubscribe(&self, key: RoomKey, id: SubId) {
        let mut rooms = self.rooms.write().unwrap_or_else(|e| e.into_inner());
        if let Some(room) = rooms.get(&key) {
            let empty = {
                let mut room = lock_room(room);
                room.subs.remove(&id);
                room.subs.is_empty()
            };
            if empty {
                rooms.remove(&key);
                if let Some(bus) = &self.interest {
                    bus.interest(key.0, key.1, false);
                }
            }
        }
    }

    /// Queues a frame (built per format by `frame`) to every active subscriber of the
    /// room but `except`: join and leave pushes, which do not travel through the store.
    pub fn broadcast(
        &self,
        key: RoomKey,
        except: Option<SubId>,
        mut frame: impl FnMut(FrameFormat) -> Option<Frame>,
    ) {
        let Some(room) = self.room(key) else {
            return;
        };
        let mut room = lock_room(&room);
        let mut cache: [Option<Option<Frame>>; MAX_FORMATS] = Default::default();
        let mut dead = Vec::new();
        for (id, sub) in room.subs.iter() {
            if sub.buffer.is_some() || except == Some(*id) {
                continue;
            }
            let slot = &mut cache[usize::from(sub.format.0) % MAX_FORMATS];
            let Some(f) = slot.get_or_insert_with(|| frame(sub.format)).clone() else {
                continue;
            };
            if !sub.outbox.push(f) {
                dead.push(*id);
            }
        }
        for id in dead {
            room.subs.remove(&id);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Subscribers of a room now (active or subscribing).
    pub fn subscriber_count(&self, key: RoomKey) -> usize {
        self.room(key)
            .map(|r| lock_room(&r).subs.len())
            .unwrap_or(0)
    }

    fn room(&self, key: RoomKey) -> Option<Arc<Mutex<Room>>> {
        self.rooms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned()
    }

    /// Routes bus events until the bus closes or `shutdown` completes.
    pub async fn run(
        self: Arc<Self>,
        mut events: broadcast::Receiver<Arc<ChannelEvent>>,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut tick = tokio::time::interval(GAP_WAIT / 2);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                _ = &mut shutdown => return,
                received = events.recv() => match received {
                    Ok(event) => self.route(&event),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "fan-out lagged behind the bus; resyncing rooms from the store");
                        self.mark_all_for_resync();
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = tick.tick() => self.fill_gaps().await,
            }
        }
    }

    /// Routes one event to its room (public for tests and benchmarks).
    pub fn route(&self, event: &Arc<ChannelEvent>) {
        let Some(room) = self.room((event.app_id, event.channel_id)) else {
            return;
        };
        match event.event_type {
            EventType::Resync => {
                self.mark_for_resync((event.app_id, event.channel_id), &room);
                return;
            }
            EventType::Join | EventType::Leave => {
                let name = lock_room(&room).name.clone();
                self.broadcast((event.app_id, event.channel_id), None, |format| {
                    self.encoder.encode_push(format, &name, event)
                });
                return;
            }
            _ => {}
        }
        self.events.fetch_add(1, Ordering::Relaxed);
        let mut room = lock_room(&room);
        match (event.event_type, event.seq) {
            (EventType::MessageCreated, Some(seq)) => {
                if seq < room.next_seq {
                    return;
                }
                if seq > room.next_seq {
                    room.pending.insert(seq, event.clone());
                    if room.gap_since.is_none() {
                        room.gap_since = Some(Instant::now());
                        self.waiting
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert((event.app_id, event.channel_id));
                    }
                    return;
                }
                self.deliver(&mut room, event);
                room.next_seq = seq + 1;
                self.drain_pending(&mut room);
            }
            _ => self.deliver(&mut room, event),
        }
    }

    fn drain_pending(&self, room: &mut Room) {
        while let Some(entry) = room.pending.first_entry() {
            if *entry.key() > room.next_seq {
                break;
            }
            let (seq, event) = entry.remove_entry();
            if seq == room.next_seq {
                self.deliver(room, &event);
                room.next_seq = seq + 1;
            }
        }
        if room.pending.is_empty() {
            room.gap_since = None;
        }
    }

    fn deliver(&self, room: &mut Room, event: &ChannelEvent) {
        let mut frames: [Option<Frame>; MAX_FORMATS] = Default::default();
        let mut dead = Vec::new();
        let mut delivered = 0u64;
        let name = room.name.clone();
        for (id, sub) in room.subs.iter_mut() {
            let slot = &mut frames[usize::from(sub.format.0) % MAX_FORMATS];
            let frame = slot
                .get_or_insert_with(|| self.encoder.encode(sub.format, &name, event))
                .clone();
            if let Some(buffer) = sub.buffer.as_mut() {
                if buffer.len() >= MAX_SUBSCRIBE_BUFFER {
                    sub.outbox.close(sub.outbox.overflow());
                    dead.push(*id);
                } else {
                    buffer.push((event.seq, frame));
                }
                continue;
            }
            if event.seq.is_some_and(|s| s <= sub.skip_through) {
                continue;
            }
            if sub.outbox.push(frame) {
                delivered += 1;
            } else {
                dead.push(*id);
            }
        }
        // A failed push has closed the outbox already (full: the slow-consumer rule).
        for id in dead {
            room.subs.remove(&id);
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.deliveries.fetch_add(delivered, Ordering::Relaxed);
    }

    /// Makes the room read the store on the next tick: events may have been lost.
    fn mark_for_resync(&self, key: RoomKey, room: &Mutex<Room>) {
        lock_room(room).gap_since = Some(Instant::now() - GAP_WAIT);
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
    }

    fn mark_all_for_resync(&self) {
        let rooms: Vec<_> = self
            .rooms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, r)| (*k, r.clone()))
            .collect();
        let now = Instant::now() - GAP_WAIT;
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        for (key, room) in rooms {
            lock_room(&room).gap_since = Some(now);
            waiting.insert(key);
        }
    }

    /// Reads from the store what rooms have waited for longer than [`GAP_WAIT`].
    async fn fill_gaps(&self) {
        let due: Vec<(RoomKey, Arc<Mutex<Room>>)> = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            if waiting.is_empty() {
                return;
            }
            let rooms = self.rooms.read().unwrap_or_else(|e| e.into_inner());
            // Rooms that no longer exist or no longer wait leave the set.
            waiting.retain(|k| {
                rooms
                    .get(k)
                    .is_some_and(|r| lock_room(r).gap_since.is_some())
            });
            waiting
                .iter()
                .filter_map(|k| rooms.get(k).map(|r| (*k, r.clone())))
                .filter(|(_, r)| {
                    lock_room(r)
                        .gap_since
                        .is_some_and(|since| since.elapsed() >= GAP_WAIT)
                })
                .collect()
        };
        for ((app, channel), room) in due {
            let from = lock_room(&room).next_seq - 1;
            let found = match self
                .store
                .messages_after_seq(app, channel, from, MAX_GAP_FILL)
                .await
            {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(error = %e, channel = channel.0, "cannot fill a fan-out gap; will retry");
                    continue;
                }
            };
            let epoch = match self.store.get_channel(app, channel).await {
                Ok(Some(c)) => c.epoch,
                _ => continue,
            };
            let mut room = lock_room(&room);
            for view in &found {
                let seq = view.message.seq;
                if seq < room.next_seq {
                    continue;
                }
                let event = Arc::new(crate::engine::message_created_event(&epoch, view));
                room.pending.remove(&seq);
                self.deliver(&mut room, &event);
                self.gap_fills.fetch_add(1, Ordering::Relaxed);
                room.next_seq = seq + 1;
            }
            // Whatever is still missing below the first pending event was deleted
            // meanwhile: committed seqs below a published one are all in the store.
            if found.len() < MAX_GAP_FILL as usize
                && let Some((&first, _)) = room.pending.first_key_value()
            {
                room.next_seq = room.next_seq.max(first);
            }
            self.drain_pending(&mut room);
            if found.len() >= MAX_GAP_FILL as usize {
                room.gap_since = Some(Instant::now() - GAP_WAIT);
            } else if room.pending.is_empty() {
                room.gap_since = None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLOW: Closing = Closing {
        code: 3008,
        reason: "slow",
    };

    #[tokio::test]
    async fn an_outbox_hands_out_everything_queued_at_once() {
        let outbox = Outbox::new(10, 1000, SLOW);
        assert!(outbox.push(Arc::from(&b"a"[..])));
        assert!(outbox.push(Arc::from(&b"b"[..])));
        let mut batch = Vec::new();
        assert_eq!(outbox.next_batch(&mut batch).await, None);
        assert_eq!(batch.len(), 2);
        outbox.close(Closing {
            code: 3001,
            reason: "shutdown",
        });
        batch.clear();
        assert_eq!(
            outbox.next_batch(&mut batch).await.map(|c| c.code),
            Some(3001)
        );
    }

    #[tokio::test]
    async fn a_full_outbox_closes_as_slow_and_drops_its_frames() {
        let outbox = Outbox::new(2, 1000, SLOW);
        assert!(outbox.push(Arc::from(&b"a"[..])));
        assert!(outbox.push(Arc::from(&b"b"[..])));
        assert!(!outbox.push(Arc::from(&b"c"[..])));
        assert!(!outbox.push(Arc::from(&b"d"[..])));
        let mut batch = Vec::new();
        assert_eq!(outbox.next_batch(&mut batch).await, Some(SLOW));
        assert!(batch.is_empty());
        let by_bytes = Outbox::new(100, 3, SLOW);
        assert!(!by_bytes.push(Arc::from(&b"abcd"[..])));
        assert_eq!(by_bytes.closing(), Some(SLOW));
    }
}
