"""edge entry point: `python -m nextmodel_edge.server` (uvicorn on uvloop + httptools)."""

from __future__ import annotations

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from nextmodel_common import telemetry
from nextmodel_edge.app import create_app
from nextmodel_edge.config import get_settings
from nextmodel_edge.middleware import headers_too_large_body

# How long a refused connection keeps reading (and discarding) before it closes, so the client
# reads the 431 instead of a reset.
LINGER_SECONDS = 2.0
# Bytes past the limit an unfinished head may reach before it is cut off; a finished head is
# measured exactly by the middleware, so a head near the limit gets the same answer either way.
HEAD_SLACK_BYTES = 4096


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on the request head.

    uvicorn with httptools accepts a request line and headers of any size and keeps them in
    memory until the head ends. This answers 431 and closes once an unfinished head passes the
    limit, so a client cannot grow one without end. (A finished head is checked by the middleware.)
    """

    max_header_bytes = 16 * 1024

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False
        self._head_bytes = 0
        self._refused = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: read and drop what the client is still sending
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes + HEAD_SLACK_BYTES:
                self._refuse()

    def _refuse(self) -> None:
        self._refused = True
        body = headers_too_large_body(self.max_header_bytes)
        head = [STATUS_LINE[431]]
        for name, value in self.server_state.default_headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: application/json\r\ncontent-length: ", str(len(body)).encode(),
                 b"\r\nconnection: close\r\n\r\n", body]
        self.transport.write(b"".join(head))
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)


def guarded_protocol(max_header_bytes: int) -> type[GuardedHttpToolsProtocol]:
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"max_header_bytes": max_header_bytes})


def main() -> None:
    settings = get_settings()
    telemetry.setup_logging("edge", settings.log_level)
    telemetry.setup_telemetry("edge")
    config = uvicorn.Config(
        create_app(settings),
        host=settings.bind_host,
        port=settings.edge_port,
        loop="uvloop",
        http=guarded_protocol(settings.max_header_bytes),
        # X-Forwarded-For only from the listed proxies; with none listed it is not read at all.
        proxy_headers=bool(settings.edge_forwarded_allow_ips.strip()),
        forwarded_allow_ips=settings.edge_forwarded_allow_ips.strip() or None,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
