"""The `nextmodel` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys

from nextmodel_cli import admin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nextmodel", description="NextModel LLM gateway")
    commands = parser.add_subparsers(dest="group", required=True)
    commands.add_parser("run", help="start all five services locally on the embedded defaults")
    admin.add_commands(commands)
    args = parser.parse_args(argv)
    if args.group == "run":
        from nextmodel_cli import supervisor

        return asyncio.run(supervisor.run())
    return admin.run(args)


if __name__ == "__main__":
    sys.exit(main())
