//! Human-readable units the way docker/go-units prints them: decimal and
//! binary sizes (`HumanSize`, `HumanSizeWithPrecision`, `BytesSize`), coarse
//! durations (`HumanDuration`) and docker's "… ago" column. Sizes go through a
//! re-implementation of Go's `%.Ng` verb so quirks such as `1e+03kB` survive.

use chrono::{DateTime, Duration, Utc};

const DECIMAL: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

fn size_and_unit(mut size: f64, base: f64, units: &[&'static str]) -> (f64, &'static str) {
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, units[i])
}

/// Go's `fmt.Sprintf("%.*g", precision, v)` for finite, non-negative-or-negative floats.
pub fn go_fmt_g(v: f64, precision: usize) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let p = precision.max(1);
    // Round to p significant digits first; the exponent is that of the rounded value.
    let sci = format!("{:.*e}", p - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let mant = trim_zeros(mant);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mant}e{sign}{:02}", exp.abs())
    } else {
        // Fixed notation from the already rounded digits (no second
        // float formatting: this runs once per row of every listing).
        let (neg, mant) = match mant.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mant),
        };
        let digits: String = mant.chars().filter(|c| *c != '.').collect();
        let mut out = String::with_capacity(digits.len() + 3);
        if neg {
            out.push('-');
        }
        if exp >= 0 {
            let int_len = exp as usize + 1;
            out.push_str(&digits[..int_len]);
            if digits.len() > int_len {
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
        trim_zeros(&out).to_string()
    }
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// go-units `HumanSizeWithPrecision`: decimal units (kB = 1000) and `%.{precision}g`.
/// docker images/history print sizes with precision 3 (`7.8MB`, `13.3kB`).
pub fn human_size_with_precision(bytes: u64, precision: usize) -> String {
    let (size, unit) = size_and_unit(bytes as f64, 1000.0, &DECIMAL);
    format!("{}{unit}", go_fmt_g(size, precision))
}

/// go-units `HumanSize`: `HumanSizeWithPrecision(size, 4)`, e.g. `7.798MB`.
pub fn human_size(bytes: u64) -> String {
    human_size_with_precision(bytes, 4)
}

/// go-units `BytesSize`: binary units (KiB = 1024) and `%.4g`, e.g. `1.5KiB`.
pub fn bytes_size(bytes: u64) -> String {
    let (size, unit) = size_and_unit(bytes as f64, 1024.0, &BINARY);
    format!("{}{unit}", go_fmt_g(size, 4))
}

/// go-units `HumanDuration`: "Less than a second", "About a minute", "3 hours", "2 weeks", ...
pub fn human_duration(d: Duration) -> String {
    let nanos = d
        .num_nanoseconds()
        .map(|n| n as f64)
        .unwrap_or_else(|| d.num_milliseconds() as f64 * 1e6);
    let secs_f = nanos / 1e9;
    let seconds = secs_f as i64;
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = (secs_f / 60.0) as i64;
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours_f = secs_f / 3600.0;
    let hours = (hours_f + 0.5) as i64;
    if hours == 1 {
        "About an hour".into()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", (hours_f as i64) / 24 / 365)
    }
}

/// docker/cli `CreatedSince`: `HumanDuration(now - created) + " ago"`. Go's zero
/// time (0001-01-01) gives an empty string; a time in the future gives
/// "Less than a second ago"; the Unix epoch is not special ("56 years ago").
pub fn created_since(created: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let go_zero =
        DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z").map(|d| d.with_timezone(&Utc));
    if go_zero.is_ok_and(|z| z == created) {
        return String::new();
    }
    format!("{} ago", human_duration(now - created))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_size_matches_go_units() {
        // go-units size_test.go TestHumanSize / TestHumanSizeWithPrecision
        assert_eq!(human_size(1000), "1kB");
        assert_eq!(human_size(1024), "1.024kB");
        assert_eq!(human_size(1_000_000), "1MB");
        assert_eq!(human_size(1_048_576), "1.049MB");
        assert_eq!(human_size(2 * 1_000_000), "2MB");
        assert_eq!(human_size(3_420_000_000), "3.42GB");
        assert_eq!(human_size(5_372_000_000_000), "5.372TB");
        assert_eq!(human_size(2_224_000_000_000_000), "2.224PB");
        assert_eq!(human_size(7_000_000_000_000_000_000), "7EB");
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(1), "1B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(7_797_760), "7.798MB");
        assert_eq!(human_size(13_256), "13.26kB");
        assert_eq!(human_size_with_precision(7_797_760, 3), "7.8MB");
        assert_eq!(human_size_with_precision(13_256, 3), "13.3kB");
        assert_eq!(human_size_with_precision(187_000_000, 3), "187MB");
        assert_eq!(human_size_with_precision(999_999, 3), "1e+03kB");
        assert_eq!(human_size_with_precision(1_000, 3), "1kB");
        assert_eq!(human_size_with_precision(1_000_000_000_000, 3), "1TB");
        assert_eq!(human_size_with_precision(77_800_000, 3), "77.8MB");
    }

    #[test]
    fn bytes_size_matches_go_units() {
        // go-units size_test.go TestBytesSize
        assert_eq!(bytes_size(1024), "1KiB");
        assert_eq!(bytes_size(1024 * 1024), "1MiB");
        assert_eq!(bytes_size(1_048_576), "1MiB");
        assert_eq!(bytes_size(2 * 1024 * 1024), "2MiB");
        assert_eq!(bytes_size(3_617_587_200), "3.369GiB");
        assert_eq!(bytes_size(5_591_959_000_000), "5.086TiB");
        assert_eq!(bytes_size(2_505_000_000_000_000), "2.225PiB");
        assert_eq!(bytes_size(7 * (1u64 << 60)), "7EiB");
        assert_eq!(bytes_size(0), "0B");
        assert_eq!(bytes_size(1536), "1.5KiB");
    }

    #[test]
    fn go_g_formatting() {
        assert_eq!(go_fmt_g(0.0, 4), "0");
        assert_eq!(go_fmt_g(1.5, 4), "1.5");
        assert_eq!(go_fmt_g(123456.0, 4), "1.235e+05");
        assert_eq!(go_fmt_g(0.00001234, 3), "1.23e-05");
        assert_eq!(go_fmt_g(0.0001234, 3), "0.000123");
        assert_eq!(go_fmt_g(99.95, 3), "100");
    }

    #[test]
    fn human_duration_matches_go_units() {
        // go-units duration_test.go TestHumanDuration
        let s = Duration::seconds;
        let m = Duration::minutes;
        let h = Duration::hours;
        let day = |n: i64| Duration::hours(24 * n);
        let week = |n: i64| Duration::hours(24 * 7 * n);
        assert_eq!(
            human_duration(Duration::milliseconds(450)),
            "Less than a second"
        );
        assert_eq!(human_duration(s(-5)), "Less than a second");
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(15)), "15 seconds");
        assert_eq!(human_duration(s(59)), "59 seconds");
        assert_eq!(human_duration(s(60)), "About a minute");
        assert_eq!(human_duration(m(1)), "About a minute");
        assert_eq!(human_duration(m(3)), "3 minutes");
        assert_eq!(human_duration(m(35)), "35 minutes");
        assert_eq!(human_duration(m(35) + s(40)), "35 minutes");
        assert_eq!(human_duration(h(1)), "About an hour");
        assert_eq!(human_duration(h(1) + m(45)), "2 hours");
        assert_eq!(human_duration(h(3)), "3 hours");
        assert_eq!(human_duration(h(3) + m(59)), "4 hours");
        assert_eq!(human_duration(h(3) + m(60)), "4 hours");
        assert_eq!(human_duration(h(24)), "24 hours");
        assert_eq!(human_duration(h(36)), "36 hours");
        assert_eq!(human_duration(h(48)), "2 days");
        assert_eq!(human_duration(day(7)), "7 days");
        assert_eq!(human_duration(day(13)), "13 days");
        assert_eq!(human_duration(week(2)), "2 weeks");
        assert_eq!(human_duration(week(8)), "8 weeks");
        assert_eq!(human_duration(day(60)), "2 months");
        assert_eq!(human_duration(day(120)), "4 months");
        assert_eq!(human_duration(day(365)), "12 months");
        assert_eq!(human_duration(day(365 * 2)), "2 years");
        assert_eq!(human_duration(day(365 * 3)), "3 years");
        assert_eq!(human_duration(day(365 * 10)), "10 years");
    }

    #[test]
    fn created_since_rules() {
        let now = DateTime::parse_from_rfc3339("2025-06-01T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(created_since(now - Duration::days(14), now), "2 weeks ago");
        assert_eq!(
            created_since(now - Duration::minutes(45), now),
            "45 minutes ago"
        );
        assert_eq!(
            created_since(now + Duration::hours(3), now),
            "Less than a second ago"
        );
        assert_eq!(created_since(DateTime::UNIX_EPOCH, now), "55 years ago");
        let zero = DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(created_since(zero, now), "");
    }
}
