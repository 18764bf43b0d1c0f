//! Content digests (`sha256:<64 hex>`): the one way imagelab names blobs, layers
//! (diff_ids) and images (the digest of the config JSON). A `Digest` can only be
//! made by hashing bytes, by parsing a well-formed string, or from the 32
//! bytes of a sha256 computed elsewhere, so every value in the program is
//! valid by construction.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

/// A sha256 content digest.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

/// Why a string is not a digest.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DigestError {
    #[error("invalid checksum digest format")]
    Format,
    #[error("unsupported digest algorithm")]
    Algorithm,
    #[error("invalid checksum digest length")]
    Length,
}

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Parses `sha256:<64 lowercase hex>`.
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let (alg, hex_part) = s.split_once(':').ok_or(DigestError::Format)?;
        if alg.is_empty() || hex_part.is_empty() {
            return Err(DigestError::Format);
        }
        if alg != "sha256" {
            return Err(DigestError::Algorithm);
        }
        Digest::from_hex(hex_part)
    }

    /// Parses the 64 lowercase hex characters alone.
    pub fn from_hex(hex_part: &str) -> Result<Digest, DigestError> {
        if hex_part.len() != 64 {
            return Err(DigestError::Length);
        }
        // One pass, lowercase only, through a table (an index of thousands of
        // digests is read at every start, so this is on the startup path).
        const BAD: u8 = 0xff;
        const NIBBLE: [u8; 256] = {
            let mut t = [BAD; 256];
            let mut i = 0;
            while i < 10 {
                t[b'0' as usize + i] = i as u8;
                i += 1;
            }
            let mut i = 0;
            while i < 6 {
                t[b'a' as usize + i] = 10 + i as u8;
                i += 1;
            }
            t
        };
        let mut out = [0u8; 32];
        let mut bad = 0u8;
        for (o, pair) in out.iter_mut().zip(hex_part.as_bytes().chunks_exact(2)) {
            let (hi, lo) = (NIBBLE[pair[0] as usize], NIBBLE[pair[1] as usize]);
            bad |= (hi | lo) & 0xf0;
            *o = (hi << 4) | (lo & 0x0f);
        }
        if bad != 0 {
            return Err(DigestError::Format);
        }
        Ok(Digest(out))
    }

    /// The 32 bytes.
    pub fn bytes(&self) -> [u8; 32] {
        self.0
    }

    /// A sha256 someone else computed (kept where digests are stored).
    pub fn from_sha256(bytes: [u8; 32]) -> Digest {
        Digest(bytes)
    }

    /// The 64 hex characters.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The 12-character short form docker prints in `IMAGE ID` columns.
    pub fn short(&self) -> String {
        hex::encode(&self.0[..6])
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Digest;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sha256 digest string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Digest, E> {
                Digest::parse(s).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

/// A writer that hashes and counts everything written through it, then passes
/// it on: the single pass over layer bytes (tar writing, sha256, size).
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// The digest and size of everything written, and the inner writer.
    pub fn finish(self) -> (Digest, u64, W) {
        (
            Digest(self.hasher.finalize().into()),
            self.count,
            self.inner,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_digest_is_the_well_known_one() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_rejects_bad_forms() {
        assert_eq!(Digest::parse("sha256"), Err(DigestError::Format));
        assert_eq!(Digest::parse("md5:abc"), Err(DigestError::Algorithm));
        assert_eq!(Digest::parse("sha256:abc"), Err(DigestError::Length));
        let upper = format!("sha256:{}", "A".repeat(64));
        assert_eq!(Digest::parse(&upper), Err(DigestError::Format));
        let d = Digest::of(b"x");
        assert_eq!(Digest::parse(&d.to_string()), Ok(d));
    }

    #[test]
    fn every_byte_outside_lowercase_hex_is_refused_anywhere() {
        let good = Digest::of(b"y").to_string();
        for pos in [7, 8, 40, 70] {
            for b in 0..=255u8 {
                let mut s = good.clone().into_bytes();
                s[pos] = b;
                let Ok(s) = String::from_utf8(s) else {
                    continue;
                };
                let ok = b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
                assert_eq!(Digest::parse(&s).is_ok(), ok, "byte {b:#x} at {pos}");
            }
        }
    }

    #[test]
    fn hashing_writer_matches_one_shot_digest() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"hello ").unwrap();
        w.write_all(b"world").unwrap();
        let (d, n, bytes) = w.finish();
        assert_eq!(n, 11);
        assert_eq!(d, Digest::of(&bytes));
    }
}
