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
    bench = commands.add_parser("bench", help="benchmarks a team runs on its own traffic").add_subparsers(
        dest="action", required=True)
    from nextmodel_cachesafety import cli as cachesafety

    cachesafety.add_arguments(bench.add_parser(
        "cachesafety", help="measure whether cache reuse is safe on a workload before turning the cache on"))
    args = parser.parse_args(argv)
    if args.group == "run":
        from nextmodel_cli import supervisor

        return asyncio.run(supervisor.run())
    if args.group == "bench":
        return cachesafety.run(args)
    return admin.run(args)


if __name__ == "__main__":
    sys.exit(main())
