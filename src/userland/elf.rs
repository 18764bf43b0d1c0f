//! Just enough ELF to decide whether a file can run here, as the kernel
//! decides: the machine it was built for, whether it names a program
//! interpreter (the dynamic loader, `PT_INTERP`), and the imagelab note
//! that tells the userland what a program built inside a simulated build
//! does when it runs. [`build`] writes such files: a valid ELF header and
//! program headers, the interpreter string, the note, then deterministic
//! filler up to a realistic size.

use crate::catalog::Platform;
use crate::layer::seed_of;

pub const EM_386: u16 = 3;
pub const EM_ARM: u16 = 40;
pub const EM_X86_64: u16 = 62;
pub const EM_AARCH64: u16 = 183;

const PT_LOAD: u32 = 1;
const PT_INTERP: u32 = 3;
const PT_NOTE: u32 = 4;

/// The note name under which imagelab keeps a built program's behaviour.
pub const NOTE_NAME: &str = "imagelab";

/// What a file's ELF headers say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    pub machine: u16,
    pub class64: bool,
    /// The `PT_INTERP` path (a dynamically linked program's loader).
    pub interp: Option<String>,
    /// The imagelab note's text, if any.
    pub note: Option<String>,
}

/// The `e_machine` a platform's programs carry.
pub fn machine_of(p: &Platform) -> u16 {
    match p.architecture.as_str() {
        "arm64" => EM_AARCH64,
        "arm" => EM_ARM,
        "386" => EM_386,
        _ => EM_X86_64,
    }
}

/// A readable name for an `e_machine` (as `file` prints it).
pub fn machine_name(m: u16) -> &'static str {
    match m {
        EM_X86_64 => "x86-64",
        EM_AARCH64 => "ARM aarch64",
        EM_ARM => "ARM",
        EM_386 => "Intel 80386",
        _ => "unknown arch",
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Parses the headers of a little-endian ELF file (None when `b` is not
/// one, or is truncated).
pub fn parse(b: &[u8]) -> Option<ElfInfo> {
    if b.len() < 52 || &b[..4] != b"\x7fELF" || b[5] != 1 {
        return None;
    }
    let class64 = b[4] == 2;
    let machine = u16_at(b, 18)?;
    let (phoff, phentsize, phnum) = if class64 {
        (
            u64_at(b, 32)? as usize,
            u16_at(b, 54)? as usize,
            u16_at(b, 56)?,
        )
    } else {
        (
            u32_at(b, 28)? as usize,
            u16_at(b, 42)? as usize,
            u16_at(b, 44)?,
        )
    };
    let mut interp = None;
    let mut note = None;
    for i in 0..phnum.min(64) as usize {
        let ph = phoff.checked_add(i.checked_mul(phentsize)?)?;
        let kind = u32_at(b, ph)?;
        let (off, size) = if class64 {
            (u64_at(b, ph + 8)? as usize, u64_at(b, ph + 32)? as usize)
        } else {
            (u32_at(b, ph + 4)? as usize, u32_at(b, ph + 16)? as usize)
        };
        if kind != PT_INTERP && kind != PT_NOTE {
            continue;
        }
        let data = b.get(off..off.checked_add(size)?)?;
        match kind {
            PT_INTERP => {
                interp = Some(
                    String::from_utf8_lossy(data.split(|c| *c == 0).next().unwrap_or(&[]))
                        .into_owned(),
                )
            }
            PT_NOTE => note = read_note(data),
            _ => {}
        }
    }
    Some(ElfInfo {
        machine,
        class64,
        interp,
        note,
    })
}

fn read_note(d: &[u8]) -> Option<String> {
    let namesz = u32_at(d, 0)? as usize;
    let descsz = u32_at(d, 4)? as usize;
    let name = d.get(12..12 + namesz)?;
    if name.split(|c| *c == 0).next()? != NOTE_NAME.as_bytes() {
        return None;
    }
    let at = 12 + namesz.div_ceil(4) * 4;
    let desc = d.get(at..at + descsz)?;
    Some(String::from_utf8_lossy(desc).into_owned())
}

/// What to write into a built program.
#[derive(Clone, Debug)]
pub struct Spec {
    pub machine: u16,
    /// The loader path for a dynamic program (`/lib/ld-musl-x86_64.so.1`,
    /// `/lib64/ld-linux-x86-64.so.2`); None for a static one.
    pub interp: Option<String>,
    /// The behaviour note (see `lang`), if any.
    pub note: Option<String>,
    /// Extra bytes placed after the headers (Go build info, for example).
    pub extra: Vec<u8>,
    /// The file's total size; filler pads up to it.
    pub size: u64,
    /// Seeds the filler, so the same inputs give the same bytes.
    pub seed: String,
}

/// Writes a 64-bit little-endian executable for `spec`.
pub fn build(spec: &Spec) -> Vec<u8> {
    const EHDR: usize = 64;
    const PHDR: usize = 56;
    let mut segments: Vec<(u32, Vec<u8>)> = Vec::new();
    if let Some(i) = &spec.interp {
        let mut v = i.as_bytes().to_vec();
        v.push(0);
        segments.push((PT_INTERP, v));
    }
    if let Some(n) = &spec.note {
        let mut v = Vec::new();
        let name = format!("{NOTE_NAME}\0");
        v.extend_from_slice(&(name.len() as u32).to_le_bytes());
        v.extend_from_slice(&(n.len() as u32).to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(name.as_bytes());
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v.extend_from_slice(n.as_bytes());
        while v.len() % 4 != 0 {
            v.push(0);
        }
        segments.push((PT_NOTE, v));
    }
    let phnum = segments.len() + 1;
    let mut data_at = EHDR + PHDR * phnum;
    let mut out = vec![0u8; data_at];
    out[..4].copy_from_slice(b"\x7fELF");
    out[4] = 2; // 64-bit
    out[5] = 1; // little endian
    out[6] = 1; // version
    out[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out[18..20].copy_from_slice(&spec.machine.to_le_bytes());
    out[20..24].copy_from_slice(&1u32.to_le_bytes());
    out[24..32].copy_from_slice(&0x401000u64.to_le_bytes()); // entry
    out[32..40].copy_from_slice(&(EHDR as u64).to_le_bytes()); // phoff
    out[52..54].copy_from_slice(&(EHDR as u16).to_le_bytes());
    out[54..56].copy_from_slice(&(PHDR as u16).to_le_bytes());
    out[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
    let ph = |i: usize, kind: u32, off: usize, len: usize, out: &mut Vec<u8>| {
        let at = EHDR + PHDR * i;
        let flags: u32 = if kind == PT_LOAD { 6 } else { 4 }; // PF_R|PF_W, PF_R
        out[at..at + 4].copy_from_slice(&kind.to_le_bytes());
        out[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
        out[at + 8..at + 16].copy_from_slice(&(off as u64).to_le_bytes());
        out[at + 16..at + 24].copy_from_slice(&(0x400000 + off as u64).to_le_bytes());
        out[at + 24..at + 32].copy_from_slice(&(0x400000 + off as u64).to_le_bytes());
        out[at + 32..at + 40].copy_from_slice(&(len as u64).to_le_bytes());
        out[at + 40..at + 48].copy_from_slice(&(len as u64).to_le_bytes());
        out[at + 48..at + 56].copy_from_slice(&0x1000u64.to_le_bytes());
    };
    for (i, (kind, bytes)) in segments.iter().enumerate() {
        ph(i, *kind, data_at, bytes.len(), &mut out);
        out.extend_from_slice(bytes);
        data_at += bytes.len();
    }
    // Go's debug/buildinfo looks for its header at 16-byte alignment in the
    // first writable PT_LOAD segment: align the extra bytes accordingly.
    if !spec.extra.is_empty() {
        while !out.len().is_multiple_of(16) {
            out.push(0);
        }
    }
    out.extend_from_slice(&spec.extra);
    let total = (spec.size as usize).max(out.len());
    ph(phnum - 1, PT_LOAD, 0, total, &mut out);
    if out.len() < total {
        let fill = crate::layer::Content::Filler {
            seed: seed_of(&spec.seed),
            len: (total - out.len()) as u64,
        };
        fill.write_to(&mut out).expect("writing to a Vec");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_program_reads_back() {
        let b = build(&Spec {
            machine: EM_AARCH64,
            interp: Some("/lib/ld-musl-aarch64.so.1".into()),
            note: Some("print hello".into()),
            extra: b"\xff Go buildinf:".to_vec(),
            size: 4096,
            seed: "app".into(),
        });
        assert_eq!(b.len(), 4096);
        let i = parse(&b).unwrap();
        assert_eq!(i.machine, EM_AARCH64);
        assert!(i.class64);
        assert_eq!(i.interp.as_deref(), Some("/lib/ld-musl-aarch64.so.1"));
        assert_eq!(i.note.as_deref(), Some("print hello"));
        assert_eq!(parse(b"#!/bin/sh\n"), None);
    }
}
