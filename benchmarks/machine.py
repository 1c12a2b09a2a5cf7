"""What a benchmark prints above its table about where it ran: the CPU and the versions of what
it measured, so a number is never quoted without them."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(name: str, missing: str = "not installed") -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return missing


def publish(text: str, out: Path) -> None:
    """Print the report, and keep it in `out` too unless that is "-"."""
    import sys

    print(text)
    if str(out) != "-":
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
        print(f"written to {out}", file=sys.stderr)
