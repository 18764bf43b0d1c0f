//! A minimal deterministic zip writer (stored entries, no compression) for
//! the jars `mvn` and `javac`'s neighbours write, and a reader of what such
//! a file holds, enough for `java -jar` to find its manifest.

/// Writes a zip archive of `(name, bytes)` entries, in the given order,
/// all dated `dos_time`/`dos_date`.
pub fn write(entries: &[(String, Vec<u8>)], clock: u64) -> Vec<u8> {
    let (time, date) = dos_datetime(clock);
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let crc = crc.sum();
        let offset = out.len() as u32;
        let head = |sig: u32, central_form: bool, v: &mut Vec<u8>| {
            v.extend_from_slice(&sig.to_le_bytes());
            if central_form {
                v.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            v.extend_from_slice(&20u16.to_le_bytes()); // needed
            v.extend_from_slice(&0x0800u16.to_le_bytes()); // UTF-8 names
            v.extend_from_slice(&0u16.to_le_bytes()); // stored
            v.extend_from_slice(&time.to_le_bytes());
            v.extend_from_slice(&date.to_le_bytes());
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(&(name.len() as u16).to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra
        };
        head(0x0403_4b50, false, &mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        head(0x0201_4b50, true, &mut central);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
        let ext: u32 = if name.ends_with('/') {
            0o40755 << 16 | 0x10
        } else {
            0o100644 << 16
        };
        central.extend_from_slice(&ext.to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_at = out.len() as u32;
    let cd_len = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_len.to_le_bytes());
    out.extend_from_slice(&cd_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The stored entries of a zip written by [`write`] (or any zip whose
/// entries are stored): `(name, bytes)`. Compressed entries come back
/// empty. Walks local headers, bounded by the input.
pub fn read(b: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0usize;
    let u16_at = |i: usize| -> Option<usize> {
        Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as usize)
    };
    let u32_at = |i: usize| -> Option<usize> {
        Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize)
    };
    while b.get(at..at + 4) == Some(&[0x50, 0x4b, 0x03, 0x04]) {
        let (Some(method), Some(size), Some(nlen), Some(xlen)) = (
            u16_at(at + 8),
            u32_at(at + 18),
            u16_at(at + 26),
            u16_at(at + 28),
        ) else {
            break;
        };
        let name_at = at + 30;
        let Some(name) = b.get(name_at..name_at + nlen) else {
            break;
        };
        let data_at = name_at + nlen + xlen;
        let Some(data) = b.get(data_at..data_at + size) else {
            break;
        };
        out.push((
            String::from_utf8_lossy(name).into_owned(),
            if method == 0 {
                data.to_vec()
            } else {
                Vec::new()
            },
        ));
        at = data_at + size;
    }
    out
}

/// MS-DOS time and date fields for a Unix time (UTC).
fn dos_datetime(clock: u64) -> (u16, u16) {
    let iso = super::iso_time(clock);
    let n = |r: std::ops::Range<usize>| iso.get(r).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
    let (y, mo, d, h, mi, s) = (n(0..4), n(5..7), n(8..10), n(11..13), n(14..16), n(17..19));
    let time = (h << 11) | (mi << 5) | (s / 2);
    let date = (y.saturating_sub(1980) << 9) | (mo << 5) | d;
    (time, date)
}
