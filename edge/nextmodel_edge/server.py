"""edge entry point: `python -m nextmodel_edge.server` (uvicorn on uvloop + httptools)."""

from __future__ import annotations

import uvicorn

from nextmodel_common import telemetry
from nextmodel_edge.app import create_app
from nextmodel_edge.config import get_settings


def main() -> None:
    settings = get_settings()
    telemetry.setup_logging("edge", settings.log_level)
    telemetry.setup_telemetry("edge")
    config = uvicorn.Config(
        create_app(settings),
        host=settings.bind_host,
        port=settings.edge_port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
