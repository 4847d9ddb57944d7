//! A lean WebSocket client (RFC 6455) for the viewers of `hubbub-bench ws`.
//!
//! A viewer only reads: at 10,000 viewers × 100 msg/s it handles a million publications
//! a second, so the client does as little per frame as it can. The HTTP/1.1 upgrade is
//! written and checked by hand on a raw `TcpStream`; frames are parsed in place from
//! one reusable buffer per connection, filled by large reads (one syscall picks up
//! everything the kernel has queued); a complete unfragmented message is handed out as
//! a slice of that buffer, without a copy, an allocation or a UTF-8 check (the
//! viewer's checks work on bytes). Only fragmented messages are assembled, into a
//! second reusable buffer.
//!
//! Server frames must be unmasked; frames we send are masked with a random key, as the
//! RFC requires of a client. No extension or subprotocol is negotiated.

use anyhow::{Context, bail, ensure};
use base64::Engine as _;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub(crate) const OP_CONTINUATION: u8 = 0x0;
pub(crate) const OP_TEXT: u8 = 0x1;
pub(crate) const OP_BINARY: u8 = 0x2;
pub(crate) const OP_CLOSE: u8 = 0x8;
pub(crate) const OP_PING: u8 = 0x9;
pub(crate) const OP_PONG: u8 = 0xA;

/// Capacity of a connection's read buffer: one read takes up to this much.
const READ_CAPACITY: usize = 64 * 1024;
/// Below this much free room at the tail, the unparsed bytes move to the front first.
const MIN_READ: usize = 16 * 1024;
/// Largest message (a frame or assembled fragments) accepted.
const MAX_MESSAGE: usize = 16 << 20;
/// Largest HTTP response head accepted during the handshake.
const MAX_RESPONSE_HEAD: usize = 16 * 1024;
/// RFC 6455 §1.3: appended to the key before hashing.
const ACCEPT_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// What the next complete frame (or assembled message) says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    /// A text or binary message, fragments assembled.
    Message(&'a [u8]),
    /// A ping: answer with a pong carrying the same payload.
    Ping(&'a [u8]),
    Pong,
    /// A close frame (its payload: status code and reason, possibly empty).
    Close(&'a [u8]),
}

/// A frame the server sent that breaks RFC 6455 (or exceeds our limits).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ProtocolError(pub(crate) &'static str);

impl std::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for ProtocolError {}

#[derive(Debug, Clone, Copy)]
struct Header {
    fin: bool,
    opcode: u8,
    header_len: usize,
    payload_len: usize,
}

/// Parses a frame header from the start of `bytes`; `None` while it is incomplete.
fn parse_header(bytes: &[u8]) -> Result<Option<Header>, ProtocolError> {
    let [b0, b1, ..] = *bytes else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(ProtocolError(
            "reserved bits set without a negotiated extension",
        ));
    }
    if b1 & 0x80 != 0 {
        return Err(ProtocolError("masked frame from the server"));
    }
    let fin = b0 & 0x80 != 0;
    let opcode = b0 & 0x0F;
    let (payload_len, header_len) = match b1 & 0x7F {
        126 => match bytes.get(2..4) {
            Some(len) => (u64::from(u16::from_be_bytes([len[0], len[1]])), 4),
            None => return Ok(None),
        },
        127 => match bytes.get(2..10) {
            Some(len) => {
                let mut be = [0u8; 8];
                be.copy_from_slice(len);
                let len = u64::from_be_bytes(be);
                if len >> 63 != 0 {
                    return Err(ProtocolError("64-bit length with its top bit set"));
                }
                (len, 10)
            }
            None => return Ok(None),
        },
        len => (u64::from(len), 2),
    };
    if opcode & 0x08 != 0 {
        if !matches!(opcode, OP_CLOSE | OP_PING | OP_PONG) {
            return Err(ProtocolError("unknown control opcode"));
        }
        if payload_len > 125 || !fin {
            return Err(ProtocolError("control frame fragmented or over 125 bytes"));
        }
    } else if !matches!(opcode, OP_CONTINUATION | OP_TEXT | OP_BINARY) {
        return Err(ProtocolError("unknown data opcode"));
    }
    let payload_len = usize::try_from(payload_len)
        .ok()
        .filter(|len| *len <= MAX_MESSAGE)
        .ok_or(ProtocolError("frame too large"))?;
    Ok(Some(Header {
        fin,
        opcode,
        header_len,
        payload_len,
    }))
}

/// Parses server frames incrementally from one reusable buffer.
///
/// `buf[start..]` holds bytes read but not yet parsed. `read_from` appends to it (moving
/// the unparsed tail to the front when the room behind it runs low); `next_event` hands
/// out complete frames as slices of it.
pub(crate) struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    /// Total bytes (header + payload) of the incomplete frame at `start`, when known.
    want: usize,
    /// Fragments of a message being assembled.
    message: Vec<u8>,
    /// A fragmented message has begun and its final fragment is yet to come.
    fragmented: bool,
    /// `message` was handed out by the last call: clear it on the next.
    message_handed_out: bool,
}

impl Default for FrameReader {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameReader {
    pub(crate) fn new() -> Self {
        Self {
            buf: Vec::with_capacity(READ_CAPACITY),
            start: 0,
            want: 0,
            message: Vec::new(),
            fragmented: false,
            message_handed_out: false,
        }
    }

    /// Makes room behind the unparsed bytes for a large read (or for the whole of the
    /// incomplete frame, should it be larger than the buffer).
    fn make_room(&mut self) {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
        let pending = self.buf.len() - self.start;
        let room = MIN_READ.max(self.want.saturating_sub(pending));
        if self.buf.capacity() - self.buf.len() < room && self.start > 0 {
            self.buf.copy_within(self.start.., 0);
            self.buf.truncate(pending);
            self.start = 0;
        }
        if self.buf.capacity() - self.buf.len() < room {
            self.buf.reserve(room);
        }
    }

    /// One read into the buffer's free room (at least `MIN_READ` bytes of it); returns
    /// the bytes read, 0 at end of stream.
    pub(crate) async fn read_from<R: AsyncRead + Unpin>(
        &mut self,
        stream: &mut R,
    ) -> std::io::Result<usize> {
        self.make_room();
        // `read_buf` fills the Vec's spare capacity: nothing is zeroed first.
        stream.read_buf(&mut self.buf).await
    }

    /// The next complete control frame or message in the buffer; `None` when more bytes
    /// are needed (call `read_from`).
    pub(crate) fn next_event(&mut self) -> Result<Option<Event<'_>>, ProtocolError> {
        if self.message_handed_out {
            self.message.clear();
            self.message_handed_out = false;
        }
        loop {
            let Some(header) = parse_header(&self.buf[self.start..])? else {
                self.want = 0;
                return Ok(None);
            };
            let total = header.header_len + header.payload_len;
            if self.buf.len() - self.start < total {
                self.want = total;
                return Ok(None);
            }
            let payload = self.start + header.header_len..self.start + total;
            self.start += total;
            self.want = 0;
            match header.opcode {
                OP_TEXT | OP_BINARY => {
                    if self.fragmented {
                        return Err(ProtocolError("new message before the last one ended"));
                    }
                    if header.fin {
                        return Ok(Some(Event::Message(&self.buf[payload])));
                    }
                    self.message.extend_from_slice(&self.buf[payload]);
                    self.fragmented = true;
                }
                OP_CONTINUATION => {
                    if !self.fragmented {
                        return Err(ProtocolError("continuation without a message"));
                    }
                    if self.message.len() + header.payload_len > MAX_MESSAGE {
                        return Err(ProtocolError("message too large"));
                    }
                    self.message.extend_from_slice(&self.buf[payload]);
                    if header.fin {
                        self.fragmented = false;
                        self.message_handed_out = true;
                        return Ok(Some(Event::Message(&self.message)));
                    }
                }
                OP_PING => return Ok(Some(Event::Ping(&self.buf[payload]))),
                OP_PONG => return Ok(Some(Event::Pong)),
                // parse_header let no other opcode through.
                _ => return Ok(Some(Event::Close(&self.buf[payload]))),
            }
        }
    }
}

/// Appends one final (FIN) frame of `opcode` to `out`, masked with `mask`.
pub(crate) fn encode_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: [u8; 4]) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&len.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
}

/// Appends one frame of `opcode` to `out`, masked with a fresh random key.
pub(crate) fn push_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    encode_frame(out, opcode, payload, rand::random());
}

/// `Sec-WebSocket-Accept` for `key`: base64 of the SHA-1 of key + GUID.
fn accept_for(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(ACCEPT_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Checks the server's response head (status line and headers, up to the blank line).
fn check_response(head: &[u8], key: &str) -> anyhow::Result<()> {
    let head = std::str::from_utf8(head).context("response head is not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    let mut parts = status.split(' ');
    let (version, code) = (parts.next(), parts.next());
    ensure!(
        version.is_some_and(|v| v.starts_with("HTTP/1.")) && code == Some("101"),
        "upgrade refused: {status}"
    );
    let (mut upgrade, mut connection, mut accept) = (false, false, false);
    let expected = accept_for(key);
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').context("malformed header line")?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("upgrade") {
            upgrade = value.eq_ignore_ascii_case("websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection = value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("upgrade"));
        } else if name.eq_ignore_ascii_case("sec-websocket-accept") {
            accept = value == expected;
        } else if name.eq_ignore_ascii_case("sec-websocket-extensions")
            || name.eq_ignore_ascii_case("sec-websocket-protocol")
        {
            bail!("server chose {name} we did not offer");
        }
    }
    ensure!(upgrade, "no `Upgrade: websocket` in the response");
    ensure!(connection, "no `Connection: Upgrade` in the response");
    ensure!(accept, "missing or wrong Sec-WebSocket-Accept");
    Ok(())
}

/// Opens `ws://host:port/path` and performs the upgrade. The reader returned already
/// holds whatever the server sent after the response head.
pub(crate) async fn connect(url: &str) -> anyhow::Result<(TcpStream, FrameReader)> {
    let rest = url.strip_prefix("ws://").context("expected a ws:// URL")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(authority)
        .await
        .with_context(|| format!("connect {authority}"))?;
    stream.set_nodelay(true)?;
    let key = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 16]>());
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await?;
    let mut reader = FrameReader::new();
    let head_len = loop {
        if let Some(at) = memchr::memmem::find(&reader.buf, b"\r\n\r\n") {
            break at + 4;
        }
        ensure!(
            reader.buf.len() < MAX_RESPONSE_HEAD,
            "response head too large"
        );
        if reader.read_from(&mut stream).await? == 0 {
            bail!("connection closed during the upgrade");
        }
    };
    check_response(&reader.buf[..head_len], &key)?;
    reader.start = head_len;
    Ok((stream, reader))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unmasked server frame.
    fn server_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
        match payload.len() {
            n if n < 126 => out.push(n as u8),
            n if n <= 0xFFFF => {
                out.push(126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(payload);
        out
    }

    /// Feeds `bytes` through `read_from` as one read.
    async fn feed(reader: &mut FrameReader, bytes: &[u8]) {
        let mut source = bytes;
        while !source.is_empty() {
            reader.read_from(&mut source).await.unwrap();
        }
    }

    fn owned(event: Event<'_>) -> (u8, Vec<u8>) {
        match event {
            Event::Message(p) => (OP_TEXT, p.to_vec()),
            Event::Ping(p) => (OP_PING, p.to_vec()),
            Event::Pong => (OP_PONG, Vec::new()),
            Event::Close(p) => (OP_CLOSE, p.to_vec()),
        }
    }

    fn drain(reader: &mut FrameReader) -> Vec<(u8, Vec<u8>)> {
        let mut events = Vec::new();
        while let Some(event) = reader.next_event().unwrap() {
            events.push(owned(event));
        }
        events
    }

    #[tokio::test]
    async fn frames_with_7_16_and_64_bit_lengths_are_parsed() {
        for len in [0, 1, 125, 126, 127, 300, 65_535, 65_536, 200_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mut reader = FrameReader::new();
            feed(&mut reader, &server_frame(true, OP_TEXT, &payload)).await;
            assert_eq!(drain(&mut reader), vec![(OP_TEXT, payload)], "length {len}");
            assert_eq!(reader.start, reader.buf.len());
        }
    }

    #[tokio::test]
    async fn several_frames_in_one_read_come_out_in_order() {
        let mut bytes = server_frame(true, OP_TEXT, b"one\ntwo");
        bytes.extend(server_frame(true, OP_PING, b"p"));
        bytes.extend(server_frame(true, OP_BINARY, &[0xFF, 0x00]));
        bytes.extend(server_frame(true, OP_PONG, b""));
        bytes.extend(server_frame(true, OP_CLOSE, &1000u16.to_be_bytes()));
        let mut reader = FrameReader::new();
        feed(&mut reader, &bytes).await;
        assert_eq!(
            drain(&mut reader),
            vec![
                (OP_TEXT, b"one\ntwo".to_vec()),
                (OP_PING, b"p".to_vec()),
                (OP_TEXT, vec![0xFF, 0x00]),
                (OP_PONG, vec![]),
                (OP_CLOSE, vec![0x03, 0xE8]),
            ]
        );
    }

    #[tokio::test]
    async fn a_frame_split_across_reads_comes_out_whole() {
        let payload: Vec<u8> = (0..70_000).map(|i| (i % 13) as u8 + b'a').collect();
        let mut bytes = server_frame(true, OP_TEXT, b"first");
        bytes.extend(server_frame(true, OP_TEXT, &payload));
        bytes.extend(server_frame(true, OP_TEXT, b"last"));
        // Cut inside a header, inside the extended length, and inside payloads.
        for cuts in [vec![1], vec![8, 9], vec![10, 12, 40_000], vec![7, 70_013]] {
            let mut reader = FrameReader::new();
            let mut events = Vec::new();
            let mut from = 0;
            for to in cuts.into_iter().chain([bytes.len()]) {
                feed(&mut reader, &bytes[from..to]).await;
                events.extend(drain(&mut reader));
                from = to;
            }
            assert_eq!(
                events,
                vec![
                    (OP_TEXT, b"first".to_vec()),
                    (OP_TEXT, payload.clone()),
                    (OP_TEXT, b"last".to_vec()),
                ]
            );
        }
        // One byte at a time.
        let mut reader = FrameReader::new();
        let mut events = Vec::new();
        for byte in &bytes {
            feed(&mut reader, std::slice::from_ref(byte)).await;
            events.extend(drain(&mut reader));
        }
        assert_eq!(events.len(), 3);
        assert_eq!(events[1].1, payload);
    }

    #[tokio::test]
    async fn fragments_are_assembled_around_control_frames() {
        let mut bytes = server_frame(false, OP_TEXT, b"{\"a\"");
        bytes.extend(server_frame(true, OP_PING, b"x"));
        bytes.extend(server_frame(false, OP_CONTINUATION, b":1}\n"));
        bytes.extend(server_frame(true, OP_CONTINUATION, b"{}"));
        bytes.extend(server_frame(true, OP_TEXT, b"next"));
        let mut reader = FrameReader::new();
        feed(&mut reader, &bytes).await;
        assert_eq!(
            drain(&mut reader),
            vec![
                (OP_PING, b"x".to_vec()),
                (OP_TEXT, b"{\"a\":1}\n{}".to_vec()),
                (OP_TEXT, b"next".to_vec()),
            ]
        );
        assert!(reader.message.is_empty());
    }

    #[test]
    fn protocol_violations_are_errors() {
        let cases: [(&[u8], &str); 7] = [
            (&[0x81, 0x81, 1, 2, 3, 4, 0], "masked"),
            (&[0xC1, 0x00], "reserved"),
            (&[0x83, 0x00], "data opcode"),
            (&[0x8B, 0x00], "control opcode"),
            (&[0x09, 0x00], "control frame"),
            (&[0x80, 0x00], "continuation"),
            (&[0x81, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0], "top bit"),
        ];
        for (bytes, what) in cases {
            let mut reader = FrameReader::new();
            reader.buf.extend_from_slice(bytes);
            let error = reader.next_event().unwrap_err();
            assert!(error.0.contains(what), "{what}: {error}");
        }
        let mut reader = FrameReader::new();
        reader.buf.extend(server_frame(false, OP_TEXT, b"a"));
        reader.buf.extend(server_frame(true, OP_TEXT, b"b"));
        assert!(reader.next_event().is_err());
        let mut reader = FrameReader::new();
        reader.buf.extend([0x81, 0x7F]);
        reader
            .buf
            .extend_from_slice(&((MAX_MESSAGE as u64) + 1).to_be_bytes());
        assert!(reader.next_event().is_err());
    }

    #[test]
    fn frames_we_send_are_masked() {
        let unmask = |frame: &[u8], header_len: usize| -> Vec<u8> {
            let mask = &frame[header_len - 4..header_len];
            frame[header_len..]
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ mask[i % 4])
                .collect()
        };
        let mut out = Vec::new();
        encode_frame(&mut out, OP_TEXT, b"{}", [1, 2, 3, 4]);
        assert_eq!(out, [0x81, 0x82, 1, 2, 3, 4, b'{' ^ 1, b'}' ^ 2]);
        for (len, header_len, len_byte) in [(125, 6, 125), (126, 8, 126), (70_000, 14, 127)] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 7) as u8).collect();
            let mut out = Vec::new();
            push_frame(&mut out, OP_PONG, &payload);
            assert_eq!(out[0], 0x80 | OP_PONG);
            assert_eq!(out[1], 0x80 | len_byte, "mask bit and length for {len}");
            assert_eq!(out.len(), header_len + len);
            assert_eq!(unmask(&out, header_len), payload);
        }
        // Each frame gets its own key.
        let keys: std::collections::HashSet<[u8; 4]> = (0..16)
            .map(|_| {
                let mut out = Vec::new();
                push_frame(&mut out, OP_TEXT, b"");
                [out[2], out[3], out[4], out[5]]
            })
            .collect();
        assert!(keys.len() > 1);
    }

    #[test]
    fn the_upgrade_response_is_checked() {
        // RFC 6455 §1.3's example.
        let key = "dGhlIHNhbXBsZSBub25jZQ==";
        assert_eq!(accept_for(key), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        let good = "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
        check_response(good.as_bytes(), key).unwrap();
        for bad in [
            good.replace("101 Switching Protocols", "200 OK"),
            good.replace("s3pP", "s3pQ"),
            good.replace("upgrade: WebSocket\r\n", ""),
            good.replace("keep-alive, Upgrade", "keep-alive"),
            good.replace(
                "\r\n\r\n",
                "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n",
            ),
        ] {
            assert!(check_response(bad.as_bytes(), key).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn connect_upgrades_and_keeps_what_follows_the_response() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "ws://{}/connection/websocket",
            listener.local_addr().unwrap()
        );
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            while !request.ends_with(b"\r\n\r\n") {
                let mut byte = [0u8; 1];
                socket.read_exact(&mut byte).await.unwrap();
                request.push(byte[0]);
            }
            let request = String::from_utf8(request).unwrap();
            let key = request
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .unwrap()
                .to_owned();
            let mut response = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                accept_for(&key)
            )
            .into_bytes();
            // The first frame arrives in the same segment as the response head.
            response.extend(server_frame(true, OP_TEXT, b"hello"));
            socket.write_all(&response).await.unwrap();
            // Then read one masked frame from the client and echo its payload.
            let mut head = [0u8; 6];
            socket.read_exact(&mut head).await.unwrap();
            let mut payload = vec![0u8; usize::from(head[1] & 0x7F)];
            socket.read_exact(&mut payload).await.unwrap();
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= head[2 + i % 4];
            }
            socket
                .write_all(&server_frame(true, OP_TEXT, &payload))
                .await
                .unwrap();
            (request, head[1] & 0x80 != 0)
        });
        let (mut stream, mut reader) = connect(&url).await.unwrap();
        assert_eq!(reader.next_event().unwrap(), Some(Event::Message(b"hello")));
        let mut out = Vec::new();
        push_frame(&mut out, OP_TEXT, b"{}");
        stream.write_all(&out).await.unwrap();
        let echoed = loop {
            if let Some(event) = reader.next_event().unwrap() {
                break owned(event);
            }
            assert!(reader.read_from(&mut stream).await.unwrap() > 0);
        };
        assert_eq!(echoed, (OP_TEXT, b"{}".to_vec()));
        let (request, masked) = server.await.unwrap();
        assert!(masked);
        assert!(request.starts_with("GET /connection/websocket HTTP/1.1\r\n"));
        assert!(request.contains("\r\nUpgrade: websocket\r\n"));
        assert!(request.contains("\r\nConnection: Upgrade\r\n"));
        assert!(request.contains("\r\nSec-WebSocket-Version: 13\r\n"));
    }
}
