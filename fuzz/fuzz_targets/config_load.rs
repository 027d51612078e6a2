//! The configuration loader (`codex-config`: `config.toml` plus `-c` overrides, then the typed
//! settings).
//!
//! Input: the text before the first NUL byte is `config.toml`, each line after it one `-c`
//! override. Oracles: no panic; a loaded configuration always resolves its settings (loading
//! validates them), and the provider it names resolves or fails with an error.

#![no_main]

use std::sync::OnceLock;

use codex_config::{parse_overrides, Config};
use libfuzzer_sys::fuzz_target;

fn home() -> &'static tempfile::TempDir {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    HOME.get_or_init(|| {
        let shm = std::path::Path::new("/dev/shm");
        if shm.is_dir() {
            tempfile::tempdir_in(shm)
        } else {
            tempfile::tempdir()
        }
        .expect("temporary CODEX_HOME")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (file, overrides) = text.split_once('\0').unwrap_or((&text, ""));
    let home = home().path();
    std::fs::write(home.join("config.toml"), file).expect("write config.toml");
    let raw: Vec<String> = overrides.lines().map(str::to_string).collect();
    let Ok(overrides) = parse_overrides(&raw) else {
        return;
    };
    let Ok(config) = Config::load_from(home.to_path_buf(), overrides) else {
        return;
    };
    let settings = config
        .settings(&toml::Table::new())
        .expect("a configuration that loaded resolves its settings");
    let _ = settings.provider(&settings.model_provider);
});
