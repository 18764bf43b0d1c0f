//! Push and pull: the engine's images to and from any [`Registry`], as the
//! daemon does it. A push streams each layer through gzip (mtime 0, so the
//! same layer always gives the same blob) into its upload, layers in
//! parallel, unless the registry already has it — known from the store's
//! distribution records (docker's "v2 metadata") or the blob an earlier push
//! made of it, checked with a `HEAD`, or mounted from another repository of
//! the same registry — then pushes the config and a schema 2 manifest. A
//! pull reads the manifest (choosing a platform from an index), skips layers
//! the store has, streams the rest (in parallel) through gunzip into the
//! store (verified against the config's diff_ids) and tags the image.
//! Nothing here prints.

use crate::digest::Digest;
use crate::engine::{Engine, EngineError, Pulled};
use crate::reference::Reference;
use crate::registry::{Manifest, RefSpec, Registry, RegistryError, VerifyingReader, media};
use crate::store::{Compressed, DistRecord, StoreError};
use std::io::{self, Read, Write};

#[derive(Debug, thiserror::Error)]
pub enum DistError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("no matching manifest for {0} in the manifest list entries")]
    NoMatchingManifest(String),
    #[error("{0}")]
    BadImage(String),
}

pub type Result<T> = std::result::Result<T, DistError>;

/// What happened to one layer in a push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayerPush {
    Pushed,
    Exists,
    /// Mounted from another repository of the registry.
    Mounted(String),
}

/// What `push` did.
#[derive(Debug)]
pub struct Pushed {
    /// diff_id and outcome, bottom layer first.
    pub layers: Vec<(Digest, LayerPush)>,
    pub digest: Digest,
    /// The manifest's length.
    pub size: usize,
}

/// Serialises JSON as distribution's schema 2 manifests are: indented by
/// three spaces.
pub fn manifest_json(v: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(v, &mut ser).expect("json serializes");
    out
}

/// Streams a layer's uncompressed tar into `w` (regenerated for catalog
/// layers, read and verified for stored ones).
pub fn write_layer_tar(engine: &Engine, diff_id: &Digest, w: &mut dyn Write) -> Result<()> {
    let meta = engine.store.layer_meta(diff_id)?;
    if meta.recipe.is_some() {
        let entries = engine.layer_entries(diff_id)?;
        crate::layer::write_tar(&entries, w)?;
        return Ok(());
    }
    let r = engine.store.open_layer(diff_id)?;
    let mut r = VerifyingReader::new(r, diff_id.clone());
    // 1 MiB reads straight from the file, each handed to `w` whole (no
    // BufReader copy, few calls into a compressor).
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        w.write_all(&buf[..n])?;
    }
    Ok(())
}

/// Streams a layer's gzip blob (mtime 0, zlib-rs's fastest level: the same
/// layer always gives the same blob) into an upload to `repo`, compressing
/// on this thread while another sends: no temporary file, and the blob's
/// digest is computed once, by the upload, as the bytes go (distribution
/// takes it at the final `PUT`). Returns the blob's digest and size.
fn push_layer(
    engine: &Engine,
    reg: &dyn Registry,
    repo: &str,
    diff_id: &Digest,
) -> Result<(Digest, u64)> {
    let (w, mut r) = pipe::pipe();
    std::thread::scope(|sc| {
        let upload = sc.spawn(move || reg.put_blob(repo, None, &mut r));
        let made = (|| -> Result<()> {
            let mut gz = LayerGz::new(w)?;
            write_layer_tar(engine, diff_id, &mut gz)?;
            gz.finish()?.finish()?;
            Ok(())
        })();
        let sent = upload
            .join()
            .unwrap_or_else(|_| Err(RegistryError::Protocol("the upload thread panicked".into())));
        match (made, sent) {
            (Ok(()), Ok(blob)) => Ok(blob),
            // The upload stopped first (the pipe closed under the
            // compression): its error is the one that says why.
            (Err(DistError::Io(e)), Err(up)) if e.kind() == io::ErrorKind::BrokenPipe => {
                Err(up.into())
            }
            (Err(e), _) => Err(e),
            (Ok(()), Err(e)) => Err(e.into()),
        }
    })
}

/// Order-0 entropy of `bytes`, in bits a byte.
fn entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// The gzip stream of a pushed layer: what flate2's `GzBuilder` writes at
/// the fastest level with mtime 0 (header `1f 8b 08 00 00000000 04 ff`,
/// raw deflate, CRC-32 and length), except that past the first window of
/// [`LayerGz::WINDOW`] bytes each window whose first bytes look like noise
/// is carried in stored blocks (already-compressed files: jars, archives,
/// media, random data cost a copy instead of a futile search), and the
/// next window that does not is compressed by a fresh compressor (stored
/// blocks are byte-aligned and no back-reference reaches across them).
/// Windows are cut at fixed input offsets, so the same layer written the
/// same way always gives the same blob; a layer smaller than one window is
/// exactly `GzBuilder`'s stream. Written here because zlib-rs's level
/// cannot be changed mid-stream through flate2 (its `deflateParams` needs
/// an output buffer flate2 does not give it).
struct LayerGz<W: Write> {
    inner: W,
    deflate: flate2::Compress,
    crc: flate2::Crc,
    out: Vec<u8>,
    /// Stored-mode input not yet in a block.
    pending: Vec<u8>,
    /// Input taken in the current window.
    window_in: u64,
    stored: bool,
}

impl<W: Write> LayerGz<W> {
    const WINDOW: u64 = 4 << 20;

    fn new(mut inner: W) -> io::Result<LayerGz<W>> {
        inner.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255])?;
        Ok(LayerGz {
            inner,
            deflate: flate2::Compress::new(flate2::Compression::fast(), false),
            crc: flate2::Crc::new(),
            out: Vec::with_capacity(256 << 10),
            pending: Vec::new(),
            window_in: 0,
            stored: false,
        })
    }

    /// Runs `input` through deflate with `flush`, writing what comes out.
    fn run(&mut self, mut input: &[u8], flush: flate2::FlushCompress) -> io::Result<()> {
        loop {
            self.out.clear();
            let before = self.deflate.total_in();
            let status = self
                .deflate
                .compress_vec(input, &mut self.out, flush)
                .map_err(io::Error::other)?;
            input = &input[(self.deflate.total_in() - before) as usize..];
            self.inner.write_all(&self.out)?;
            let done = match flush {
                flate2::FlushCompress::Finish => status == flate2::Status::StreamEnd,
                // Input consumed and the output buffer not filled: nothing
                // is left pending for this flush.
                _ => input.is_empty() && self.out.len() < self.out.capacity(),
            };
            if done {
                return Ok(());
            }
        }
    }

    /// Takes `data` into stored blocks: full ones (65,535 bytes) as they
    /// fill, the rest at the window's end, so block sizes depend on the
    /// input alone, never on how it was cut into writes.
    fn store(&mut self, mut data: &[u8]) -> io::Result<()> {
        const FULL: usize = u16::MAX as usize;
        while !data.is_empty() {
            let take = (FULL - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == FULL {
                self.emit_stored()?;
            }
        }
        Ok(())
    }

    /// One non-final stored block (RFC 1951 3.2.4) of what is pending.
    fn emit_stored(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let len = self.pending.len() as u16;
        let mut head = [0u8; 5];
        head[1..3].copy_from_slice(&len.to_le_bytes());
        head[3..].copy_from_slice(&(!len).to_le_bytes());
        self.inner.write_all(&head)?;
        self.inner.write_all(&self.pending)?;
        self.pending.clear();
        Ok(())
    }

    /// At a window's start: store it when a sample of its first bytes
    /// looks like noise (an order-0 entropy above 7.9 bits a byte, as
    /// compressed and encrypted data have; text and programs are far
    /// below), else compress it.
    fn start_window(&mut self, first: &[u8]) -> io::Result<()> {
        const SAMPLE: usize = 64 << 10;
        let sample = &first[..first.len().min(SAMPLE)];
        let store = sample.len() >= SAMPLE / 4 && entropy(sample) > 7.9;
        if store && !self.stored {
            // A sync flush ends the compressed blocks byte-aligned.
            self.run(&[], flate2::FlushCompress::Sync)?;
        } else if !store && self.stored {
            // A fresh compressor: no back-reference reaches across the
            // stored blocks.
            self.emit_stored()?;
            self.deflate.reset();
        }
        self.stored = store;
        Ok(())
    }

    /// Ends the deflate stream and writes the gzip trailer.
    fn finish(mut self) -> io::Result<W> {
        if self.stored {
            self.emit_stored()?;
            // An empty final stored block.
            self.inner.write_all(&[1, 0, 0, 0xff, 0xff])?;
        } else {
            self.run(&[], flate2::FlushCompress::Finish)?;
        }
        let mut trailer = [0u8; 8];
        trailer[..4].copy_from_slice(&self.crc.sum().to_le_bytes());
        trailer[4..].copy_from_slice(&self.crc.amount().to_le_bytes());
        self.inner.write_all(&trailer)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for LayerGz<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        while !rest.is_empty() {
            let room = (Self::WINDOW - self.window_in).min(rest.len() as u64) as usize;
            let (now, later) = rest.split_at(room);
            // The first window is always compressed: a layer smaller than
            // one window is exactly GzBuilder's stream.
            if self.window_in == 0 && self.crc.amount() > 0 {
                self.start_window(now)?;
            }
            self.crc.update(now);
            if self.stored {
                self.store(now)?;
            } else {
                self.run(now, flate2::FlushCompress::None)?;
            }
            self.window_in = (self.window_in + now.len() as u64) % Self::WINDOW;
            rest = later;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A bounded in-memory pipe between two threads working on one blob (the
/// one compressing a layer and the one uploading it; the one receiving a
/// blob and the one storing it), a few chunks in flight. A reader whose
/// writer went away without [`Writer::finish`] gets an error, never a short
/// stream, so a failed compression cannot complete an upload nor a failed
/// download store a layer.
mod pipe {
    use std::io::{self, Read, Write};
    use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

    const CHUNK: usize = 256 << 10;

    pub struct Writer {
        tx: SyncSender<Option<Vec<u8>>>,
        buf: Vec<u8>,
    }

    pub struct Reader {
        rx: Receiver<Option<Vec<u8>>>,
        cur: Vec<u8>,
        pos: usize,
        done: bool,
    }

    /// The reading end went away.
    fn closed() -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, "the reading end stopped")
    }

    pub fn pipe() -> (Writer, Reader) {
        let (tx, rx) = sync_channel(8);
        (
            Writer {
                tx,
                buf: Vec::with_capacity(CHUNK),
            },
            Reader {
                rx,
                cur: Vec::new(),
                pos: 0,
                done: false,
            },
        )
    }

    impl Writer {
        fn send(&mut self) -> io::Result<()> {
            let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
            self.tx.send(Some(full)).map_err(|_| closed())
        }

        /// Sends all of `r`, read straight into the chunks sent (no copy).
        pub fn copy_from(&mut self, r: &mut dyn Read) -> io::Result<u64> {
            if !self.buf.is_empty() {
                self.send()?;
            }
            let mut total = 0;
            loop {
                let mut chunk = vec![0u8; CHUNK];
                let mut filled = 0;
                while filled < CHUNK {
                    match r.read(&mut chunk[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                if filled == 0 {
                    return Ok(total);
                }
                chunk.truncate(filled);
                total += filled as u64;
                self.tx.send(Some(chunk)).map_err(|_| closed())?;
                if filled < CHUNK {
                    return Ok(total);
                }
            }
        }

        /// Sends what is left and the end of the stream.
        pub fn finish(mut self) -> io::Result<()> {
            if !self.buf.is_empty() {
                self.send()?;
            }
            self.tx.send(None).map_err(|_| closed())
        }
    }

    impl Write for Writer {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.buf.extend_from_slice(b);
            if self.buf.len() >= CHUNK {
                self.send()?;
            }
            Ok(b.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Read for Reader {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            loop {
                if self.pos < self.cur.len() {
                    let n = out.len().min(self.cur.len() - self.pos);
                    out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
                    self.pos += n;
                    return Ok(n);
                }
                if self.done || out.is_empty() {
                    return Ok(0);
                }
                match self.rx.recv() {
                    Ok(Some(chunk)) => {
                        self.cur = chunk;
                        self.pos = 0;
                    }
                    Ok(None) => self.done = true,
                    Err(_) => return Err(io::Error::other("the writing end stopped")),
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_writer_dropped_unfinished_is_an_error_not_an_end() {
            let (mut w, mut r) = pipe();
            w.write_all(b"partial").unwrap();
            let t = std::thread::spawn(move || {
                let mut got = Vec::new();
                r.read_to_end(&mut got).map(|_| got)
            });
            drop(w);
            assert!(t.join().unwrap().is_err());
        }

        #[test]
        fn finished_bytes_arrive_whole() {
            let (mut w, mut r) = pipe();
            let t = std::thread::spawn(move || {
                let mut got = Vec::new();
                r.read_to_end(&mut got).map(|_| got)
            });
            let data: Vec<u8> = (0..3 * CHUNK + 17).map(|i| i as u8).collect();
            w.write_all(&data).unwrap();
            w.finish().unwrap();
            assert_eq!(t.join().unwrap().unwrap(), data);
        }
    }
}

/// Layers a push compresses and uploads at once: the daemon's default
/// `max-concurrent-uploads`. More workers than cores still pays: layers
/// differ in size, and one core per worker would leave a core idle while
/// the biggest layer finishes.
const MAX_CONCURRENT_UPLOADS: usize = 5;

/// Layers a pull fetches at once: the daemon's `max-concurrent-downloads`.
const MAX_CONCURRENT_DOWNLOADS: usize = 3;

/// Which manifest format a push writes: docker's schema 2 (`docker push`)
/// or OCI (BuildKit's image exporter, `buildx build --push`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Docker,
    Oci,
}

/// An image's blobs uploaded and its manifest written, not yet put.
pub struct Uploaded {
    pub layers: Vec<(Digest, LayerPush)>,
    pub media_type: &'static str,
    pub manifest: Vec<u8>,
    records: Vec<(Digest, DistRecord)>,
    gzip: Vec<(Digest, Compressed)>,
}

/// Uploads image `id`'s layers and config to `repo` of `reg` (named
/// `host`) and writes its manifest (not put: the caller puts it by tag or
/// by digest, then calls [`Uploaded::commit`]).
pub fn upload(
    engine: &Engine,
    reg: &dyn Registry,
    host: &str,
    repo: &str,
    id: &Digest,
    format: Format,
) -> Result<Uploaded> {
    let image = engine.image(id)?;
    let diff_ids = crate::engine::diff_ids_of(&image.config);
    let known = engine.store.distribution();
    let mut layers = Vec::new();
    let mut descriptors = Vec::new();
    let mut records = Vec::new();
    // What the registry already has (or can mount) is settled first, in
    // order; the rest is compressed and uploaded in parallel (as the
    // daemon does, up to `MAX_CONCURRENT_UPLOADS`), each layer streamed
    // into its upload as it is compressed.
    let mut settled: Vec<Option<(Digest, u64, LayerPush)>> = Vec::new();
    for d in &diff_ids {
        let mut done = None;
        let candidates: Vec<&DistRecord> = known
            .layers
            .get(d)
            .map(|rs| rs.iter().filter(|r| r.registry == host).collect())
            .unwrap_or_default();
        // The same repository first, then a mount from another one.
        for r in candidates.iter().filter(|r| r.repository == repo) {
            if let Some(size) = reg.stat_blob(repo, &r.digest)? {
                done = Some((r.digest.clone(), size, LayerPush::Exists));
                break;
            }
        }
        if done.is_none() {
            for r in candidates.iter().filter(|r| r.repository != repo) {
                if reg.mount_blob(repo, &r.repository, &r.digest)? {
                    done = Some((
                        r.digest.clone(),
                        r.size,
                        LayerPush::Mounted(r.repository.clone()),
                    ));
                    break;
                }
            }
        }
        // The blob an earlier push compressed it to, when the registry has
        // it under this repository: no need to compress again.
        if done.is_none()
            && let Some(c) = known.gzip.get(d)
            && let Some(size) = reg.stat_blob(repo, &c.digest)?
        {
            done = Some((c.digest.clone(), size, LayerPush::Exists));
        }
        settled.push(done);
    }
    // Each layer is uploaded once: a second copy of one in the same image
    // finds it there.
    let mut pending: Vec<usize> = Vec::new();
    for i in 0..diff_ids.len() {
        if settled[i].is_none() && !pending.iter().any(|&j| diff_ids[j] == diff_ids[i]) {
            pending.push(i);
        }
    }
    let workers = pending.len().clamp(1, MAX_CONCURRENT_UPLOADS);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut pushed: std::collections::HashMap<usize, (Digest, u64)> =
        std::collections::HashMap::new();
    std::thread::scope(|sc| -> Result<()> {
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, pending, diff_ids) = (&next, &pending, &diff_ids);
            let home = engine.home.clone();
            sc.spawn(move || {
                // The engine keeps per-thread caches: each worker opens its own.
                let own = Engine::open(&home).map_err(DistError::from);
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&i) = pending.get(k) else { break };
                    let r = match &own {
                        Ok(e) => push_layer(e, reg, repo, &diff_ids[i]),
                        Err(e) => Err(DistError::Io(io::Error::other(e.to_string()))),
                    };
                    if r.is_err() {
                        // Stop the other workers early: they see no next layer.
                        next.store(usize::MAX / 2, std::sync::atomic::Ordering::SeqCst);
                    }
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut failed: Option<(usize, DistError)> = None;
        for (i, r) in rx {
            match r {
                Ok(blob) => {
                    pushed.insert(i, blob);
                }
                Err(e) => {
                    if failed.as_ref().is_none_or(|(j, _)| i < *j) {
                        failed = Some((i, e));
                    }
                }
            }
        }
        match failed {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    })?;
    let mut gzip = Vec::new();
    let mut outcome: Vec<(Digest, u64, LayerPush)> = Vec::new();
    for (i, done) in settled.into_iter().enumerate() {
        let item = match done {
            Some(x) => x,
            None => {
                let first = pending
                    .iter()
                    .copied()
                    .find(|&j| diff_ids[j] == diff_ids[i])
                    .expect("every unsettled layer has a pending upload");
                let (blob, size) = pushed
                    .get(&first)
                    .cloned()
                    .ok_or_else(|| DistError::Io(io::Error::other("a layer was not uploaded")))?;
                if first == i {
                    gzip.push((
                        diff_ids[i].clone(),
                        Compressed {
                            digest: blob.clone(),
                            size,
                        },
                    ));
                    (blob, size, LayerPush::Pushed)
                } else {
                    (blob, size, LayerPush::Exists)
                }
            }
        };
        outcome.push(item);
    }
    for (d, (blob, size, state)) in diff_ids.iter().zip(outcome) {
        records.push((
            d.clone(),
            DistRecord {
                digest: blob.clone(),
                size,
                registry: host.to_string(),
                repository: repo.to_string(),
            },
        ));
        descriptors.push(match format {
            Format::Docker => serde_json::json!({
                "mediaType": media::DOCKER_LAYER,
                "size": size,
                "digest": blob.to_string(),
            }),
            Format::Oci => serde_json::json!({
                "mediaType": media::OCI_LAYER,
                "digest": blob.to_string(),
                "size": size,
            }),
        });
        layers.push((d.clone(), state));
    }
    if reg.stat_blob(repo, id)?.is_none() {
        reg.put_blob(repo, Some(id), &mut &image.config_bytes[..])?;
    }
    let (media_type, manifest) = match format {
        Format::Docker => (
            media::DOCKER_MANIFEST,
            manifest_json(&serde_json::json!({
                "schemaVersion": 2,
                "mediaType": media::DOCKER_MANIFEST,
                "config": {
                    "mediaType": media::DOCKER_CONFIG,
                    "size": image.config_bytes.len(),
                    "digest": id.to_string(),
                },
                "layers": descriptors,
            })),
        ),
        Format::Oci => (
            media::OCI_MANIFEST,
            oci_json(&serde_json::json!({
                "schemaVersion": 2,
                "mediaType": media::OCI_MANIFEST,
                "config": {
                    "mediaType": media::OCI_CONFIG,
                    "digest": id.to_string(),
                    "size": image.config_bytes.len(),
                },
                "layers": descriptors,
            })),
        ),
    };
    Ok(Uploaded {
        layers,
        media_type,
        manifest,
        records,
        gzip,
    })
}

impl Uploaded {
    /// Records where the layers now are (for later pushes' mounts and
    /// `Layer already exists`).
    pub fn commit(&self, engine: &Engine) -> Result<()> {
        engine
            .store
            .record_distribution(&self.records, &self.gzip)?;
        Ok(())
    }
}

/// Serialises JSON as BuildKit writes OCI manifests and indexes
/// (`json.MarshalIndent` with two spaces).
pub fn oci_json(v: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("json serializes")
}

/// Pushes image `id` to `repo:tag` of `reg` (named `host`).
pub fn push(
    engine: &Engine,
    reg: &dyn Registry,
    host: &str,
    repo: &str,
    tag: &str,
    id: &Digest,
) -> Result<Pushed> {
    let up = upload(engine, reg, host, repo, id, Format::Docker)?;
    let digest = reg.put_manifest(
        repo,
        &RefSpec::Tag(tag.to_string()),
        up.media_type,
        &up.manifest,
    )?;
    up.commit(engine)?;
    let dref = format!("{host}/{repo}@{digest}");
    engine
        .store
        .update(|idx| -> std::result::Result<(), StoreError> {
            idx.digests.insert(dref.clone(), id.clone());
            Ok(())
        })?;
    Ok(Pushed {
        layers: up.layers,
        digest,
        size: up.manifest.len(),
    })
}

/// One image of a multi-platform push, as pushed by digest.
#[derive(Clone, Debug)]
pub struct PlatformManifest {
    pub platform: crate::catalog::Platform,
    pub media_type: String,
    pub digest: Digest,
    pub size: usize,
    /// The image's config digest (its ID in the store).
    pub config: Digest,
}

/// What `push_index` did.
#[derive(Debug)]
pub struct PushedIndex {
    pub manifests: Vec<PlatformManifest>,
    pub digest: Digest,
    pub size: usize,
}

/// `buildx build --push` for several platforms: each image pushed as an OCI
/// manifest by digest, then an OCI image index listing them (with their
/// platforms) put under `tag`.
pub fn push_index(
    engine: &Engine,
    reg: &dyn Registry,
    host: &str,
    repo: &str,
    tag: &str,
    images: &[(crate::catalog::Platform, Digest)],
) -> Result<PushedIndex> {
    let mut manifests = Vec::new();
    for (platform, id) in images {
        let up = upload(engine, reg, host, repo, id, Format::Oci)?;
        let digest = Digest::of(&up.manifest);
        reg.put_manifest(
            repo,
            &RefSpec::Digest(digest.clone()),
            up.media_type,
            &up.manifest,
        )?;
        up.commit(engine)?;
        manifests.push(PlatformManifest {
            platform: platform.clone(),
            media_type: up.media_type.to_string(),
            digest,
            size: up.manifest.len(),
            config: id.clone(),
        });
    }
    let entries: Vec<serde_json::Value> = manifests
        .iter()
        .map(|m| {
            let mut p = serde_json::json!({
                "architecture": m.platform.architecture,
                "os": m.platform.os,
            });
            if let Some(v) = index_variant(&m.platform) {
                p["variant"] = serde_json::Value::String(v.to_string());
            }
            serde_json::json!({
                "mediaType": m.media_type,
                "digest": m.digest.to_string(),
                "size": m.size,
                "platform": p,
            })
        })
        .collect();
    let bytes = oci_json(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": entries,
    }));
    let digest = reg.put_manifest(
        repo,
        &RefSpec::Tag(tag.to_string()),
        media::OCI_INDEX,
        &bytes,
    )?;
    Ok(PushedIndex {
        manifests,
        digest,
        size: bytes.len(),
    })
}

/// The variant an index entry carries: containerd normalises `arm64/v8`
/// to plain `arm64`, as BuildKit writes it.
fn index_variant(p: &crate::catalog::Platform) -> Option<&str> {
    match (p.architecture.as_str(), p.variant.as_deref()) {
        ("arm64", Some("v8")) => None,
        (_, v) => v,
    }
}

/// Whether an index entry's platform is `want` (an entry for `arm64` with
/// no variant is `arm64/v8`).
pub fn platform_matches(entry: &serde_json::Value, want: &crate::catalog::Platform) -> bool {
    let norm = |arch: &str, v: Option<&str>| -> Option<String> {
        match (arch, v) {
            ("arm64", None) => Some("v8".into()),
            (_, v) => v.map(str::to_string),
        }
    };
    let arch = entry["architecture"].as_str().unwrap_or_default();
    entry["os"].as_str() == Some(want.os.as_str())
        && arch == want.architecture
        && (want.variant.is_none()
            || norm(arch, entry["variant"].as_str())
                == norm(&want.architecture, want.variant.as_deref()))
}

/// Reads a manifest for `platform`, following an index.
pub fn resolve_manifest(
    reg: &dyn Registry,
    repo: &str,
    reference: &RefSpec,
    platform: &crate::catalog::Platform,
) -> Result<(Manifest, Manifest)> {
    let top = reg.get_manifest(repo, reference)?;
    if !media::is_index(&top.media_type) {
        return Ok((top.clone(), top));
    }
    let v: serde_json::Value = serde_json::from_slice(&top.bytes)
        .map_err(|e| DistError::BadImage(format!("manifest list: {e}")))?;
    let chosen = v["manifests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| platform_matches(&m["platform"], platform));
    let Some(d) = chosen
        .and_then(|m| m["digest"].as_str())
        .and_then(|d| Digest::parse(d).ok())
    else {
        return Err(DistError::NoMatchingManifest(platform.to_string()));
    };
    let m = reg.get_manifest(repo, &RefSpec::Digest(d))?;
    Ok((top, m))
}

/// Fetches the layers at `pending` (indexes into `blobs`, the manifest's
/// blob, media type and size, and `diff_ids`) into the store: up to
/// `MAX_CONCURRENT_DOWNLOADS` workers, each streaming a blob through its decompression into
/// `Store::put_layer_tar`. The first failing layer (in manifest order) is
/// the error.
fn fetch_layers(
    store: &crate::store::Store,
    reg: &dyn Registry,
    repo: &str,
    blobs: &[(Digest, String, u64)],
    diff_ids: &[Digest],
    pending: &[usize],
) -> Result<()> {
    let fetch = |i: usize| -> Result<()> {
        let (blob, mt, _) = &blobs[i];
        // One thread receives the blob (checking its digest) while this
        // one decompresses and stores it: the last layer left still keeps
        // two cores busy.
        let (w, r) = pipe::pipe();
        std::thread::scope(|sc| {
            let received = sc.spawn(move || -> Result<()> {
                let mut body = reg.get_blob(repo, blob)?;
                let mut w = w;
                w.copy_from(&mut body)?;
                w.finish()?;
                Ok(())
            });
            let stored = (|| -> Result<()> {
                let body = io::BufReader::with_capacity(1 << 20, r);
                let mut r: Box<dyn Read> = if mt.ends_with("tar") {
                    Box::new(body)
                } else if mt.ends_with("zstd") {
                    Box::new(
                        ruzstd::decoding::StreamingDecoder::new(body)
                            .map_err(|e| DistError::BadImage(format!("layer {blob}: {e}")))?,
                    )
                } else {
                    // `bufread`: inflates straight out of `body`'s buffer.
                    Box::new(flate2::bufread::GzDecoder::new(body))
                };
                store.put_layer_tar(&mut r, Some(&diff_ids[i]))?;
                Ok(())
            })();
            let received = received.join().unwrap_or_else(|_| {
                Err(DistError::Io(io::Error::other(
                    "the download thread panicked",
                )))
            });
            match (stored, received) {
                (Ok(()), Ok(())) => Ok(()),
                // The store side stopped reading (its error, or a stream
                // that ended before the blob did, as a single reader would
                // have left it).
                (stored, Err(DistError::Io(e))) if e.kind() == io::ErrorKind::BrokenPipe => stored,
                // Receiving failed: the store side only saw the pipe stop.
                (_, Err(e)) => Err(e),
                (Err(e), Ok(())) => Err(e),
            }
        })
    };
    let workers = pending.len().min(MAX_CONCURRENT_DOWNLOADS);
    if workers <= 1 {
        return pending.iter().try_for_each(|&i| fetch(i));
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let stop = pending.len();
    let mut failed: Option<(usize, DistError)> = None;
    std::thread::scope(|sc| {
        let (tx, rx) = std::sync::mpsc::channel();
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, fetch) = (&next, &fetch);
            sc.spawn(move || {
                loop {
                    let k = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&i) = pending.get(k) else { break };
                    let r = fetch(i);
                    if r.is_err() {
                        // The other workers take no further layer.
                        next.store(stop, std::sync::atomic::Ordering::SeqCst);
                    }
                    if tx.send((i, r)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (i, r) in rx {
            if let Err(e) = r
                && failed.as_ref().is_none_or(|(j, _)| i < *j)
            {
                failed = Some((i, e));
            }
        }
    });
    match failed {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// Pulls `r` (its domain routed to `reg`) for `platform`.
pub fn pull(
    engine: &Engine,
    reg: &dyn Registry,
    r: &Reference,
    platform: &crate::catalog::Platform,
) -> Result<Pulled> {
    let host = r.domain().to_string();
    let repo = r.path().to_string();
    let reference = match (r.digest(), r.tag()) {
        (Some(d), _) => RefSpec::Digest(d.clone()),
        (None, Some(t)) => RefSpec::Tag(t.to_string()),
        (None, None) => RefSpec::Tag("latest".into()),
    };
    let (top, m) = resolve_manifest(reg, &repo, &reference, platform)?;
    let v: serde_json::Value = serde_json::from_slice(&m.bytes)
        .map_err(|e| DistError::BadImage(format!("manifest {}: {e}", m.digest)))?;
    let config_digest = v["config"]["digest"]
        .as_str()
        .and_then(|d| Digest::parse(d).ok())
        .ok_or_else(|| DistError::BadImage(format!("manifest {} has no config", m.digest)))?;
    let mut config_bytes = Vec::new();
    reg.get_blob(&repo, &config_digest)?
        .read_to_end(&mut config_bytes)?;
    let config: serde_json::Value = serde_json::from_slice(&config_bytes)
        .map_err(|e| DistError::BadImage(format!("image config {config_digest}: {e}")))?;
    let diff_ids = crate::engine::diff_ids_of(&config);
    let blobs: Vec<(Digest, String, u64)> = v["layers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| {
            Some((
                Digest::parse(l["digest"].as_str()?).ok()?,
                l["mediaType"].as_str().unwrap_or_default().to_string(),
                l["size"].as_u64().unwrap_or(0),
            ))
        })
        .collect();
    if blobs.len() != diff_ids.len() {
        return Err(DistError::BadImage(format!(
            "manifest {} lists {} layers, its config {}",
            m.digest,
            blobs.len(),
            diff_ids.len()
        )));
    }
    let before = engine.index()?;
    // A layer is fetched once (a second copy in the same image finds it
    // there), the missing ones in parallel, biggest first.
    let mut had = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    for (i, diff_id) in diff_ids.iter().enumerate() {
        had.push(diff_ids[..i].contains(diff_id) || engine.store.has_layer(diff_id));
        if !had[i] {
            pending.push(i);
        }
    }
    pending.sort_by_key(|&i| std::cmp::Reverse(blobs[i].2));
    fetch_layers(&engine.store, reg, &repo, &blobs, &diff_ids, &pending)?;
    let mut layers = Vec::new();
    let mut records = Vec::new();
    let mut sizes = Vec::new();
    for (((blob, _, size), diff_id), had) in blobs.iter().zip(&diff_ids).zip(had) {
        records.push((
            diff_id.clone(),
            DistRecord {
                digest: blob.clone(),
                size: *size,
                registry: host.clone(),
                repository: repo.clone(),
            },
        ));
        sizes.push((diff_id.clone(), engine.store.layer_size(diff_id)?));
        layers.push((blob.clone(), had));
    }
    let id = engine.store.put_blob(&config_bytes)?;
    if id != config_digest {
        return Err(DistError::BadImage(format!(
            "image config {config_digest} hashes to {id}"
        )));
    }
    engine.store.record_distribution(&records, &[])?;
    let img_platform = crate::catalog::Platform {
        os: config["os"].as_str().unwrap_or("linux").to_string(),
        architecture: config["architecture"]
            .as_str()
            .unwrap_or("amd64")
            .to_string(),
        variant: config["variant"].as_str().map(str::to_string),
    };
    let summary = crate::engine::summary_of(&config, &sizes, None, &img_platform);
    let tagged = r.tag().is_some() || r.digest().is_none();
    let r = if tagged {
        r.clone().with_default_tag()
    } else {
        r.clone()
    };
    let key = r.to_string();
    let dkey = r.repository().with_digest(top.digest.clone()).to_string();
    let up_to_date = if tagged {
        before.tags.get(&key) == Some(&id)
    } else {
        before.digests.get(&dkey) == Some(&id)
    };
    let now = crate::home::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    engine
        .store
        .update(|idx| -> std::result::Result<(), StoreError> {
            idx.images.entry(id.clone()).or_insert(summary);
            if tagged {
                idx.tags.insert(key.clone(), id.clone());
            }
            idx.digests.insert(dkey.clone(), id.clone());
            if !up_to_date && let Some(s) = idx.images.get_mut(&id) {
                s.last_tag_time = Some(now.clone());
            }
            Ok(())
        })?;
    Ok(Pulled {
        reference: r,
        id,
        layers,
        digest: top.digest,
        up_to_date,
    })
}

#[cfg(test)]
mod layer_gz_tests {
    use super::LayerGz;
    use std::io::{Read, Write};

    fn noise(n: usize, mut x: u64) -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    fn text(n: usize) -> Vec<u8> {
        (0..)
            .flat_map(|i: u32| format!("line {i} of a very ordinary log file\n").into_bytes())
            .take(n)
            .collect()
    }

    fn ours(data: &[u8], piece: usize) -> Vec<u8> {
        let mut gz = LayerGz::new(Vec::new()).unwrap();
        for c in data.chunks(piece) {
            gz.write_all(c).unwrap();
        }
        gz.finish().unwrap()
    }

    fn gunzip(blob: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(blob)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn below_one_window_it_is_gzbuilders_stream_byte_for_byte() {
        for data in [text(300_000), noise(300_000, 7), Vec::new()] {
            let mut gz = flate2::GzBuilder::new()
                .mtime(0)
                .write(Vec::new(), flate2::Compression::fast());
            gz.write_all(&data).unwrap();
            let theirs = gz.finish().unwrap();
            assert_eq!(ours(&data, 1 << 20), theirs);
            assert_eq!(ours(&data, 4096), theirs);
        }
    }

    #[test]
    fn incompressible_windows_are_stored_and_text_after_them_compressed() {
        let mut data = noise(9 << 20, 3);
        data.extend(text(20 << 20));
        data.extend(noise(5 << 20, 5));
        let blob = ours(&data, 1 << 20);
        assert_eq!(gunzip(&blob), data);
        // The same blob every time (zlib-rs, like GzBuilder, gives the
        // same stream for the same input cut the same way).
        assert_eq!(ours(&data, 1 << 20), blob);
        let other = ours(&data, 65_537);
        assert_eq!(gunzip(&other), data);
        // Noise costs about its size, the text much less than its own.
        assert!(blob.len() < (14 << 20) + (6 << 20), "{}", blob.len());
    }
}
