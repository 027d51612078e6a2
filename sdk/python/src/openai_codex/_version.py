"""Package version; also sent as `clientInfo.version` in `initialize`."""

__version__ = "0.163.0"
