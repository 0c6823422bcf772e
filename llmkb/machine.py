"""What machine a benchmark ran on, for its report (RESULTS names the CPU beside every speed figure).

>>> isinstance(cpu_name(), str) and cpu_name() != ""
True
"""

from __future__ import annotations

import platform
from pathlib import Path


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The "model name" of ``/proc/cpuinfo``, else ``platform.processor()``, else "unknown CPU"."""
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
