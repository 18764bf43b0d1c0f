//! The store's index: references and per-image summaries, one JSON file read
//! at startup so that listing and resolving never open a blob.

use crate::digest::Digest;
use std::collections::BTreeMap;

/// References grouped by the image they name.
pub type RefsByImage<'a> = BTreeMap<&'a Digest, Vec<&'a String>>;

/// What the store knows of all images, without opening any blob.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Index {
    /// Tag references in full form (`docker.io/library/nginx:alpine`) → image ID.
    #[serde(default)]
    pub tags: BTreeMap<String, Digest>,
    /// Digest references (`docker.io/library/nginx@sha256:…`, from pull and
    /// push) → image ID.
    #[serde(default)]
    pub digests: BTreeMap<String, Digest>,
    /// Image ID → summary.
    #[serde(default)]
    pub images: BTreeMap<Digest, ImageSummary>,
    /// Catalog base images already materialized: `repo:tag@platform` → image
    /// ID, so `FROM` does not re-hash base layers on every build.
    #[serde(default)]
    pub bases: BTreeMap<String, Digest>,
}

/// The facts `docker images` and `rmi` need about one image.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ImageSummary {
    /// The config's `created` (RFC 3339).
    pub created: String,
    /// Sum of the uncompressed layer sizes.
    pub size: u64,
    /// diff_ids, bottom first.
    pub layers: Vec<Digest>,
    /// The image this one was built on top of, for `docker images -a` and
    /// the intermediate images of a build (none for pulled images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Digest>,
    /// `linux/amd64`, `linux/arm64/v8`.
    pub platform: String,
    /// When the image last got a tag (`Metadata.LastTagTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tag_time: Option<String>,
    /// Labels, for `--filter label=`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Index {
    /// Every tag reference pointing at `id`, sorted.
    pub fn tags_of(&self, id: &Digest) -> Vec<String> {
        self.tags
            .iter()
            .filter(|(_, v)| *v == id)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Every digest reference pointing at `id`, sorted.
    pub fn digests_of(&self, id: &Digest) -> Vec<String> {
        self.digests
            .iter()
            .filter(|(_, v)| *v == id)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Every reference of every image, grouped once (listing is linear in
    /// the number of images, not quadratic).
    pub fn refs_by_image(&self) -> (RefsByImage<'_>, RefsByImage<'_>) {
        let mut tags: BTreeMap<&Digest, Vec<&String>> = BTreeMap::new();
        for (k, v) in &self.tags {
            tags.entry(v).or_default().push(k);
        }
        let mut digests: BTreeMap<&Digest, Vec<&String>> = BTreeMap::new();
        for (k, v) in &self.digests {
            digests.entry(v).or_default().push(k);
        }
        (tags, digests)
    }

    /// Images whose parent is `id`.
    pub fn children_of(&self, id: &Digest) -> Vec<Digest> {
        self.images
            .iter()
            .filter(|(_, s)| s.parent.as_ref() == Some(id))
            .map(|(k, _)| k.clone())
            .collect()
    }
}
