//! `seek_sequence`: find where a run of patch lines occurs in a file.
//!
//! Models often get whitespace or typographic punctuation slightly wrong, so
//! matching is tried with increasing tolerance and the first pass that finds a
//! match wins. Stricter passes run first so an exact match is always preferred.

/// Find `pattern` in `lines` at or after `start`. With `eof`, a match ending at
/// the last line is tried first. Returns the index of the first matched line.
pub fn seek_sequence(
    lines: &[String],
    pattern: &[String],
    start: usize,
    eof: bool,
) -> Option<usize> {
    if pattern.is_empty() {
        return Some(start);
    }
    if pattern.len() > lines.len() {
        return None;
    }
    let last_start = lines.len() - pattern.len();
    let from = if eof { last_start.max(start) } else { start };
    let passes: [fn(&str, &str) -> bool; 4] = [
        |a, b| a == b,
        |a, b| a.trim_end() == b.trim_end(),
        |a, b| a.trim() == b.trim(),
        |a, b| normalise(a.trim()) == normalise(b.trim()),
    ];
    for matches in passes {
        for i in from..=last_start {
            if lines[i..i + pattern.len()]
                .iter()
                .zip(pattern)
                .all(|(l, p)| matches(l, p))
            {
                return Some(i);
            }
        }
    }
    // An end-of-file chunk whose lines are not at the very end may still match
    // earlier in the file; fall back to a normal forward search.
    if eof && from > start {
        return seek_sequence(lines, pattern, start, false);
    }
    None
}

/// Map typographic punctuation and exotic spaces to their ASCII forms.
fn normalise(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' => '"',
            '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exact_then_tolerant_passes() {
        let lines = v(&["a", "b  ", "  c", "d \u{2014} e"]);
        assert_eq!(seek_sequence(&lines, &v(&["b  "]), 0, false), Some(1));
        assert_eq!(seek_sequence(&lines, &v(&["b"]), 0, false), Some(1));
        assert_eq!(seek_sequence(&lines, &v(&["c"]), 0, false), Some(2));
        assert_eq!(seek_sequence(&lines, &v(&["d - e"]), 0, false), Some(3));
        assert_eq!(seek_sequence(&lines, &v(&["zzz"]), 0, false), None);
    }

    #[test]
    fn respects_start_and_eof() {
        let lines = v(&["x", "y", "x"]);
        assert_eq!(seek_sequence(&lines, &v(&["x"]), 1, false), Some(2));
        assert_eq!(seek_sequence(&lines, &v(&["x"]), 0, true), Some(2));
        assert_eq!(seek_sequence(&lines, &v(&["y"]), 0, true), Some(1));
        assert_eq!(seek_sequence(&lines, &v(&[]), 2, false), Some(2));
        assert_eq!(
            seek_sequence(&lines, &v(&["a", "b", "c", "d"]), 0, false),
            None
        );
    }
}
