"""Launch configuration: `CodexConfig`, binary discovery, argv and environment.

Discovery order (first hit wins): `CodexConfig.codex_bin`, `$CODEX_BIN`, a
binary bundled in the package (`openai_codex/bin/codex`, present in the
platform wheel `scripts/build-wheels` builds), the `codex_cli_bin` package when
installed (the runtime wheel the official SDK uses), the repository's own cargo
build when running from a checkout (`target/release`, then `target/debug`), then
`codex` on `PATH`.
"""

from __future__ import annotations

import importlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ._version import __version__
from .errors import CodexBinaryNotFoundError

_PACKAGE_DIR = Path(__file__).resolve().parent
_EXE = "codex.exe" if os.name == "nt" else "codex"


@dataclass(slots=True)
class CodexConfig:
    """How to launch and identify the local `codex app-server` process.

    `config_overrides` are `key=value` strings passed as `--config` flags
    (values parsed as TOML by the server). `launch_args_override` replaces the
    whole argv. `env` is merged over the current environment.
    """

    codex_bin: str | None = None
    launch_args_override: tuple[str, ...] | None = None
    config_overrides: tuple[str, ...] = ()
    cwd: str | None = None
    env: dict[str, str] | None = None
    client_name: str = "codex_python_sdk"
    client_title: str = "Codex Python SDK"
    client_version: str = __version__
    experimental_api: bool = True


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _checkout_root(start: Path) -> Path | None:
    """Nearest ancestor holding a Cargo.toml (the Rust workspace of a checkout)."""
    for directory in (start, *start.parents):
        if (directory / "Cargo.toml").is_file():
            return directory
    return None


def _cli_bin_package_path() -> Path | None:
    """`codex_cli_bin.bundled_codex_path()` when that package is installed."""
    try:
        package = importlib.import_module("codex_cli_bin")
        return Path(package.bundled_codex_path())
    except (ImportError, OSError, AttributeError):
        return None


def find_codex_bin(
    codex_bin: str | None,
    env: dict[str, str],
    *,
    package_dir: Path | None = None,
) -> Path:
    """Return the first usable binary; raise `CodexBinaryNotFoundError` listing all tries."""
    tried: list[str] = []
    if codex_bin is not None:
        path = Path(codex_bin)
        if _is_executable(path):
            return path
        # An explicit choice that does not exist is a configuration error; falling
        # back to another binary would hide it.
        raise CodexBinaryNotFoundError([f"CodexConfig.codex_bin: {path} (not an executable file)"])

    from_env = env.get("CODEX_BIN")
    if from_env:
        path = Path(from_env)
        if _is_executable(path):
            return path
        tried.append(f"$CODEX_BIN: {path} (not an executable file)")
    else:
        tried.append("$CODEX_BIN (not set)")

    pkg = package_dir if package_dir is not None else _PACKAGE_DIR
    bundled = pkg / "bin" / _EXE
    if _is_executable(bundled):
        return bundled
    tried.append(f"bundled binary: {bundled}")

    from_package = _cli_bin_package_path()
    if from_package is not None and _is_executable(from_package):
        return from_package
    tried.append(
        "codex_cli_bin package (not installed)"
        if from_package is None
        else f"codex_cli_bin package: {from_package}"
    )

    root = _checkout_root(pkg)
    if root is None:
        tried.append(f"repository build: no Cargo.toml above {pkg}")
    else:
        for profile in ("release", "debug"):
            built = root / "target" / profile / _EXE
            if _is_executable(built):
                return built
            tried.append(f"repository build: {built}")

    on_path = shutil.which(_EXE, path=env.get("PATH", ""))
    if on_path is not None:
        return Path(on_path)
    tried.append(f"{_EXE} on PATH")
    raise CodexBinaryNotFoundError(tried)


def child_env(config: CodexConfig) -> dict[str, str]:
    """Environment for the server: ours plus `config.env`."""
    env = dict(os.environ)
    if config.env:
        env.update(config.env)
    return env


def launch_argv(config: CodexConfig, env: dict[str, str]) -> list[str]:
    """Full argv: `[bin, (--config kv)*, app-server, --listen, stdio://]`."""
    if config.launch_args_override is not None:
        return list(config.launch_args_override)
    argv = [str(find_codex_bin(config.codex_bin, env))]
    for override in config.config_overrides:
        argv += ["--config", override]
    argv += ["app-server", "--listen", "stdio://"]
    return argv
