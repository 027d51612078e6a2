//! The front matter of a `SKILL.md`: the block between a first line `---` and the next `---`.
//! Skills use a small part of YAML there, and this module reads exactly that part: `key: value`
//! scalars (plain, 'single' or "double" quoted, or `|` / `>` blocks) and one level of nested
//! maps (`metadata:` then indented `short-description: …`, read as `metadata.short-description`).
//! Indented content under other keys (lists, deeper maps) is skipped. Anything else is an
//! error naming the line, so a malformed skill is reported instead of half-read.

use std::collections::HashMap;

/// A parsed front matter: scalar values by (dotted) key.
#[derive(Debug, Default)]
pub struct FrontMatter {
    pub values: HashMap<String, String>,
}

pub fn parse(text: &str) -> Result<FrontMatter, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    if lines.next().map(str::trim_end) != Some("---") {
        return Err("missing front matter: the file must start with a `---` line".into());
    }
    let mut block = Vec::new();
    let mut closed = false;
    for line in lines.by_ref() {
        if line.trim_end() == "---" {
            closed = true;
            break;
        }
        block.push(line);
    }
    if !closed {
        return Err("front matter is not closed by a `---` line".into());
    }
    Ok(FrontMatter {
        values: parse_block(&block)?,
    })
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn is_blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

fn parse_block(lines: &[&str]) -> Result<HashMap<String, String>, String> {
    let mut values = HashMap::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if is_blank_or_comment(line) {
            i += 1;
            continue;
        }
        if line.starts_with('\t') {
            return Err(format!("line {}: tabs cannot indent YAML", i + 2));
        }
        if indent_of(line) > 0 {
            return Err(format!("line {}: unexpected indentation", i + 2));
        }
        let (key, rest) = split_key(line).ok_or_else(|| {
            format!(
                "line {}: expected `key: value`, found `{}`",
                i + 2,
                line.trim()
            )
        })?;
        i += 1;
        let nested_end = nested_end(lines, i);
        if rest.is_empty() {
            // A nested map (kept one level deep) or a list/other structure (skipped).
            for (offset, inner) in lines[i..nested_end].iter().enumerate() {
                if is_blank_or_comment(inner) {
                    continue;
                }
                if let Some((k, v)) = split_key(inner.trim_start()) {
                    if !v.is_empty() && !v.starts_with('|') && !v.starts_with('>') {
                        let value =
                            scalar(v).map_err(|e| format!("line {}: {e}", i + offset + 2))?;
                        values.insert(format!("{key}.{k}"), value);
                    }
                }
            }
            i = nested_end;
        } else if let Some(style) = rest.strip_prefix('|').or_else(|| rest.strip_prefix('>')) {
            let folded = rest.starts_with('>');
            let keep_final_newline = !style.contains('-');
            let block: Vec<&str> = lines[i..nested_end].to_vec();
            values.insert(
                key.to_string(),
                block_scalar(&block, folded, keep_final_newline),
            );
            i = nested_end;
        } else {
            if nested_end > i {
                return Err(format!("line {}: unexpected indentation", i + 2));
            }
            let value = scalar(rest).map_err(|e| format!("line {}: {e}", i + 1))?;
            values.insert(key.to_string(), value);
        }
    }
    Ok(values)
}

/// The first line after `start` that is not indented (blank lines belong to the block).
fn nested_end(lines: &[&str], start: usize) -> usize {
    let mut end = start;
    for (j, line) in lines.iter().enumerate().skip(start) {
        if line.trim().is_empty() {
            continue;
        }
        if indent_of(line) == 0 {
            break;
        }
        end = j + 1;
    }
    end
}

fn split_key(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = line.split_once(':')?;
    let key = key.trim();
    if key.is_empty() || key.contains(' ') || key.starts_with('-') {
        return None;
    }
    // `key:value` without a space is a plain scalar in YAML, not a mapping.
    if !rest.is_empty() && !rest.starts_with(' ') {
        return None;
    }
    Some((key, rest.trim()))
}

fn scalar(raw: &str) -> Result<String, String> {
    if let Some(inner) = raw.strip_prefix('\'') {
        let end = inner
            .rfind('\'')
            .ok_or_else(|| "unterminated single-quoted string".to_string())?;
        return Ok(inner[..end].replace("''", "'"));
    }
    if let Some(inner) = raw.strip_prefix('"') {
        return double_quoted(inner);
    }
    // A plain scalar ends at a comment.
    let plain = match raw.find(" #") {
        Some(i) => &raw[..i],
        None => raw,
    };
    Ok(plain.trim().to_string())
}

fn double_quoted(inner: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(out),
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(other) => return Err(format!("unsupported escape `\\{other}`")),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("unterminated double-quoted string".into())
}

/// `|` keeps line breaks; `>` folds lines into spaces (blank lines stay breaks).
fn block_scalar(lines: &[&str], folded: bool, keep_final_newline: bool) -> String {
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    let stripped: Vec<&str> = lines
        .iter()
        .map(|l| if l.len() >= indent { &l[indent..] } else { "" })
        .collect();
    let mut text = if folded {
        let mut out = String::new();
        for (n, line) in stripped.iter().enumerate() {
            if line.is_empty() {
                out.push('\n');
            } else {
                if n > 0 && !out.ends_with('\n') {
                    out.push(' ');
                }
                out.push_str(line);
            }
        }
        out
    } else {
        stripped.join("\n")
    };
    let trimmed_len = text.trim_end_matches('\n').len();
    text.truncate(trimmed_len);
    if keep_final_newline && !text.is_empty() {
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scalars_quotes_blocks_and_one_nested_level() {
        let fm = parse(
            "---\nname: pdf-tools\ndescription: \"Work with \\\"PDF\\\" files\"\n\
             title: 'it''s' # comment\nmetadata:\n  short-description: Short one\n  tags:\n    - a\n\
             long: >-\n  folded\n  text\n---\nBody line\n",
        )
        .unwrap();
        assert_eq!(fm.values["name"], "pdf-tools");
        assert_eq!(fm.values["description"], "Work with \"PDF\" files");
        assert_eq!(fm.values["title"], "it's");
        assert_eq!(fm.values["metadata.short-description"], "Short one");
        assert_eq!(fm.values["long"], "folded text");
    }

    #[test]
    fn malformed_front_matter_names_the_problem() {
        assert!(parse("name: x\n").unwrap_err().contains("must start"));
        assert!(parse("---\nname: x\n").unwrap_err().contains("not closed"));
        assert!(parse("---\njust words\n---\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(parse("---\nname: 'open\n---\n")
            .unwrap_err()
            .contains("unterminated"));
    }
}
