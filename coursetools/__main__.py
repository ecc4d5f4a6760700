"""``python -m coursetools [COMMAND [ARGS...]]``: list the commands, or run one."""

from __future__ import annotations

import importlib
import sys

from coursetools import COMMANDS


def usage() -> str:
    width = max(map(len, COMMANDS))
    rows = [
        f"  {name:<{width}}  {purpose}" + (f"  ({target})" if target else "")
        for name, (target, purpose) in COMMANDS.items()
    ]
    return "\n".join(
        [
            "usage: python -m coursetools COMMAND [ARGS...]   (or python -m coursetools.COMMAND)",
            "",
            "commands:",
            *rows,
            "",
            "python -m coursetools COMMAND --help shows a command's options.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"Unknown command {name!r}.\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"coursetools.{name}")
    sys.argv = [f"python -m coursetools.{name}", *rest]
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
