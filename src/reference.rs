//! Docker image references (`[domain/]path[:tag][@digest]`): parsing and
//! normalising them exactly as docker/distribution's `ParseNormalizedNamed`
//! does (`nginx` → `docker.io/library/nginx`), the familiar forms docker prints
//! (`nginx:latest`), the `latest` default tag, and docker's exact error texts.
//! This module owns the reference grammar; it does not resolve anything.

use crate::digest::{Digest, DigestError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// Docker Hub's canonical domain.
const DEFAULT_DOMAIN: &str = "docker.io";
/// The legacy Docker Hub domain, rewritten to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Namespace of official images on Docker Hub.
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag `TagNameOnly` adds.
const DEFAULT_TAG: &str = "latest";
/// Maximum length of the path (remote name) part of a reference.
const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Maximum length of a tag (`[\w][\w.-]{0,127}`).
const TAG_LENGTH_MAX: usize = 128;

/// A normalised image reference: a repository name (domain + path) with an
/// optional tag and an optional digest (both may be present).
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct Reference {
    /// Registry domain, e.g. `docker.io`. Empty only in docker's own corner
    /// case where the first component looks like a domain to the normaliser
    /// but not to the grammar (`a_b.c/x`), exactly as distribution does.
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a string is not a valid reference; `Display` texts are docker's.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    /// `ErrReferenceInvalidFormat`.
    #[error("invalid reference format")]
    InvalidFormat,
    /// The remote name (after normalisation) has uppercase letters; carries it.
    #[error("invalid reference format: repository name ({0}) must be lowercase")]
    NameNotLowercase(String),
    /// `ErrNameContainsUppercase`: only the lowercased input would be valid.
    #[error("repository name must be lowercase")]
    NameContainsUppercase,
    /// A bare 64-hex string, which docker reserves for image IDs.
    #[error("invalid repository name ({0}), cannot specify 64-byte hexadecimal strings")]
    HexRepositoryName(String),
    /// `ErrNameNotCanonical` (docker's `ParseNamed`; `parse` never returns it).
    #[error("repository name must be canonical")]
    NameNotCanonical,
    /// `ErrTagInvalidFormat`.
    #[error("invalid tag format")]
    TagInvalidFormat,
    /// `ErrDigestInvalidFormat` (never returned: a `Digest` is always valid).
    #[error("invalid digest format")]
    DigestInvalidFormat,
    /// `ErrNameEmpty` (never returned by `parse`: docker says
    /// `invalid reference format` for an empty string there).
    #[error("repository name must have at least one component")]
    NameEmpty,
    /// `ErrNameTooLong`.
    #[error("repository name must not be more than 255 characters")]
    NameTooLong,
    /// The digest part failed go-digest validation.
    #[error(transparent)]
    Digest(#[from] DigestError),
}

impl Reference {
    /// Parses and normalises like `reference.ParseNormalizedNamed`:
    /// `nginx` → `docker.io/library/nginx` (no tag is added).
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        if is_identifier(s) {
            return Err(ReferenceError::HexRepositoryName(s.to_string()));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder.split(':').next().unwrap_or_default();
        if go_to_lower(remote) != remote {
            return Err(ReferenceError::NameNotLowercase(remote.to_string()));
        }
        parse_strict(&format!("{domain}/{remainder}"))
    }

    /// `TagNameOnly`: adds the `latest` tag when there is neither tag nor digest.
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_string());
        }
        self
    }

    /// The registry domain: `docker.io`, `localhost:5000`, `ghcr.io`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The path within the registry: `library/nginx`, `user/app`.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The full repository name: `docker.io/library/nginx`.
    pub fn name(&self) -> String {
        if self.domain.is_empty() {
            self.path.clone()
        } else {
            format!("{}/{}", self.domain, self.path)
        }
    }

    /// The repository name as docker prints it: `nginx`, `user/app`,
    /// `localhost:5000/app`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }

    /// The whole reference as docker prints it: `nginx:latest`,
    /// `app@sha256:…`, `nginx:1.27@sha256:…`.
    pub fn familiar_string(&self) -> String {
        let mut out = self.familiar_name();
        self.push_suffix(&mut out);
        out
    }

    /// This repository with `tag` (any digest is dropped).
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        if !is_tag(tag) {
            return Err(ReferenceError::TagInvalidFormat);
        }
        Ok(Reference {
            tag: Some(tag.to_string()),
            ..self.repository()
        })
    }

    /// This repository at digest `d` (any tag is dropped).
    pub fn with_digest(&self, d: Digest) -> Reference {
        Reference {
            digest: Some(d),
            ..self.repository()
        }
    }

    /// The repository name alone, without tag or digest.
    pub fn repository(&self) -> Reference {
        Reference {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: None,
            digest: None,
        }
    }

    fn push_suffix(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(d) = &self.digest {
            out.push('@');
            out.push_str(&d.to_string());
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.name();
        self.push_suffix(&mut out);
        f.write_str(&out)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Reference::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Is `s` a possible image ID or ID prefix (lowercase hex, 1..=64 long,
/// optionally prefixed by `sha256:`)? docker resolves these before names.
pub fn looks_like_id_prefix(s: &str) -> bool {
    let hex_part = s.strip_prefix("sha256:").unwrap_or(s);
    (1..=64).contains(&hex_part.len()) && hex_part.bytes().all(is_lower_hex)
}

// ---------------------------------------------------------------------------
// Normalisation (normalize.go)

/// `splitDockerDomain`: decides whether the first `/`-separated component is
/// a registry domain, and adds `library/` to single-component Hub names.
fn split_docker_domain(name: &str) -> (&str, String) {
    let Some((maybe_domain, maybe_remote)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remote) = if maybe_domain == "localhost" {
        (maybe_domain, maybe_remote)
    } else if maybe_domain == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, maybe_remote)
    } else if maybe_domain.contains(['.', ':']) || go_to_lower(maybe_domain) != maybe_domain {
        (maybe_domain, maybe_remote)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"))
    } else {
        (domain, remote.to_string())
    }
}

/// Go's `strings.ToLower` (simple per-rune case mapping).
fn go_to_lower(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '\u{130}' {
                // Go maps İ to a plain 'i' (Rust's full mapping adds U+0307).
                return 'i';
            }
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                _ => c,
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Strict parsing (reference.go `Parse`) and the grammar (regexp.go)

/// The pieces of a string matching `ReferenceRegexp`, split the way its
/// capture groups (and `anchoredNameRegexp`) split them.
struct Parts<'a> {
    domain: &'a str,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// `reference.Parse`, on an already normalised string.
fn parse_strict(s: &str) -> Result<Reference, ReferenceError> {
    if s.is_empty() {
        return Err(ReferenceError::NameEmpty);
    }
    let Some(parts) = match_reference(s) else {
        let lower = go_to_lower(s);
        if lower != s && match_reference(&lower).is_some() {
            return Err(ReferenceError::NameContainsUppercase);
        }
        return Err(ReferenceError::InvalidFormat);
    };
    if parts.path.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong);
    }
    let digest = parts.digest.map(parse_go_digest).transpose()?;
    Ok(Reference {
        domain: parts.domain.to_string(),
        path: parts.path.to_string(),
        tag: parts.tag.map(str::to_string),
        digest,
    })
}

/// Matches `^(name)(?::(tag))?(?:@(digest))?$`. `@` occurs in no other part,
/// and a tag can hold neither `:` nor `/`, so the splits are unambiguous.
fn match_reference(s: &str) -> Option<Parts<'_>> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, d)) => (rest, Some(d)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !is_digest_pat(d)) {
        return None;
    }
    let (name, tag) = match rest.rfind(':') {
        Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
        _ => (rest, None),
    };
    if tag.is_some_and(|t| !is_tag(t)) {
        return None;
    }
    let (domain, path) = match_name(name)?;
    Some(Parts {
        domain,
        path,
        tag,
        digest,
    })
}

/// `anchoredNameRegexp`: the optional domain is tried first, and can only be
/// the first `/`-separated component.
fn match_name(name: &str) -> Option<(&str, &str)> {
    name.split_once('/')
        .filter(|&(domain, path)| is_domain_and_port(domain) && is_remote_name(path))
        .or_else(|| is_remote_name(name).then_some(("", name)))
}

/// `host(:port)?` where host is a domain name, IPv4 or bracketed IPv6.
fn is_domain_and_port(s: &str) -> bool {
    let (host_ok, rest) = if let Some(inner) = s.strip_prefix('[') {
        match inner.split_once(']') {
            Some((addr, rest)) => (
                !addr.is_empty() && addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'),
                rest,
            ),
            None => return false,
        }
    } else {
        let (host, rest) = match s.find(':') {
            Some(i) => (&s[..i], &s[i..]),
            None => (s, ""),
        };
        (host.split('.').all(is_domain_component), rest)
    };
    host_ok
        && (rest.is_empty()
            || rest
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn is_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
}

/// `pathComponent(/pathComponent)*`.
fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`.
fn is_path_component(c: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = c.as_bytes();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[\w][\w.-]{0,127}`.
fn is_tag(t: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= TAG_LENGTH_MAX
        && word(b[0])
        && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`.
fn is_digest_pat(d: &str) -> bool {
    let Some((alg, hex_part)) = d.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['-', '_', '+', '.']).all(|comp| {
        let b = comp.as_bytes();
        !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
    });
    alg_ok && hex_part.len() >= 32 && hex_part.bytes().all(|b| b.is_ascii_hexdigit())
}

/// go-digest's `Parse`/`Validate` on a string already matching the reference
/// digest pattern. sha384 and sha512 are valid to docker but not representable
/// here; well-formed ones are reported as unsupported.
fn parse_go_digest(d: &str) -> Result<Digest, ReferenceError> {
    let (alg, encoded) = d.split_once(':').ok_or(DigestError::Format)?;
    let expected_len = match alg {
        "sha256" => return Ok(Digest::parse(d)?),
        "sha384" => 96,
        "sha512" => 128,
        _ => {
            // Unknown algorithm: go-digest first checks its own (lowercase) grammar.
            let lower_alg = alg.split(['.', '+', '_', '-']).all(|c| {
                !c.is_empty()
                    && c.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            return Err(if lower_alg {
                DigestError::Algorithm
            } else {
                DigestError::Format
            }
            .into());
        }
    };
    if encoded.len() != expected_len {
        return Err(DigestError::Length.into());
    }
    if !encoded.bytes().all(is_lower_hex) {
        return Err(DigestError::Format.into());
    }
    Err(DigestError::Algorithm.into())
}

/// `^[a-f0-9]{64}$`: docker's full image identifier.
fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(is_lower_hex)
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEX: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    fn p(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
    }

    fn err(s: &str) -> String {
        match Reference::parse(s) {
            Ok(r) => panic!("{s:?} should fail, parsed as {r}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn normalisation_table() {
        let d = format!("sha256:{HEX}");
        // input, domain, path, tag, digest?, full string
        type Case<'a> = (String, &'a str, &'a str, Option<&'a str>, bool, String);
        let cases: Vec<Case> = vec![
            (
                "nginx".into(),
                "docker.io",
                "library/nginx",
                None,
                false,
                "docker.io/library/nginx".into(),
            ),
            (
                "library/nginx".into(),
                "docker.io",
                "library/nginx",
                None,
                false,
                "docker.io/library/nginx".into(),
            ),
            (
                "docker.io/nginx".into(),
                "docker.io",
                "library/nginx",
                None,
                false,
                "docker.io/library/nginx".into(),
            ),
            (
                "docker.io/library/nginx".into(),
                "docker.io",
                "library/nginx",
                None,
                false,
                "docker.io/library/nginx".into(),
            ),
            (
                "index.docker.io/library/nginx:1".into(),
                "docker.io",
                "library/nginx",
                Some("1"),
                false,
                "docker.io/library/nginx:1".into(),
            ),
            (
                "index.docker.io/nginx".into(),
                "docker.io",
                "library/nginx",
                None,
                false,
                "docker.io/library/nginx".into(),
            ),
            (
                "user/app:1.0".into(),
                "docker.io",
                "user/app",
                Some("1.0"),
                false,
                "docker.io/user/app:1.0".into(),
            ),
            (
                "localhost:5000/app".into(),
                "localhost:5000",
                "app",
                None,
                false,
                "localhost:5000/app".into(),
            ),
            (
                "localhost/app".into(),
                "localhost",
                "app",
                None,
                false,
                "localhost/app".into(),
            ),
            (
                "localhost".into(),
                "docker.io",
                "library/localhost",
                None,
                false,
                "docker.io/library/localhost".into(),
            ),
            (
                "localhost:5000".into(),
                "docker.io",
                "library/localhost",
                Some("5000"),
                false,
                "docker.io/library/localhost:5000".into(),
            ),
            (
                "registry.example.com:443/a/b/c:v1".into(),
                "registry.example.com:443",
                "a/b/c",
                Some("v1"),
                false,
                "registry.example.com:443/a/b/c:v1".into(),
            ),
            (
                format!("app@{d}"),
                "docker.io",
                "library/app",
                None,
                true,
                format!("docker.io/library/app@{d}"),
            ),
            (
                format!("nginx:1.27@{d}"),
                "docker.io",
                "library/nginx",
                Some("1.27"),
                true,
                format!("docker.io/library/nginx:1.27@{d}"),
            ),
            (
                "[::1]:5000/app:tag".into(),
                "[::1]:5000",
                "app",
                Some("tag"),
                false,
                "[::1]:5000/app:tag".into(),
            ),
            (
                "[2001:db8::1]/repo".into(),
                "[2001:db8::1]",
                "repo",
                None,
                false,
                "[2001:db8::1]/repo".into(),
            ),
            (
                "ghcr.io/owner/app:v2".into(),
                "ghcr.io",
                "owner/app",
                Some("v2"),
                false,
                "ghcr.io/owner/app:v2".into(),
            ),
            (
                "example.com/app".into(),
                "example.com",
                "app",
                None,
                false,
                "example.com/app".into(),
            ),
            (
                "192.168.1.1:5000/repo:5050".into(),
                "192.168.1.1:5000",
                "repo",
                Some("5050"),
                false,
                "192.168.1.1:5000/repo:5050".into(),
            ),
            (
                "test:5000/repo".into(),
                "test:5000",
                "repo",
                None,
                false,
                "test:5000/repo".into(),
            ),
            (
                "a/b/c/d".into(),
                "docker.io",
                "a/b/c/d",
                None,
                false,
                "docker.io/a/b/c/d".into(),
            ),
            (
                "lowercase:Uppercase".into(),
                "docker.io",
                "library/lowercase",
                Some("Uppercase"),
                false,
                "docker.io/library/lowercase:Uppercase".into(),
            ),
            (
                "foo_bar.com:8080".into(),
                "docker.io",
                "library/foo_bar.com",
                Some("8080"),
                false,
                "docker.io/library/foo_bar.com:8080".into(),
            ),
            (
                "a__b/c---d/e.f".into(),
                "docker.io",
                "a__b/c---d/e.f",
                None,
                false,
                "docker.io/a__b/c---d/e.f".into(),
            ),
            // An uppercase first component is taken to be a domain.
            (
                "Uppercase/lowercase:tag".into(),
                "Uppercase",
                "lowercase",
                Some("tag"),
                false,
                "Uppercase/lowercase:tag".into(),
            ),
            // Looks like a domain to splitDockerDomain but not to the grammar:
            // distribution ends up with an empty domain.
            (
                "test_com.x/foo".into(),
                "",
                "test_com.x/foo",
                None,
                false,
                "test_com.x/foo".into(),
            ),
            (
                "xn--n3h.com/myimage:xn--n3h.com".into(),
                "xn--n3h.com",
                "myimage",
                Some("xn--n3h.com"),
                false,
                "xn--n3h.com/myimage:xn--n3h.com".into(),
            ),
        ];
        for (input, domain, path, tag, has_digest, full) in cases {
            let r = p(&input);
            assert_eq!(r.domain(), domain, "{input}");
            assert_eq!(r.path(), path, "{input}");
            assert_eq!(r.tag(), tag, "{input}");
            assert_eq!(
                r.digest().map(|x| x.to_string()),
                has_digest.then(|| d.clone()),
                "{input}"
            );
            assert_eq!(r.to_string(), full, "{input}");
            assert_eq!(p(&full), r, "{input}: full form reparses");
        }
    }

    #[test]
    fn familiar_forms() {
        let d = format!("sha256:{HEX}");
        let cases: Vec<(String, &str, String)> = vec![
            ("nginx".into(), "nginx", "nginx".into()),
            (
                "docker.io/library/nginx:latest".into(),
                "nginx",
                "nginx:latest".into(),
            ),
            ("user/app:1.0".into(), "user/app", "user/app:1.0".into()),
            ("library/a/b".into(), "library/a/b", "library/a/b".into()),
            (
                "localhost:5000/app".into(),
                "localhost:5000/app",
                "localhost:5000/app".into(),
            ),
            (
                "localhost/app:x".into(),
                "localhost/app",
                "localhost/app:x".into(),
            ),
            (
                "ghcr.io/o/app:1".into(),
                "ghcr.io/o/app",
                "ghcr.io/o/app:1".into(),
            ),
            (format!("app@{d}"), "app", format!("app@{d}")),
            (
                format!("nginx:1.27@{d}"),
                "nginx",
                format!("nginx:1.27@{d}"),
            ),
        ];
        for (input, name, string) in cases {
            let r = p(&input);
            assert_eq!(r.familiar_name(), name, "{input}");
            assert_eq!(r.familiar_string(), string, "{input}");
        }
        assert_eq!(p("nginx").name(), "docker.io/library/nginx");
        assert_eq!(
            p("nginx").with_default_tag().familiar_string(),
            "nginx:latest"
        );
    }

    #[test]
    fn familiar_form_of_a_dotted_hub_namespace_is_not_reparsable() {
        // docker's own quirk: FamiliarString drops docker.io, and the dotted
        // first component is then read back as a registry domain.
        let r = p("docker.io/foo.bar/baz");
        assert_eq!(r.familiar_string(), "foo.bar/baz");
        assert_eq!(p(&r.familiar_string()).domain(), "foo.bar");
    }

    #[test]
    fn default_tag_and_builders() {
        let d = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        assert_eq!(
            p("nginx").with_default_tag().to_string(),
            "docker.io/library/nginx:latest"
        );
        assert_eq!(p("nginx:1").with_default_tag().tag(), Some("1"));
        let digested = p(&format!("nginx@{d}")).with_default_tag();
        assert_eq!(digested.tag(), None);
        assert_eq!(digested.digest(), Some(&d));

        let both = p(&format!("nginx:1.27@{d}"));
        assert_eq!(both.repository().to_string(), "docker.io/library/nginx");
        assert_eq!(
            both.with_tag("2").unwrap().to_string(),
            "docker.io/library/nginx:2"
        );
        assert_eq!(
            both.with_digest(d.clone()).to_string(),
            format!("docker.io/library/nginx@{d}")
        );
        assert_eq!(
            p("nginx").with_tag("TAG_5.x-y").unwrap().tag(),
            Some("TAG_5.x-y")
        );
        for bad in ["", "bad tag", ".x", "-x", "a:b", "a/b", &"a".repeat(129)] {
            assert_eq!(
                p("nginx").with_tag(bad),
                Err(ReferenceError::TagInvalidFormat),
                "{bad:?}"
            );
        }
        assert!(p("nginx").with_tag(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn docker_cli_error_texts() {
        // Captured from `docker tag` (CLI 28.2.2), see docker-output.md.
        assert_eq!(
            err("MyRepo:1"),
            "invalid reference format: repository name (library/MyRepo) must be lowercase"
        );
        assert_eq!(err("repo:bad tag"), "invalid reference format");
    }

    #[test]
    fn error_table() {
        let long_path = format!("{}a", "a/".repeat(128)); // 257 chars
        let cases: Vec<(String, String)> = vec![
            ("".into(), "invalid reference format".into()),
            (":justtag".into(), "invalid reference format".into()),
            (format!("@sha256:{HEX}"), "invalid reference format".into()),
            ("nginx:".into(), "invalid reference format".into()),
            ("nginx@".into(), "invalid reference format".into()),
            ("nginx:a:b".into(), "invalid reference format".into()),
            ("aa/asdf$$^/aa".into(), "invalid reference format".into()),
            ("a//b".into(), "invalid reference format".into()),
            ("a/".into(), "invalid reference format".into()),
            ("a..b".into(), "invalid reference format".into()),
            ("a___b".into(), "invalid reference format".into()),
            ("-a".into(), "invalid reference format".into()),
            (
                format!("nginx:{}", "a".repeat(129)),
                "invalid reference format".into(),
            ),
            ("nginx@sha256:abc".into(), "invalid reference format".into()),
            (
                "[2001:db8::1]:5000".into(),
                "invalid reference format".into(),
            ),
            (
                "[fe80::1%eth0]:5000/repo".into(),
                "invalid reference format".into(),
            ),
            ("-bad.com/app".into(), "invalid reference format".into()),
            (
                "example.com:port/app".into(),
                "invalid reference format".into(),
            ),
            (
                "Uppercase:tag".into(),
                "invalid reference format: repository name (library/Uppercase) must be lowercase"
                    .into(),
            ),
            (
                "test:5000/Uppercase/lowercase:tag".into(),
                "invalid reference format: repository name (Uppercase/lowercase) must be lowercase"
                    .into(),
            ),
            (
                "user/App".into(),
                "invalid reference format: repository name (user/App) must be lowercase".into(),
            ),
            // Uppercase domain candidate that the grammar rejects, but whose
            // lowercase form is a valid path: distribution's ErrNameContainsUppercase.
            (
                "Foo_bar/baz".into(),
                "repository name must be lowercase".into(),
            ),
            (
                HEX.into(),
                format!(
                    "invalid repository name ({HEX}), cannot specify 64-byte hexadecimal strings"
                ),
            ),
            (
                long_path.clone(),
                "repository name must not be more than 255 characters".into(),
            ),
            (
                format!("repo@sha256:{}", &HEX[..34]),
                "invalid checksum digest length".into(),
            ),
            (
                format!("repo@sha256:{}", HEX.to_uppercase()),
                "invalid checksum digest format".into(),
            ),
            (
                format!("validname@invaliddigest:{HEX}"),
                "unsupported digest algorithm".into(),
            ),
            (
                format!("repo:1@SHA256:{HEX}"),
                "invalid checksum digest format".into(),
            ),
            (
                format!("repo@sha512:{HEX}"),
                "invalid checksum digest length".into(),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(err(&input), want, "{input:?}");
        }
        // 255 is allowed, and the domain does not count towards it.
        let max_path = format!("x/{}", "a/".repeat(126) + "a");
        assert_eq!(max_path.len(), 255);
        assert!(Reference::parse(&format!("registry.example.com/{max_path}")).is_ok());
        assert_eq!(
            Reference::parse(&format!("docker.io/{long_path}")),
            Err(ReferenceError::NameTooLong)
        );
    }

    #[test]
    fn error_variants_display_docker_texts() {
        assert_eq!(
            ReferenceError::NameNotCanonical.to_string(),
            "repository name must be canonical"
        );
        assert_eq!(
            ReferenceError::TagInvalidFormat.to_string(),
            "invalid tag format"
        );
        assert_eq!(
            ReferenceError::DigestInvalidFormat.to_string(),
            "invalid digest format"
        );
        assert_eq!(
            ReferenceError::NameEmpty.to_string(),
            "repository name must have at least one component"
        );
    }

    #[test]
    fn id_prefixes() {
        for yes in [
            "a",
            "8bc5e004acb8",
            HEX,
            &format!("sha256:{HEX}"),
            "sha256:abc",
        ] {
            assert!(looks_like_id_prefix(yes), "{yes}");
        }
        for no in [
            "",
            "sha256:",
            "g",
            "ABC",
            "nginx",
            &format!("{HEX}0"),
            "sha512:abc",
        ] {
            assert!(!looks_like_id_prefix(no), "{no}");
        }
    }

    #[test]
    fn serde_and_fromstr_use_the_full_string() {
        let r: Reference = "user/app:1".parse().unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(json, "\"docker.io/user/app:1\"");
        assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
        assert!(serde_json::from_str::<Reference>("\"Bad Ref\"").is_err());
    }

    #[test]
    fn ordering_is_by_name_then_tag() {
        let mut v = [p("b"), p("a:2"), p("a:1"), p("a")];
        v.sort();
        let s: Vec<String> = v.iter().map(Reference::familiar_string).collect();
        assert_eq!(s, ["a", "a:1", "a:2", "b"]);
    }

    fn path_component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,5}((\\.|_|__|-{1,3})[a-z0-9]{1,5}){0,2}"
    }

    fn domain() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some("docker.io".to_string())),
            Just(Some("index.docker.io".to_string())),
            Just(Some("localhost".to_string())),
            Just(Some("[::1]:5000".to_string())),
            "localhost:[0-9]{1,5}".prop_map(Some),
            "[a-z0-9]([a-z0-9-]{0,4}[a-z0-9])?(\\.[a-zA-Z0-9]{1,5}){1,2}(:[0-9]{1,5})?"
                .prop_map(Some),
            "[A-Z][a-zA-Z0-9]{0,5}".prop_map(Some),
        ]
    }

    fn reference_string() -> impl Strategy<Value = String> {
        (
            domain(),
            prop::collection::vec(path_component(), 1..4),
            prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
            prop::option::of(prop::array::uniform32(any::<u8>())),
        )
            .prop_map(|(domain, path, tag, digest)| {
                let mut s = domain.map(|d| d + "/").unwrap_or_default();
                s.push_str(&path.join("/"));
                if let Some(t) = tag {
                    s.push(':');
                    s.push_str(&t);
                }
                if let Some(bytes) = digest {
                    s.push_str(&format!("@{}", Digest::of(&bytes)));
                }
                s
            })
    }

    /// Would docker read the first component of a familiar name as a domain?
    fn first_component_looks_like_domain(familiar_name: &str) -> bool {
        familiar_name.split_once('/').is_some_and(|(first, _)| {
            first == "localhost" || first.contains(['.', ':']) || first != go_to_lower(first)
        })
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Reference::parse(&s);
        }

        #[test]
        fn parse_is_idempotent_on_reference_like_strings(s in "[a-zA-Z0-9:/@._\\[\\]-]{0,80}") {
            if let Ok(r) = Reference::parse(&s) {
                prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r.clone()));
            }
        }

        #[test]
        fn generated_references_round_trip(s in reference_string()) {
            let r = Reference::parse(&s);
            prop_assert!(r.is_ok(), "{} failed: {:?}", s, r);
            let r = r.unwrap();
            prop_assert_eq!(Reference::parse(&r.to_string()), Ok(r.clone()));
            if !first_component_looks_like_domain(&r.familiar_name()) {
                prop_assert_eq!(Reference::parse(&r.familiar_string()), Ok(r.clone()));
            }
            let json = serde_json::to_string(&r).unwrap();
            prop_assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r.clone());
            prop_assert_eq!(r.familiar_string().ends_with(&r.to_string()[r.name().len()..]), true);
        }
    }
}

/// Splits a canonical tagged reference as the store writes it
/// (`docker.io/library/nginx:alpine`) into its full name and tag without a
/// full parse. None when there is no tag or a digest is present.
pub fn split_canonical_tag(full: &str) -> Option<(&str, &str)> {
    if full.contains('@') {
        return None;
    }
    let slash = full.rfind('/').map(|i| i + 1).unwrap_or(0);
    let colon = full[slash..].rfind(':')? + slash;
    Some((&full[..colon], &full[colon + 1..]))
}

/// docker's familiar form of a canonical repository name:
/// `docker.io/library/nginx` → `nginx`, `docker.io/user/app` → `user/app`,
/// anything on another registry unchanged.
pub fn familiar_of_name(name: &str) -> &str {
    match name.strip_prefix("docker.io/") {
        Some(rest) => match rest.strip_prefix("library/") {
            Some(official) if !official.contains('/') => official,
            _ => rest,
        },
        None => name,
    }
}

#[cfg(test)]
mod canonical_split_tests {
    use super::*;

    #[test]
    fn quick_split_agrees_with_the_parser() {
        for s in [
            "nginx:alpine",
            "user/app:1.0",
            "localhost:5000/app:v1",
            "registry.example.com:443/a/b/c:v1",
            "library/x/y:1",
            "foo.bar/baz:2",
        ] {
            let r = Reference::parse(s).unwrap();
            let full = r.to_string();
            let (name, tag) = split_canonical_tag(&full).unwrap();
            assert_eq!(name, r.name(), "{s}");
            assert_eq!(Some(tag), r.tag(), "{s}");
            assert_eq!(familiar_of_name(name), r.familiar_name(), "{s}");
        }
        assert_eq!(split_canonical_tag("docker.io/library/a@sha256:00"), None);
    }
}
