//! Where the prompt comes from: the positional argument, stdin until EOF, or both (stdin is then
//! appended as a `<stdin>` block, as the official exec does for `cat log | codex exec "why?"`).

use std::io::Read;

#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("No prompt provided via stdin.")]
    Empty,
    #[error("reading the prompt from stdin: {0}")]
    Read(#[from] std::io::Error),
}

/// The prompt for the turn. `stdin_is_terminal` decides whether stdin is read alongside a
/// positional prompt (a terminal is never read then: nobody would end it).
pub fn resolve(
    positional: Option<String>,
    mut stdin: impl Read,
    stdin_is_terminal: bool,
) -> Result<String, PromptError> {
    match positional {
        Some(prompt) if stdin_is_terminal => Ok(prompt),
        Some(prompt) => {
            let piped = read_all(&mut stdin)?;
            if piped.trim().is_empty() {
                Ok(prompt)
            } else {
                Ok(format!(
                    "{prompt}\n\n<stdin>\n{}\n</stdin>",
                    piped.trim_end()
                ))
            }
        }
        None => {
            let text = read_all(&mut stdin)?;
            if text.trim().is_empty() {
                return Err(PromptError::Empty);
            }
            Ok(text)
        }
    }
}

fn read_all(stdin: &mut impl Read) -> Result<String, PromptError> {
    let mut bytes = Vec::new();
    stdin.read_to_end(&mut bytes)?;
    String::from_utf8(bytes)
        .map_err(|e| PromptError::Read(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdin_is_the_prompt_when_there_is_no_argument() {
        let p = resolve(None, "Fix the bug\n".as_bytes(), false).unwrap();
        assert_eq!(p, "Fix the bug\n");
    }

    #[test]
    fn empty_stdin_is_no_prompt() {
        let e = resolve(None, " \n".as_bytes(), false).unwrap_err();
        assert_eq!(e.to_string(), "No prompt provided via stdin.");
    }

    #[test]
    fn piped_stdin_joins_a_positional_prompt_and_a_terminal_is_left_alone() {
        let p = resolve(Some("Why?".into()), "log line\n".as_bytes(), false).unwrap();
        assert_eq!(p, "Why?\n\n<stdin>\nlog line\n</stdin>");
        let p = resolve(Some("Why?".into()), "".as_bytes(), false).unwrap();
        assert_eq!(p, "Why?");
        let p = resolve(Some("Why?".into()), "unread".as_bytes(), true).unwrap();
        assert_eq!(p, "Why?");
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let e = resolve(None, &[0xff, 0xfe][..], false).unwrap_err();
        assert!(matches!(e, PromptError::Read(_)));
    }
}
