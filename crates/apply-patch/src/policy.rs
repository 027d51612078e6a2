//! Which paths a patch may write: the writable-root check.
//!
//! Paths are normalised lexically (so `..` cannot climb out) and then the
//! deepest ancestor that exists is canonicalised (so a symlink inside a root
//! that points outside it is followed to its real target before comparing).

use std::io;
use std::path::{Component, Path, PathBuf};

/// Where a patch may write. With `full_access` every path is allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WritePolicy {
    pub writable_roots: Vec<PathBuf>,
    pub full_access: bool,
}

impl WritePolicy {
    /// Allow writes anywhere.
    pub fn full_access() -> Self {
        Self {
            writable_roots: Vec::new(),
            full_access: true,
        }
    }

    /// Allow writes only beneath `roots`.
    pub fn restricted(roots: Vec<PathBuf>) -> Self {
        Self {
            writable_roots: roots,
            full_access: false,
        }
    }

    /// Whether `path` (absolute) may be written.
    pub fn allows(&self, path: &Path) -> io::Result<bool> {
        if self.full_access {
            return Ok(true);
        }
        let real = resolve_real_path(path)?;
        for root in &self.writable_roots {
            let root = resolve_real_path(&normalize(root))?;
            if real.starts_with(&root) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Resolve `rel` against `cwd` and remove `.`/`..` components lexically.
pub(crate) fn absolutize(cwd: &Path, rel: &Path) -> PathBuf {
    if rel.is_absolute() {
        normalize(rel)
    } else {
        normalize(&cwd.join(rel))
    }
}

fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Canonicalise the deepest existing ancestor of `path` and re-append the
/// components that do not exist yet. A dangling symlink on the way is an error
/// (writing through it would create a file wherever it points).
fn resolve_real_path(path: &Path) -> io::Result<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut missing: Vec<std::ffi::OsString> = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(real) => {
                let mut real = real;
                for part in missing.iter().rev() {
                    real.push(part);
                }
                return Ok(real);
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                if existing.symlink_metadata().is_ok() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("{} is a dangling symlink", existing.display()),
                    ));
                }
                match (
                    existing.file_name().map(|n| n.to_os_string()),
                    existing.parent(),
                ) {
                    (Some(name), Some(parent)) => {
                        missing.push(name);
                        existing = parent.to_path_buf();
                    }
                    _ => return Err(err),
                }
            }
            Err(err) => return Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_dot_dot() {
        assert_eq!(
            absolutize(Path::new("/a/b"), Path::new("../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(
            absolutize(Path::new("/a"), Path::new("/x/../y")),
            PathBuf::from("/y")
        );
    }

    #[test]
    fn roots_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        let policy = WritePolicy::restricted(vec![root.clone()]);
        assert!(policy.allows(&root.join("new/dir/file")).unwrap());
        assert!(!policy.allows(&outside.join("f")).unwrap());
        assert!(!policy.allows(&root.join("link/f")).unwrap());
        assert!(WritePolicy::full_access()
            .allows(&outside.join("f"))
            .unwrap());
    }
}
