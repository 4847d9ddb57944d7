//! Tencent UserSig v2 (TLSSigAPIv2) verification, as Tencent's own Go verifier does
//! it (seed-surfaces 4.4). Pure: no I/O, the time is a parameter.
//!
//! A UserSig is `base64(zlib(JSON))` with the characters `+ / =` mapped to `* - _`.
//! The JSON carries `TLS.ver` ("2.0"), `TLS.identifier`, `TLS.sdkappid`, `TLS.time`,
//! `TLS.expire`, an optional `TLS.userbuf` and `TLS.sig` = base64(HMAC-SHA256(key,
//! content)), where `content` is the fixed text of [`UserSig::content`]. The official
//! generators differ in key order and spacing, so sigs are decoded and their fields
//! compared; strings are never compared.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::io::Read;

/// Longest UserSig accepted, in characters. Real ones are about 200; a sig with a
/// userbuf a few hundred more.
pub(crate) const MAX_USERSIG_CHARS: usize = 4096;

/// Most bytes a UserSig may inflate to, so a small zlib bomb costs nothing.
pub(crate) const MAX_INFLATED_BYTES: u64 = 8192;

/// Standard base64 that tolerates missing padding and non-zero trailing bits (Go's
/// `StdEncoding` is not strict about the latter either).
const TOLERANT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why a UserSig was refused. Each maps to one Tencent error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigError {
    /// Missing, not base64, not zlib, too big, not the JSON of a v2 sig (70003).
    Malformed,
    /// `TLS.sdkappid` is not the request's SDKAppID (70014).
    SdkAppIdMismatch,
    /// `TLS.identifier` is not the request's identifier (70013).
    IdentifierMismatch,
    /// `now > TLS.time + TLS.expire` (70001).
    Expired,
    /// A userbuf where none is expected, none where one is, or a different one.
    UserBufMismatch,
    /// The HMAC does not match: signed with another key, or altered (70009).
    BadSignature,
}

impl SigError {
    /// The Tencent error code. A userbuf mismatch is a verification failure
    /// (70009): the sig is genuine-looking but not a plain UserSig.
    pub(crate) fn code(self) -> u32 {
        match self {
            SigError::Malformed => 70003,
            SigError::SdkAppIdMismatch => 70014,
            SigError::IdentifierMismatch => 70013,
            SigError::Expired => 70001,
            SigError::UserBufMismatch | SigError::BadSignature => 70009,
        }
    }

    pub(crate) fn message(self) -> &'static str {
        match self {
            SigError::Malformed => "usersig is missing or cannot be decoded as a UserSig v2",
            SigError::SdkAppIdMismatch => "usersig was not issued for this sdkappid",
            SigError::IdentifierMismatch => "usersig was not issued for this identifier",
            SigError::Expired => "usersig has expired",
            SigError::UserBufMismatch => "usersig verification failed: unexpected userbuf",
            SigError::BadSignature => "usersig verification failed: signature mismatch",
        }
    }
}

/// A decoded (not yet verified) UserSig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserSig {
    pub(crate) identifier: String,
    pub(crate) sdkappid: u64,
    /// Unix seconds when it was issued.
    pub(crate) time: i64,
    /// Lifetime in seconds.
    pub(crate) expire: i64,
    pub(crate) userbuf: Option<Vec<u8>>,
    pub(crate) sig: Vec<u8>,
}

#[derive(Deserialize)]
struct SigDocument {
    #[serde(rename = "TLS.ver")]
    ver: String,
    #[serde(rename = "TLS.identifier")]
    identifier: String,
    #[serde(rename = "TLS.sdkappid")]
    sdkappid: u64,
    #[serde(rename = "TLS.time")]
    time: i64,
    #[serde(rename = "TLS.expire")]
    expire: i64,
    #[serde(rename = "TLS.userbuf", default)]
    userbuf: Option<String>,
    #[serde(rename = "TLS.sig")]
    sig: String,
}

/// What a request expects of its UserSig.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    pub(crate) sdkappid: u64,
    pub(crate) identifier: &'a str,
    /// The application's UserSig key: its UTF-8 bytes are the HMAC key, as-is.
    pub(crate) key: &'a str,
    /// `None` for a plain UserSig (the REST API's case).
    pub(crate) userbuf: Option<&'a [u8]>,
    /// Unix seconds.
    pub(crate) now: i64,
}

/// Decodes and verifies a UserSig: the checks run in the Go verifier's order.
pub(crate) fn verify(usersig: &str, expected: &Expected<'_>) -> Result<UserSig, SigError> {
    let sig = decode(usersig)?;
    sig.verify(expected)?;
    Ok(sig)
}

/// Reverses the character map, base64-decodes, inflates (capped) and parses.
pub(crate) fn decode(usersig: &str) -> Result<UserSig, SigError> {
    if usersig.is_empty() || usersig.len() > MAX_USERSIG_CHARS {
        return Err(SigError::Malformed);
    }
    let standard: String = usersig
        .chars()
        .map(|c| match c {
            '*' => '+',
            '-' => '/',
            '_' => '=',
            other => other,
        })
        .collect();
    let compressed = TOLERANT_STANDARD
        .decode(standard.as_bytes())
        .map_err(|_| SigError::Malformed)?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .take(MAX_INFLATED_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|_| SigError::Malformed)?;
    if json.len() as u64 > MAX_INFLATED_BYTES {
        return Err(SigError::Malformed);
    }
    let doc: SigDocument = serde_json::from_slice(&json).map_err(|_| SigError::Malformed)?;
    if doc.ver != "2.0" {
        return Err(SigError::Malformed);
    }
    let sig = TOLERANT_STANDARD
        .decode(doc.sig.as_bytes())
        .map_err(|_| SigError::Malformed)?;
    let userbuf = doc
        .userbuf
        .map(|b| TOLERANT_STANDARD.decode(b.as_bytes()))
        .transpose()
        .map_err(|_| SigError::Malformed)?;
    Ok(UserSig {
        identifier: doc.identifier,
        sdkappid: doc.sdkappid,
        time: doc.time,
        expire: doc.expire,
        userbuf,
        sig,
    })
}

impl UserSig {
    /// Checks sdkappid, identifier, expiry, userbuf, then the HMAC (in constant time).
    pub(crate) fn verify(&self, expected: &Expected<'_>) -> Result<(), SigError> {
        if self.sdkappid != expected.sdkappid {
            return Err(SigError::SdkAppIdMismatch);
        }
        if self.identifier != expected.identifier {
            return Err(SigError::IdentifierMismatch);
        }
        // An end past i64 wraps negative in the Go verifier: it counts as expired.
        if self
            .time
            .checked_add(self.expire)
            .is_none_or(|end| expected.now > end)
        {
            return Err(SigError::Expired);
        }
        if self.userbuf.as_deref() != expected.userbuf {
            return Err(SigError::UserBufMismatch);
        }
        let mut mac = Hmac::<Sha256>::new_from_slice(expected.key.as_bytes())
            .expect("HMAC takes keys of any length");
        mac.update(self.content().as_bytes());
        mac.verify_slice(&self.sig)
            .map_err(|_| SigError::BadSignature)
    }

    /// The text the HMAC covers: each field on its own line, in this order, numbers
    /// in plain decimal, the userbuf (when there is one) in standard base64.
    pub(crate) fn content(&self) -> String {
        let mut content = format!(
            "TLS.identifier:{}\nTLS.sdkappid:{}\nTLS.time:{}\nTLS.expire:{}\n",
            self.identifier, self.sdkappid, self.time, self.expire
        );
        if let Some(buf) = &self.userbuf {
            content.push_str("TLS.userbuf:");
            content.push_str(&base64::engine::general_purpose::STANDARD.encode(buf));
            content.push('\n');
        }
        content
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use std::io::Write;

    /// `npm tls-sig-api-v2@1.0.2`, `genUserSig('administrator', 86400)` with sdkappid
    /// 1400000000, key `hubbub-test-key` and the clock pinned to 1700000000
    /// (seed-surfaces 4.4).
    const NPM_SIG: &str = "eJxVysEKgkAYBOB3*a*FriYqC93sYolB4qGb8K8xxNq2u4QWvXtgdmhu8828qDmcgoeyJCkOBK3nDlaDR4*ZO9YY4Lzt-M0uB8fXzhgwySgRS76Lh1Yko*xf1WhgFck8TX7kcCFJz0wf7X0qOSl3VdNrLlqo8Vxw2qKON6uprsI9RIgh39L7A74hM*Y_";
    /// The PyPI package (1.1) with the same inputs: another string, the same sig.
    const PYPI_SIG: &str = "eJyrVgrxCdYrSy1SslJQMtIzUNJRAItkpqTmlWSmZUIkElNyM-Myi0uKEkvyi2BKilOyEwsKMlOACgxNDKAAKpdaUZBZlAqUsTAzgQuWZOaChAzN0RQXZ6aDLKkyzw0oKqz0SjHxcvUNSctNcQnLTK2IckkxC8v0NzLWrvT31ffONNDPzLOwVaoFAE8eNUY_";
    const KEY: &str = "hubbub-test-key";
    const APP: u64 = 1_400_000_000;
    const TIME: i64 = 1_700_000_000;

    fn expected(now: i64) -> Expected<'static> {
        Expected {
            sdkappid: APP,
            identifier: "administrator",
            key: KEY,
            userbuf: None,
            now,
        }
    }

    /// A generator written from the spec, for cases the vectors do not cover.
    fn generate(json: &str) -> String {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(json.as_bytes()).unwrap();
        STANDARD
            .encode(z.finish().unwrap())
            .replace('+', "*")
            .replace('/', "-")
            .replace('=', "_")
    }

    fn signed(identifier: &str, time: i64, expire: i64, userbuf: Option<&[u8]>) -> String {
        let doc = UserSig {
            identifier: identifier.into(),
            sdkappid: APP,
            time,
            expire,
            userbuf: userbuf.map(<[u8]>::to_vec),
            sig: vec![],
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
        mac.update(doc.content().as_bytes());
        let sig = STANDARD.encode(mac.finalize().into_bytes());
        let buf = userbuf
            .map(|b| format!(",\"TLS.userbuf\":\"{}\"", STANDARD.encode(b)))
            .unwrap_or_default();
        generate(&format!(
            "{{\"TLS.ver\":\"2.0\",\"TLS.identifier\":\"{identifier}\",\"TLS.sdkappid\":{APP},\"TLS.time\":{time},\"TLS.expire\":{expire}{buf},\"TLS.sig\":\"{sig}\"}}"
        ))
    }

    #[test]
    fn the_npm_and_pypi_vectors_decode_to_the_same_fields() {
        let npm = decode(NPM_SIG).unwrap();
        let pypi = decode(PYPI_SIG).unwrap();
        assert_eq!(npm, pypi);
        assert_eq!(npm.identifier, "administrator");
        assert_eq!(npm.sdkappid, APP);
        assert_eq!((npm.time, npm.expire), (TIME, 86_400));
        assert_eq!(npm.userbuf, None);
        assert_eq!(
            STANDARD.encode(&npm.sig),
            "z7mPrqyJd4JEMTfmdDViexZDd6ViO23+yOM/Ki0/in8="
        );
        assert_eq!(
            npm.content(),
            "TLS.identifier:administrator\nTLS.sdkappid:1400000000\nTLS.time:1700000000\nTLS.expire:86400\n"
        );
    }

    #[test]
    fn both_vectors_verify_throughout_their_lifetime_and_expire_after() {
        for sig in [NPM_SIG, PYPI_SIG] {
            for now in [TIME, TIME + 1, TIME + 43_200, TIME + 86_400] {
                assert!(verify(sig, &expected(now)).is_ok(), "{now}");
            }
            assert_eq!(
                verify(sig, &expected(TIME + 86_401)),
                Err(SigError::Expired)
            );
        }
    }

    #[test]
    fn the_decoder_matrix_of_the_worked_example() {
        for sig in [NPM_SIG, PYPI_SIG] {
            let other_key = Expected {
                key: "another-key",
                ..expected(TIME)
            };
            assert_eq!(verify(sig, &other_key), Err(SigError::BadSignature));
            let admin = Expected {
                identifier: "admin",
                ..expected(TIME)
            };
            assert_eq!(verify(sig, &admin), Err(SigError::IdentifierMismatch));
            let other_app = Expected {
                sdkappid: 1_400_000_001,
                ..expected(TIME)
            };
            assert_eq!(verify(sig, &other_app), Err(SigError::SdkAppIdMismatch));
        }
        assert_eq!(SigError::BadSignature.code(), 70009);
        assert_eq!(SigError::IdentifierMismatch.code(), 70013);
        assert_eq!(SigError::SdkAppIdMismatch.code(), 70014);
        assert_eq!(SigError::Expired.code(), 70001);
        assert_eq!(SigError::Malformed.code(), 70003);
    }

    #[test]
    fn checks_run_in_the_go_verifiers_order() {
        // Wrong app, wrong identifier, expired and wrongly keyed at once: the app wins.
        let everything_wrong = Expected {
            sdkappid: 1,
            identifier: "admin",
            key: "x",
            userbuf: None,
            now: i64::MAX,
        };
        assert_eq!(
            verify(NPM_SIG, &everything_wrong),
            Err(SigError::SdkAppIdMismatch)
        );
        let expired_and_wrong_key = Expected {
            key: "x",
            ..expected(TIME + 86_401)
        };
        assert_eq!(
            verify(NPM_SIG, &expired_and_wrong_key),
            Err(SigError::Expired)
        );
    }

    #[test]
    fn missing_padding_is_tolerated() {
        let trimmed = NPM_SIG.trim_end_matches('_');
        assert_ne!(trimmed, NPM_SIG);
        assert!(verify(trimmed, &expected(TIME)).is_ok());
    }

    #[test]
    fn garbage_is_malformed() {
        let not_zlib = STANDARD.encode(b"{\"TLS.ver\":\"2.0\"}").replace('=', "_");
        let cases = [
            String::new(),
            "not base64 !!".into(),
            not_zlib,
            generate("not json"),
            generate("[]"),
            // Version 1 sigs and anything not "2.0".
            generate(
                r#"{"TLS.ver":"1.0","TLS.identifier":"administrator","TLS.sdkappid":1400000000,"TLS.time":1700000000,"TLS.expire":86400,"TLS.sig":"AAAA"}"#,
            ),
            // A field missing or of the wrong type.
            generate(
                r#"{"TLS.ver":"2.0","TLS.identifier":"administrator","TLS.time":1700000000,"TLS.expire":86400,"TLS.sig":"AAAA"}"#,
            ),
            generate(
                r#"{"TLS.ver":"2.0","TLS.identifier":"administrator","TLS.sdkappid":"1400000000","TLS.time":1700000000,"TLS.expire":86400,"TLS.sig":"AAAA"}"#,
            ),
            // A sig that is not base64.
            generate(
                r#"{"TLS.ver":"2.0","TLS.identifier":"administrator","TLS.sdkappid":1400000000,"TLS.time":1700000000,"TLS.expire":86400,"TLS.sig":"%%%"}"#,
            ),
            "A".repeat(MAX_USERSIG_CHARS + 1),
        ];
        for case in cases {
            assert_eq!(decode(&case), Err(SigError::Malformed), "{case}");
        }
    }

    #[test]
    fn inflation_is_capped() {
        let padding = " ".repeat(MAX_INFLATED_BYTES as usize);
        let bomb = generate(&format!(
            "{{\"TLS.ver\":\"2.0\"{padding},\"TLS.identifier\":\"administrator\",\"TLS.sdkappid\":1400000000,\"TLS.time\":1700000000,\"TLS.expire\":86400,\"TLS.sig\":\"AAAA\"}}"
        ));
        assert!(bomb.len() < MAX_USERSIG_CHARS, "it compresses well");
        assert_eq!(decode(&bomb), Err(SigError::Malformed));
    }

    #[test]
    fn the_spec_generator_agrees_with_the_official_ones() {
        let ours = signed("administrator", TIME, 86_400, None);
        assert_eq!(decode(&ours).unwrap(), decode(NPM_SIG).unwrap());
        assert!(verify(&ours, &expected(TIME)).is_ok());
    }

    #[test]
    fn a_userbuf_must_be_expected_and_match() {
        let with_buf = signed("administrator", TIME, 86_400, Some(b"room-7"));
        let expecting = Expected {
            userbuf: Some(b"room-7"),
            ..expected(TIME)
        };
        assert!(verify(&with_buf, &expecting).is_ok());
        assert_eq!(
            verify(&with_buf, &expected(TIME)),
            Err(SigError::UserBufMismatch)
        );
        let other = Expected {
            userbuf: Some(b"room-8"),
            ..expected(TIME)
        };
        assert_eq!(verify(&with_buf, &other), Err(SigError::UserBufMismatch));
        assert_eq!(verify(NPM_SIG, &expecting), Err(SigError::UserBufMismatch));
        assert_eq!(SigError::UserBufMismatch.code(), 70009);
    }

    #[test]
    fn a_field_changed_after_signing_fails_the_hmac() {
        // Re-pack the npm sig with a longer lifetime but the original TLS.sig.
        let tampered = generate(
            r#"{"TLS.ver":"2.0","TLS.identifier":"administrator","TLS.sdkappid":1400000000,"TLS.time":1700000000,"TLS.expire":999999,"TLS.sig":"z7mPrqyJd4JEMTfmdDViexZDd6ViO23+yOM/Ki0/in8="}"#,
        );
        assert_eq!(
            verify(&tampered, &expected(TIME)),
            Err(SigError::BadSignature)
        );
    }

    #[test]
    fn an_end_beyond_i64_counts_as_expired() {
        let overflowing = signed("administrator", TIME, i64::MAX, None);
        assert_eq!(
            verify(&overflowing, &expected(TIME)),
            Err(SigError::Expired)
        );
    }
}
