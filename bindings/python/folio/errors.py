"""Status codes of folio.h as a FolioError hierarchy."""

from __future__ import annotations

from . import _lib


class FolioError(Exception):
    """A call into libfolio failed; `status` is the folio_status value, the message is folio_last_error()."""

    status = None

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        if status is not None:
            self.status = status


class InvalidArgumentError(FolioError, ValueError):
    status = _lib.STATUS_INVALID_ARGUMENT


class InvalidHandleError(FolioError):
    status = _lib.STATUS_INVALID_HANDLE


class StructSizeError(FolioError):
    status = _lib.STATUS_STRUCT_SIZE


class InvalidUtf8Error(FolioError, ValueError):
    status = _lib.STATUS_INVALID_UTF8


class TokenOutOfRangeError(FolioError, ValueError):
    status = _lib.STATUS_TOKEN_OUT_OF_RANGE


class BufferTooSmallError(FolioError):
    status = _lib.STATUS_BUFFER_TOO_SMALL


class NotFoundError(FolioError, KeyError):
    status = _lib.STATUS_NOT_FOUND

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class ModelLoadError(FolioError):
    status = _lib.STATUS_MODEL_LOAD


class RequestRejectedError(FolioError):
    status = _lib.STATUS_REQUEST_REJECTED


class InvalidStateError(FolioError):
    status = _lib.STATUS_INVALID_STATE


class UnsupportedError(FolioError):
    status = _lib.STATUS_UNSUPPORTED


class InternalError(FolioError):
    status = _lib.STATUS_INTERNAL


_BY_STATUS = {cls.status: cls for cls in (
    InvalidArgumentError, InvalidHandleError, StructSizeError, InvalidUtf8Error, TokenOutOfRangeError,
    BufferTooSmallError, NotFoundError, ModelLoadError, RequestRejectedError, InvalidStateError, UnsupportedError,
    InternalError)}


def error_for(status: int) -> FolioError:
    message = _lib.lib().folio_last_error().decode("utf-8", "replace")
    cls = _BY_STATUS.get(status, FolioError)
    return cls(message or f"folio status {status}", status)


def check(status: int) -> None:
    if status != _lib.STATUS_OK:
        raise error_for(status)
