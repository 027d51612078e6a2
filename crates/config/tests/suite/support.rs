//! A temporary CODEX_HOME with the system files pointed inside it, so tests never read
//! `/etc/codex`.

use codex_config::{parse_overrides, Config, ConfigHandle, LoadOptions};
use std::path::{Path, PathBuf};

pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn codex_home(&self) -> PathBuf {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        home
    }

    pub fn user_file(&self) -> PathBuf {
        self.codex_home().join("config.toml")
    }

    pub fn write_user(&self, text: &str) {
        std::fs::write(self.user_file(), text).unwrap();
    }

    pub fn user_text(&self) -> String {
        std::fs::read_to_string(self.user_file()).unwrap()
    }

    pub fn system_file(&self) -> PathBuf {
        self.dir.path().join("etc/config.toml")
    }

    pub fn requirements_file(&self) -> PathBuf {
        self.dir.path().join("etc/requirements.toml")
    }

    pub fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn options(&self, overrides: &[&str]) -> LoadOptions {
        let raw: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
        LoadOptions {
            codex_home: self.codex_home(),
            overrides: parse_overrides(&raw).unwrap(),
            system_config_file: Some(self.system_file()),
            requirements_file: Some(self.requirements_file()),
        }
    }

    pub fn load(&self, overrides: &[&str]) -> Result<Config, codex_config::ConfigError> {
        Config::load_with(self.options(overrides))
    }

    pub fn handle(&self, overrides: &[&str]) -> ConfigHandle {
        ConfigHandle::new(self.load(overrides).unwrap()).unwrap()
    }
}
