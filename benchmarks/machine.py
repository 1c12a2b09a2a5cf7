"""What a benchmark prints above its table about where it ran: the CPU and the versions of what
it measured, so a number is never quoted without them."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _cpuinfo_field(name: str) -> str | None:
    """The first value of `name` in /proc/cpuinfo (None where it cannot be read)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The CPU's name, with its family and model numbers: these hosts all call themselves "AMD
    EPYC", yet family 25 model 17 (Zen 4) embeds in bf16 at about two thirds of the speed of the
    host with avx_vnni measured on 2026-12-02/03 (by that flag a newer core)."""
    name = _cpuinfo_field("model name") or platform.processor() or platform.machine()
    family, model = _cpuinfo_field("cpu family"), _cpuinfo_field("model")
    return f"{name} (family {family}, model {model})" if family and model else name


# The CPU features that pick the embedding path: with avx512_bf16 (or AMX) OpenVINO computes in
# bf16; on a host with AVX2 only it falls back to f32 at about a third of the speed, so two runs
# of one benchmark on these machines compare only when these flags match.
FAST_PATH_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")


def cpu_flags() -> list[str]:
    """Which of FAST_PATH_FLAGS this CPU has (empty where /proc/cpuinfo cannot be read)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                held = set(line.split(":", 1)[1].split())
                return [flag for flag in FAST_PATH_FLAGS if flag in held]
    except OSError:
        pass
    return []


def cpu_line() -> str:
    """One line naming the CPU and its fast-path flags, for the top of a benchmark's table."""
    import os

    return f"CPU: {cpu_model()}, {os.cpu_count()} cores; flags: {' '.join(cpu_flags()) or 'none of ' + ' '.join(FAST_PATH_FLAGS)}"


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
