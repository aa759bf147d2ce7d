"""The `nextmodel` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nextmodel", description="NextModel LLM gateway")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start all five services locally on the embedded defaults")
    args = parser.parse_args(argv)
    if args.command == "run":
        from nextmodel_cli import supervisor

        return asyncio.run(supervisor.run())
    return 2


if __name__ == "__main__":
    sys.exit(main())
