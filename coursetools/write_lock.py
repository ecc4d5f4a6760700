"""Rewrite requirements.lock from the packages installed in .venv (run via `make lock`).

TensorFlow is written as a pair of environment-marker lines so Linux x86_64 gets the CPU
wheel and every other platform the full wheel; POSIX-only packages get their markers back.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from coursetools.paths import repo_root

ROOT = repo_root()

LOCK = ROOT / "requirements.lock"
SELF = "why-is-my-mnist-model-wrong"
MARKERS = {
    "pexpect": 'sys_platform != "win32"',
    "ptyprocess": 'sys_platform != "win32"',
}


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog=f"python -m {__spec__.name}", description=__doc__.split("\n\n")[0]
    ).parse_args(argv)
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    header = [line for line in LOCK.read_text().splitlines() if line.startswith("#")]
    body = []
    for line in frozen:
        if "==" not in line or line.lower().startswith((SELF, "pip==", "wheel==")):
            continue
        name, version = line.split("==", 1)
        key = name.lower().replace("_", "-")
        if key in ("tensorflow-cpu", "tensorflow"):
            body.append(
                f'tensorflow-cpu=={version} ; sys_platform == "linux" and '
                'platform_machine == "x86_64"'
            )
            body.append(
                f'tensorflow=={version} ; sys_platform != "linux" or platform_machine != "x86_64"'
            )
        elif key in MARKERS:
            body.append(f"{line} ; {MARKERS[key]}")
        else:
            body.append(line)
    LOCK.write_text("\n".join(header) + "\n" + "\n".join(sorted(set(body), key=str.lower)) + "\n")
    print(f"Wrote {len(body)} pins to {LOCK.name}; review `git diff {LOCK.name}`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
