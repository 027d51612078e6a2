//! Lenient parser for the patch text format (`*** Begin Patch` … `*** End Patch`).
//!
//! Leniency matches what models actually emit: surrounding whitespace is
//! ignored, hunk headers are compared after trimming, a `<<'EOF'` … `EOF`
//! heredoc wrapper around the patch is tolerated, and the first chunk of an
//! update may omit its `@@` marker.

use std::path::PathBuf;

const BEGIN_PATCH: &str = "*** Begin Patch";
const END_PATCH: &str = "*** End Patch";
const ADD_FILE: &str = "*** Add File: ";
const DELETE_FILE: &str = "*** Delete File: ";
const UPDATE_FILE: &str = "*** Update File: ";
const MOVE_TO: &str = "*** Move to: ";
const END_OF_FILE: &str = "*** End of File";
const CONTEXT_MARKER: &str = "@@";
const CONTEXT_MARKER_WITH_TEXT: &str = "@@ ";

/// A parsed patch: an ordered list of file operations.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Patch {
    pub hunks: Vec<Hunk>,
}

/// One file operation. Paths are as written in the patch (usually relative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hunk {
    AddFile {
        path: PathBuf,
        contents: String,
    },
    DeleteFile {
        path: PathBuf,
    },
    UpdateFile {
        path: PathBuf,
        move_path: Option<PathBuf>,
        chunks: Vec<UpdateChunk>,
    },
}

impl Hunk {
    /// The path the hunk reads from (the source for moves).
    pub fn path(&self) -> &PathBuf {
        match self {
            Hunk::AddFile { path, .. }
            | Hunk::DeleteFile { path }
            | Hunk::UpdateFile { path, .. } => path,
        }
    }
}

/// One `@@` section of an update hunk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateChunk {
    /// Text after `@@ `, used to locate the chunk before matching `old_lines`.
    pub change_context: Option<String>,
    pub old_lines: Vec<String>,
    pub new_lines: Vec<String>,
    /// Set by `*** End of File`: `old_lines` should match at the end of the file.
    pub is_end_of_file: bool,
}

/// Why a patch text could not be parsed. `Display` is the model-visible text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("invalid patch: {0}")]
    InvalidPatch(String),
    #[error("invalid hunk at line {line_number}, {message}")]
    InvalidHunk { message: String, line_number: usize },
}

/// Parse a patch. Line numbers in errors are 1-based within the trimmed text.
pub fn parse_patch(text: &str) -> Result<Patch, ParseError> {
    let lines: Vec<&str> = text.trim().lines().collect();
    let (body, first_line_number) = strip_boundaries(&lines)?;
    let mut hunks = Vec::new();
    let mut index = 0;
    while index < body.len() {
        if body[index].trim().is_empty() {
            index += 1;
            continue;
        }
        let (hunk, consumed) = parse_hunk(&body[index..], first_line_number + index)?;
        hunks.push(hunk);
        index += consumed;
    }
    Ok(Patch { hunks })
}

/// Check the begin/end markers (after an optional heredoc wrapper) and return
/// the lines between them with the 1-based line number of the first of them.
fn strip_boundaries<'a>(lines: &'a [&'a str]) -> Result<(&'a [&'a str], usize), ParseError> {
    match check_markers(lines) {
        Ok(body) => Ok((body, 2)),
        Err(err) => {
            let wrapped = lines.len() >= 4
                && matches!(lines[0].trim(), "<<EOF" | "<<'EOF'" | "<<\"EOF\"")
                && lines[lines.len() - 1].trim_end().ends_with("EOF");
            if wrapped {
                check_markers(&lines[1..lines.len() - 1]).map(|body| (body, 3))
            } else {
                Err(err)
            }
        }
    }
}

fn check_markers<'a>(lines: &'a [&'a str]) -> Result<&'a [&'a str], ParseError> {
    let first = lines.first().map(|l| l.trim());
    let last = lines.last().map(|l| l.trim());
    if first != Some(BEGIN_PATCH) {
        return Err(ParseError::InvalidPatch(
            "The first line of the patch must be '*** Begin Patch'".to_string(),
        ));
    }
    if lines.len() < 2 || last != Some(END_PATCH) {
        return Err(ParseError::InvalidPatch(
            "The last line of the patch must be '*** End Patch'".to_string(),
        ));
    }
    Ok(&lines[1..lines.len() - 1])
}

/// Parse one hunk starting at `lines[0]`; returns it and the lines consumed.
fn parse_hunk(lines: &[&str], line_number: usize) -> Result<(Hunk, usize), ParseError> {
    let header = lines[0].trim();
    if let Some(path) = header.strip_prefix(ADD_FILE) {
        let mut contents = String::new();
        let mut consumed = 1;
        for line in &lines[1..] {
            match line.strip_prefix('+') {
                Some(rest) => {
                    contents.push_str(rest);
                    contents.push('\n');
                    consumed += 1;
                }
                None => break,
            }
        }
        let hunk = Hunk::AddFile {
            path: PathBuf::from(path),
            contents,
        };
        return Ok((hunk, consumed));
    }
    if let Some(path) = header.strip_prefix(DELETE_FILE) {
        return Ok((
            Hunk::DeleteFile {
                path: PathBuf::from(path),
            },
            1,
        ));
    }
    if let Some(path) = header.strip_prefix(UPDATE_FILE) {
        return parse_update(path, lines, line_number);
    }
    Err(ParseError::InvalidHunk {
        message: format!(
            "'{header}' is not a valid hunk header. Valid hunk headers: '*** Add File: {{path}}', '*** Delete File: {{path}}', '*** Update File: {{path}}'"
        ),
        line_number,
    })
}

fn parse_update(
    path: &str,
    lines: &[&str],
    line_number: usize,
) -> Result<(Hunk, usize), ParseError> {
    let mut consumed = 1;
    let move_path = lines
        .get(1)
        .and_then(|l| l.trim().strip_prefix(MOVE_TO))
        .map(PathBuf::from);
    if move_path.is_some() {
        consumed += 1;
    }
    let mut chunks = Vec::new();
    while consumed < lines.len() {
        let line = lines[consumed];
        if line.trim().is_empty() {
            // Blank lines between chunks carry no meaning.
            consumed += 1;
            continue;
        }
        if line.starts_with('*') {
            break;
        }
        let (chunk, used) = parse_chunk(
            &lines[consumed..],
            line_number + consumed,
            chunks.is_empty(),
        )?;
        chunks.push(chunk);
        consumed += used;
    }
    if chunks.is_empty() {
        return Err(ParseError::InvalidHunk {
            message: format!("Update file hunk for path '{path}' is empty"),
            line_number,
        });
    }
    let hunk = Hunk::UpdateFile {
        path: PathBuf::from(path),
        move_path,
        chunks,
    };
    Ok((hunk, consumed))
}

fn parse_chunk(
    lines: &[&str],
    line_number: usize,
    allow_missing_context: bool,
) -> Result<(UpdateChunk, usize), ParseError> {
    let first = lines[0];
    let (change_context, start) = if first.trim_end() == CONTEXT_MARKER {
        (None, 1)
    } else if let Some(ctx) = first.strip_prefix(CONTEXT_MARKER_WITH_TEXT) {
        (Some(ctx.to_string()), 1)
    } else if allow_missing_context {
        (None, 0)
    } else {
        return Err(ParseError::InvalidHunk {
            message: format!(
                "Expected update hunk to start with a @@ context marker, got: '{first}'"
            ),
            line_number,
        });
    };
    if start >= lines.len() {
        return Err(ParseError::InvalidHunk {
            message: "Update hunk does not contain any lines".to_string(),
            line_number,
        });
    }
    let mut chunk = UpdateChunk {
        change_context,
        ..UpdateChunk::default()
    };
    let mut parsed = 0;
    for line in &lines[start..] {
        if line.trim() == END_OF_FILE {
            if parsed == 0 {
                return Err(ParseError::InvalidHunk {
                    message: "Update hunk does not contain any lines".to_string(),
                    line_number: line_number + start,
                });
            }
            chunk.is_end_of_file = true;
            parsed += 1;
            break;
        }
        match line.chars().next() {
            None => {
                chunk.old_lines.push(String::new());
                chunk.new_lines.push(String::new());
            }
            Some(' ') => {
                chunk.old_lines.push(line[1..].to_string());
                chunk.new_lines.push(line[1..].to_string());
            }
            Some('+') => chunk.new_lines.push(line[1..].to_string()),
            Some('-') => chunk.old_lines.push(line[1..].to_string()),
            Some(_) if parsed == 0 => {
                return Err(ParseError::InvalidHunk {
                    message: format!(
                        "Unexpected line found in update hunk: '{line}'. Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)"
                    ),
                    line_number: line_number + start,
                });
            }
            // A non-prefixed line (next `@@`, next header) ends this chunk.
            Some(_) => break,
        }
        parsed += 1;
    }
    Ok((chunk, start + parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_hunk_kinds() {
        let patch = parse_patch(
            "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** Delete File: b.txt\n*** Update File: c.txt\n*** Move to: d.txt\n@@ fn main\n-old\n+new\n ctx\n*** End of File\n*** End Patch\n",
        )
        .unwrap();
        assert_eq!(patch.hunks.len(), 3);
        assert_eq!(
            patch.hunks[0],
            Hunk::AddFile {
                path: "a.txt".into(),
                contents: "hi\n".into()
            }
        );
        assert_eq!(
            patch.hunks[1],
            Hunk::DeleteFile {
                path: "b.txt".into()
            }
        );
        assert_eq!(
            patch.hunks[2],
            Hunk::UpdateFile {
                path: "c.txt".into(),
                move_path: Some("d.txt".into()),
                chunks: vec![UpdateChunk {
                    change_context: Some("fn main".into()),
                    old_lines: vec!["old".into(), "ctx".into()],
                    new_lines: vec!["new".into(), "ctx".into()],
                    is_end_of_file: true,
                }],
            }
        );
    }

    #[test]
    fn first_chunk_may_omit_marker_but_later_ones_may_not() {
        let ok =
            parse_patch("*** Begin Patch\n*** Update File: f\n-a\n+b\n@@\n-c\n+d\n*** End Patch")
                .unwrap();
        match &ok.hunks[0] {
            Hunk::UpdateFile { chunks, .. } => assert_eq!(chunks.len(), 2),
            other => panic!("unexpected {other:?}"),
        }
        let err =
            parse_patch("*** Begin Patch\n*** Update File: f\n@@\n-a\n*** End Patch\n").unwrap();
        assert_eq!(err.hunks.len(), 1);
    }

    #[test]
    fn boundary_errors() {
        assert_eq!(
            parse_patch("hello\n*** End Patch").unwrap_err().to_string(),
            "invalid patch: The first line of the patch must be '*** Begin Patch'"
        );
        assert_eq!(
            parse_patch("*** Begin Patch\n*** Add File: a\n+x")
                .unwrap_err()
                .to_string(),
            "invalid patch: The last line of the patch must be '*** End Patch'"
        );
    }

    #[test]
    fn heredoc_wrapper_is_tolerated() {
        for opener in ["<<EOF", "<<'EOF'", "<<\"EOF\""] {
            let text =
                format!("{opener}\n*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\nEOF\n");
            let patch = parse_patch(&text).unwrap();
            assert_eq!(patch.hunks.len(), 1, "{opener}");
        }
    }

    #[test]
    fn hunk_errors_carry_line_numbers() {
        assert_eq!(
            parse_patch("*** Begin Patch\n*** Add File: a\n+x\n*** Frobnicate: b\n*** End Patch").unwrap_err().to_string(),
            "invalid hunk at line 4, '*** Frobnicate: b' is not a valid hunk header. Valid hunk headers: '*** Add File: {path}', '*** Delete File: {path}', '*** Update File: {path}'"
        );
        assert_eq!(
            parse_patch("*** Begin Patch\n*** Update File: x.rs\n*** End Patch")
                .unwrap_err()
                .to_string(),
            "invalid hunk at line 2, Update file hunk for path 'x.rs' is empty"
        );
        assert_eq!(
            parse_patch("*** Begin Patch\n*** Update File: x.rs\nbogus\n*** End Patch").unwrap_err().to_string(),
            "invalid hunk at line 3, Unexpected line found in update hunk: 'bogus'. Every line should start with ' ' (context line), '+' (added line), or '-' (removed line)"
        );
        assert_eq!(
            parse_patch("*** Begin Patch\n*** Update File: x.rs\n-a\n+b\n@@\n*** End Patch")
                .unwrap_err()
                .to_string(),
            "invalid hunk at line 5, Update hunk does not contain any lines"
        );
    }

    #[test]
    fn empty_patch_parses() {
        assert_eq!(
            parse_patch("*** Begin Patch\n*** End Patch")
                .unwrap()
                .hunks
                .len(),
            0
        );
    }
}
