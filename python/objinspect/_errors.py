"""objinspect's exceptions: one class per libinspect error code (include/libinspect/errors.h)."""
import enum


class Code(enum.IntEnum):
    """enum ins_code: what kind of failure an error is (the CLI's exit statuses)."""
    OK = 0
    FAIL = 1          # generic failure
    USAGE = 2         # bad arguments
    INPUT = 3         # unreadable, empty, truncated or non-ELF input
    NOT_PYTHON = 4    # no CPython interpreter in the image
    UNSUPPORTED = 5   # a CPython we have no layout for
    NOT_FOUND = 6     # unknown type name, address that is not an object
    CORRUPT = 7       # the heap or the interpreter state does not hold together
    MISMATCH = 8      # executable or library differs from the one in the image
    OS = 9            # a system call failed (ptrace, open, ...)
    NOMEM = 10        # out of memory


class Error(Exception):
    """A libinspect error: .code (a Code, or the int libinspect gave when it is no known code)
    and .message, the library's one-line message (also str(error))."""
    default_code = Code.FAIL

    def __init__(self, code=None, message=""):
        if code is None:
            code = self.default_code
        try:
            code = Code(code)
        except ValueError:
            pass
        Exception.__init__(self, message)
        self.code = code
        self.message = message

    def __str__(self):
        return self.message

    def __repr__(self):
        return "%s(%s, %r)" % (type(self).__name__, getattr(self.code, "name", self.code), self.message)


class UsageError(Error, ValueError):
    """Bad arguments (Code.USAGE); also a closed heap."""
    default_code = Code.USAGE


class InputError(Error):
    """Unreadable, empty, truncated or non-ELF input (Code.INPUT)."""
    default_code = Code.INPUT


class NotPythonError(Error):
    """No CPython interpreter in the image (Code.NOT_PYTHON)."""
    default_code = Code.NOT_PYTHON


class UnsupportedError(Error):
    """A CPython libinspect has no layout for (Code.UNSUPPORTED)."""
    default_code = Code.UNSUPPORTED


class NotFoundError(Error, ValueError):
    """An unknown type name, an address that is not an object (Code.NOT_FOUND)."""
    default_code = Code.NOT_FOUND


class CorruptError(Error):
    """The heap or the interpreter state does not hold together (Code.CORRUPT)."""
    default_code = Code.CORRUPT


class MismatchError(Error):
    """The executable or a library differs from the one in the image (Code.MISMATCH)."""
    default_code = Code.MISMATCH


class SystemCallError(Error):
    """A system call failed: ptrace, open, ... (Code.OS)."""
    default_code = Code.OS


class OutOfMemoryError(Error, MemoryError):
    """libinspect ran out of memory (Code.NOMEM); it never gives a silently partial answer."""
    default_code = Code.NOMEM


class LibraryError(Error):
    """libinspect itself cannot be found or loaded, or does not export the API (Code.FAIL)."""


_BY_CODE = {
    Code.USAGE: UsageError, Code.INPUT: InputError, Code.NOT_PYTHON: NotPythonError,
    Code.UNSUPPORTED: UnsupportedError, Code.NOT_FOUND: NotFoundError, Code.CORRUPT: CorruptError,
    Code.MISMATCH: MismatchError, Code.OS: SystemCallError, Code.NOMEM: OutOfMemoryError,
}


def error_for(code, message):
    """The exception for a libinspect error code and message."""
    return _BY_CODE.get(code, Error)(code, message)
