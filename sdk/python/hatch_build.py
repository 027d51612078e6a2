"""Hatch build hook that puts a prebuilt `codex` binary into a wheel.

Used by this SDK (`openai_codex/bin/codex`, found before PATH) and by the
`openai-codex-cli-bin` wheel in `codex-cli-bin/` (`codex_cli_bin/bin/codex`).
`scripts/build-wheels` sets `CODEX_WHEEL_BINARY` to the binary cargo built; with
it the wheel becomes a platform wheel tagged for this machine (`linux_x86_64`:
the binary links the build machine's libc, so no manylinux claim is made).
Without it (editable installs, plain `pip install sdk/python`) the SDK wheel
stays pure Python; the cli-bin wheel refuses to build, as it would be empty.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CodexBinaryHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        package = self.config["package"]
        binary = os.environ.get("CODEX_WHEEL_BINARY")
        if not binary:
            if self.config.get("require-binary"):
                raise RuntimeError(f"{package}: set CODEX_WHEEL_BINARY (see scripts/build-wheels)")
            return
        path = Path(binary).resolve()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise RuntimeError(f"CODEX_WHEEL_BINARY is not an executable file: {path}")
        build_data["force_include"][str(path)] = f"{package}/bin/codex"
        build_data["pure_python"] = False
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["tag"] = f"py3-none-{platform}"
