//! Human-readable formatting shared by the CLI and the window.

/// An error and its causes (its `source()` chain) as one line, each cause once
/// (`a: b: c`; a cause whose text is in the line already is left out).
pub fn one_line(e: &(dyn std::error::Error + '_)) -> String {
    let mut msg = String::new();
    let mut cause = Some(e);
    while let Some(c) = cause {
        let s = c.to_string();
        if !msg.contains(&s) {
            if !msg.is_empty() {
                msg.push_str(": ");
            }
            msg.push_str(&s);
        }
        cause = c.source();
    }
    msg
}

/// Formats a count with thousands separators, e.g. `1,096,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Formats a byte count with binary units, e.g. `0 B`, `1023 B`, `1.5 KiB`, `12.0 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Formats a millisecond Unix timestamp as local date and time, e.g. `2026-11-22 14:03`.
pub fn time_ms(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => "—".to_owned(),
    }
}

/// Formats a duration in ms as `850 ms`, `12.3 s`, `4 min 05 s` or `2 h 03 min`.
pub fn duration_ms(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {:02} s", ms / 60_000, ms / 1000 % 60),
        _ => format!("{} h {:02} min", ms / 3_600_000, ms / 60_000 % 60),
    }
}

/// Parses a size such as `500`, `10k`, `1.5M`, `2GiB` (binary units; `B` optional).
///
/// # Errors
/// A message naming the text.
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{text:?} is not a size (try 500, 10k, 1.5M, 2G)"))?;
    let mult: u64 = match unit
        .trim()
        .to_ascii_lowercase()
        .trim_end_matches("ib")
        .trim_end_matches('b')
    {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(format!("{text:?} has an unknown unit (use k, M, G or T)")),
    };
    let bytes = n * mult as f64;
    // An f64 → u64 cast saturates silently; a size that large is a typo, not 16 EiB.
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!(
            "{text:?} is too large a size (at most about 16 EiB)"
        ));
    }
    Ok(bytes as u64)
}

/// Serialises a path as a string for JSON output. JSON strings are Unicode, so bytes of a
/// non-UTF-8 name are replaced by U+FFFD (the exact bytes stay available through `cairn ls
/// --json`'s `name_bytes`); serialising a `PathBuf` directly would fail on such a name.
///
/// # Errors
/// Those of the serializer.
pub fn lossy_path<S: serde::Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&p.to_string_lossy())
}

/// [`lossy_path`] for an optional path (`null` when absent).
///
/// # Errors
/// Those of the serializer.
pub fn lossy_opt_path<S: serde::Serializer>(
    p: &Option<std::path::PathBuf>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_some(&p.to_string_lossy()),
        None => s.serialize_none(),
    }
}

/// [`lossy_path`] for a list of paths.
///
/// # Errors
/// Those of the serializer.
pub fn lossy_paths<S: serde::Serializer>(
    v: &[std::path::PathBuf],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|p| p.to_string_lossy()))
}

/// [`lossy_path`] for `(text, path)` pairs.
///
/// # Errors
/// Those of the serializer.
pub fn lossy_text_paths<S: serde::Serializer>(
    v: &[(String, std::path::PathBuf)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for (t, p) in v {
        seq.serialize_element(&(t, p.to_string_lossy()))?;
    }
    seq.end()
}

/// [`lossy_path`] for `(path, text)` pairs.
///
/// # Errors
/// Those of the serializer.
pub fn lossy_path_texts<S: serde::Serializer>(
    v: &[(std::path::PathBuf, String)],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(v.len()))?;
    for (p, t) in v {
        seq.serialize_element(&(p.to_string_lossy(), t))?;
    }
    seq.end()
}

/// Name or path bytes for one row of table output, escaped as `ls -b` does: control
/// characters as `\n`, `\t`, `\r` or `\xNN` and the backslash as `\\`, so a newline in a
/// name never splits a row. Other bytes (including UTF-8 and invalid UTF-8) are kept as they
/// are. JSON output is unaffected (it quotes names itself).
pub fn escape_controls(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if !bytes.iter().any(|&b| b < 0x20 || b == 0x7f || b == b'\\') {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 8);
    for &b in bytes {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b if b < 0x20 || b == 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            b => out.push(b),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A path for one row of table output: lossy UTF-8 with [`escape_controls`] applied.
pub fn shown(path: &std::path::Path) -> String {
    String::from_utf8_lossy(&escape_controls(path.as_os_str().as_encoded_bytes())).into_owned()
}

#[cfg(test)]
mod tests {

    #[test]
    fn control_characters_are_escaped_for_tables() {
        assert_eq!(&*escape_controls(b"plain name.txt"), b"plain name.txt");
        assert_eq!(
            &*escape_controls(b"two\nlines\tand\x1b[31m\\"),
            b"two\\nlines\\tand\\x1b[31m\\\\"
        );
        assert_eq!(&*escape_controls(b"caf\xe9"), b"caf\xe9");
        assert_eq!(shown(std::path::Path::new("/a/b\nc")), "/a/b\\nc");
    }

    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_bytes("500").unwrap(), 500);
        assert_eq!(parse_bytes("10k").unwrap(), 10_240);
        assert_eq!(parse_bytes("1.5M").unwrap(), 1_572_864);
        assert_eq!(parse_bytes("2GiB").unwrap(), 2 << 30);
        assert!(parse_bytes("ten").is_err());
        assert!(parse_bytes("3X").is_err());
    }

    #[test]
    fn byte_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(12 * 1024 * 1024), "12.0 MiB");
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms(850), "850 ms");
        assert_eq!(duration_ms(12_300), "12.3 s");
        assert_eq!(duration_ms(245_000), "4 min 05 s");
        assert_eq!(duration_ms(7_380_000), "2 h 03 min");
    }
}
