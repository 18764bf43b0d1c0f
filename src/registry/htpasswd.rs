//! The htpasswd file as distribution's `htpasswd` access controller reads
//! it (`REGISTRY_AUTH=htpasswd`): `user:hash` lines, blank lines and `#`
//! comments skipped, a line without `:` an error naming its number; only
//! bcrypt hashes are accepted (an `$apr1$` or plain-text entry never
//! authenticates, with the bcrypt error the registry logs). A missing file
//! is provisioned, as registry 2.8 does, with the user `docker` and a
//! generated password.

use std::collections::BTreeMap;

/// A parsed htpasswd file.
#[derive(Clone, Debug, Default)]
pub struct Htpasswd {
    entries: BTreeMap<String, String>,
}

/// Why a file could not be read as htpasswd.
#[derive(Debug, thiserror::Error)]
pub enum HtpasswdError {
    #[error("htpasswd: invalid entry at line {line}: {text:?}")]
    InvalidEntry { line: usize, text: String },
}

/// Why a user was refused (the text distribution logs).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("authentication failure")]
    Mismatch,
    /// The stored hash is not bcrypt (Go's `x/crypto/bcrypt` error).
    #[error("{0}")]
    NotBcrypt(String),
}

impl Htpasswd {
    /// Parses the file's text.
    pub fn parse(text: &str) -> Result<Htpasswd, HtpasswdError> {
        let mut entries = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let Some((user, hash)) = t.split_once(':') else {
                return Err(HtpasswdError::InvalidEntry {
                    line: i + 1,
                    text: raw.to_string(),
                });
            };
            entries.insert(user.to_string(), hash.to_string());
        }
        Ok(Htpasswd { entries })
    }

    /// Checks a user's password (bcrypt only, as distribution).
    pub fn authenticate(&self, user: &str, password: &str) -> Result<(), AuthFailure> {
        let hash = self.entries.get(user).map(String::as_str).unwrap_or("");
        // An unknown user is checked against an empty hash, as distribution
        // does (so it fails the same way, after the same work).
        if hash.len() < 59 {
            return Err(AuthFailure::NotBcrypt(
                "crypto/bcrypt: hashedSecret too short to be a bcrypted password".into(),
            ));
        }
        if !hash.starts_with("$2") {
            return Err(AuthFailure::NotBcrypt(format!(
                "crypto/bcrypt: bcrypt algorithm version '{}' requested is newer than current version '2'",
                hash.chars().nth(1).unwrap_or('?')
            )));
        }
        match bcrypt::verify(password, hash) {
            Ok(true) => Ok(()),
            Ok(false) => Err(AuthFailure::Mismatch),
            Err(e) => Err(AuthFailure::NotBcrypt(format!("crypto/bcrypt: {e}"))),
        }
    }

    /// Whether `user:password` is accepted.
    pub fn accepts(&self, user: &str, password: &str) -> bool {
        self.authenticate(user, password).is_ok()
    }

    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

/// The file registry 2.8 writes when the configured one is missing:
/// `docker:<bcrypt, cost 10>` (no newline) and the password it logs. The
/// password is drawn from `seed` (a container's ID), so a lab run is
/// reproducible.
pub fn provision(seed: &str) -> (String, String) {
    use base64::Engine as _;
    let d = crate::digest::Digest::of(format!("htpasswd provision {seed}").as_bytes());
    let raw = hex::decode(d.hex()).unwrap_or_default();
    let password = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&raw);
    let mut salt = [0u8; 16];
    salt.copy_from_slice(&raw[16..32]);
    let hash = bcrypt::hash_with_salt(&password, 10, salt)
        .map(|h| h.format_for_version(bcrypt::Version::TwoA))
        .unwrap_or_default();
    (format!("docker:{hash}"), password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_entries_authenticate_and_others_never_do() {
        let h = bcrypt::hash_with_salt("pw", 4, [7; 16])
            .unwrap()
            .format_for_version(bcrypt::Version::TwoY);
        let f = Htpasswd::parse(&format!("# c\n\nalice:{h}\nbob:$apr1$x$y\n")).unwrap();
        assert!(f.accepts("alice", "pw"));
        assert_eq!(f.authenticate("alice", "no"), Err(AuthFailure::Mismatch));
        assert!(matches!(
            f.authenticate("bob", "pw"),
            Err(AuthFailure::NotBcrypt(_))
        ));
        assert!(!f.accepts("carol", "pw"));
        assert!(Htpasswd::parse("nocolon\n").is_err());
    }

    #[test]
    fn a_provisioned_file_holds_its_password() {
        let (file, pw) = provision("abc");
        let f = Htpasswd::parse(&file).unwrap();
        assert!(f.accepts("docker", &pw));
    }
}
