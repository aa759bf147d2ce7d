"""OpenAI-shaped errors carried over gRPC.

A service raises `GatewayError`; the gRPC layer turns it into a status code plus a
serialized `nextmodel.router.v1.Error` in the trailing metadata key
`nextmodel-error-bin`, which the edge turns back into an HTTP answer.
"""

from __future__ import annotations

import grpc

from nextmodel.common.v1 import common_pb2

ERROR_METADATA_KEY = "nextmodel-error-bin"

_GRPC_CODE_FOR_HTTP = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    401: grpc.StatusCode.UNAUTHENTICATED,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    409: grpc.StatusCode.ALREADY_EXISTS,
    429: grpc.StatusCode.RESOURCE_EXHAUSTED,
    502: grpc.StatusCode.UNAVAILABLE,
    503: grpc.StatusCode.UNAVAILABLE,
    504: grpc.StatusCode.DEADLINE_EXCEEDED,
}

_TYPE_FOR_HTTP = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    429: "rate_limit_error",
}


class GatewayError(Exception):
    """An error the caller should see, in OpenAI's shape."""

    def __init__(
        self,
        http_status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        type: str | None = None,
        retry_after_seconds: int = 0,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.message = message
        self.code = code
        self.param = param
        fallback = "server_error" if http_status >= 500 else "invalid_request_error"
        self.type = type or _TYPE_FOR_HTTP.get(http_status, fallback)
        self.retry_after_seconds = retry_after_seconds

    @property
    def grpc_code(self) -> grpc.StatusCode:
        return _GRPC_CODE_FOR_HTTP.get(self.http_status, grpc.StatusCode.INTERNAL)

    def to_proto(self) -> common_pb2.Error:
        return common_pb2.Error(
            http_status=self.http_status,
            type=self.type,
            code=self.code or "",
            param=self.param or "",
            message=self.message,
            retry_after_seconds=self.retry_after_seconds,
        )

    @classmethod
    def from_proto(cls, error: common_pb2.Error) -> GatewayError:
        return cls(
            error.http_status,
            error.message,
            code=error.code or None,
            param=error.param or None,
            type=error.type or None,
            retry_after_seconds=error.retry_after_seconds,
        )

    def to_openai(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    async def abort(self, context: grpc.aio.ServicerContext) -> None:
        """End the current RPC with this error (raises)."""
        context.set_trailing_metadata(((ERROR_METADATA_KEY, self.to_proto().SerializeToString()),))
        await context.abort(self.grpc_code, self.message)


def from_rpc_error(error: grpc.aio.AioRpcError, service: str) -> GatewayError:
    """Recover the GatewayError a service sent, or describe a transport failure."""
    for key, value in error.trailing_metadata() or ():
        if key == ERROR_METADATA_KEY:
            return GatewayError.from_proto(common_pb2.Error.FromString(value))
    if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
        return GatewayError(504, f"The {service} service did not answer in time. Retry the request.", code="timeout")
    if error.code() == grpc.StatusCode.UNAVAILABLE:
        return GatewayError(
            503, f"The {service} service is unavailable. Retry the request shortly.", code="service_unavailable",
            retry_after_seconds=1,
        )
    return GatewayError(500, f"The {service} service failed ({error.code().name}).", code="internal_error")
