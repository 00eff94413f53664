"""Typed errors. Each carries the exit code the CLI maps it to; API callers get the exception."""

from __future__ import annotations

import errno
from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    """Process exit codes of the `retrodig` command (documented in the README)."""

    ok = 0
    internal_error = 1  # a bug: please report it
    usage = 2  # bad arguments or options, unknown document id
    missing_dependency = 3  # Tesseract, a language pack or a helper program is missing
    partial = 4  # some inputs failed, the rest landed in the archive
    bad_input = 5  # nothing could be processed: every input was refused or failed
    integrity = 6  # `verify` found masters whose checksum changed or that are missing; an archive file is damaged
    archive_unavailable = 7  # archive folder not writable, busy with another ingest, or its disk full
    interrupted = 130
    terminated = 143  # stopped by SIGTERM (a shutdown, `docker stop`, a service manager), as a shell reports it
    output_closed = 141  # the reader of the output stopped reading (`| head`), as a shell reports SIGPIPE


def validation_problems(error) -> str:
    """A pydantic ValidationError's complaints, one per field, as `where: what` (without pydantic's own labels and
    its links to its documentation), for the message of a UsageError naming the file."""
    return "; ".join(f"{'.'.join(str(part) for part in problem['loc']) or '(top level)'}: "
                     f"{problem['msg'].removeprefix('Value error, ')}" for problem in error.errors())


class StopRequested(KeyboardInterrupt):
    """SIGTERM, which a shutdown, `docker stop` or a service manager sends: the command stops as on Ctrl-C, what
    was done kept and said (it was killed on the spot: the documents it had archived were not yet searchable)."""


class RetrodigError(Exception):
    """Base of every error retrodig raises on purpose."""

    exit_code: ExitCode = ExitCode.internal_error


class UsageError(RetrodigError):
    exit_code = ExitCode.usage
    template: str | None = None  # the message with %(name)s places, for a reader in another language (the portal)
    values: dict = {}

    @classmethod
    def said(cls, template: str, **values) -> UsageError:
        """The error saying `template` % `values`; the portal shows `template` translated, filled with them."""
        error = cls(template % values)
        error.template, error.values = template, values
        return error


class InvalidOptionError(UsageError):
    """An option (or a setting of the archive's retrodig.yaml) given a value it cannot take: `field` is its
    dotted name ("jobs", "search.url"), `reason` what is wrong, `value` what was given."""

    def __init__(self, field: str, reason: str, value=None):
        self.field, self.reason, self.value = field, reason, value
        super().__init__(f"option {field}: {reason}")


class MissingDependencyError(RetrodigError):
    exit_code = ExitCode.missing_dependency


class ClusterUnavailableError(MissingDependencyError):
    """`--cluster` names a Dask scheduler that cannot be reached, or the `distributed` package is missing."""


class ArchiveError(RetrodigError):
    exit_code = ExitCode.archive_unavailable


class ArchiveBusyError(ArchiveError):
    pass


class IndexToRebuildError(ArchiveError):
    """The search index cannot answer until it is rebuilt (`retrodig reindex`, or the next ingest): lost beside the
    documents, damaged, written by another version of retrodig, or left for another index by the archive's
    ingests. Its message says which; the portal tells its readers, in their language, to have it rebuilt."""


class ArchiveFullError(ArchiveError):
    """The disk holding the archive is full (or its quota is used up). A batch stops there: every page after
    would fail the same way. What was finished stays archived; the same command resumes once there is space."""

    def __init__(self, where: str):
        self.where = where
        super().__init__(f"no space left on the disk writing {where}: free some space and run the same command "
                         "again (finished documents are kept)")

    def __reduce__(self):  # from a worker process: rebuilt from `where`, not from the whole message
        return (type(self), (self.where,))


def is_disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


def disk_full_error(error: OSError) -> ArchiveFullError:
    return ArchiveFullError(str(error.filename) if error.filename else "the archive")


def unwritable_error(error: BaseException, archive_root: Path | str) -> ArchiveError | None:
    """The archive's error for a write into it that its permissions or a read-only disk refused (None: `error` is
    no such refusal, or not of a file in the archive)."""
    if not isinstance(error, OSError) or error.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
        return None
    root = Path(archive_root).absolute()
    named = [Path(name).absolute() for name in (error.filename, error.filename2) if isinstance(name, (str, Path))]
    if not any(root in path.parents for path in named):
        return None
    where = " or ".join(map(str, named))  # a move (os.replace) names both ends; either may be the one refused
    return ArchiveError(f"the archive cannot be written at {where} ({error.strerror}: its permissions, or a "
                        "read-only disk); finished documents are kept, and the same command resumes once it can")


class DamagedArchiveError(RetrodigError):
    """A file the archive wrote cannot be read back (cut short, overwritten, deleted by hand)."""

    exit_code = ExitCode.integrity

    def __init__(self, path: Path | str, reason: str):
        self.path, self.reason = str(path), reason
        super().__init__(f"{path} is damaged or missing ({reason}): restore it from a backup, or ingest its scan "
                         "again with --force")

    @classmethod
    def of(cls, path: Path | str, error: Exception) -> DamagedArchiveError:
        """Raised when reading `path` failed with `error` (a missing file, bytes that do not parse)."""
        return cls(path, f"{type(error).__name__}: {error}")

    def __reduce__(self):
        return (type(self), (self.path, self.reason))


class DocumentNotFoundError(UsageError):
    pass


class InputError(RetrodigError):
    """An input file that cannot become part of the archive. `reason` is a short stable slug."""

    exit_code = ExitCode.bad_input
    reason = "bad-input"

    def __init__(self, path: Path | str, detail: str):
        self.path = Path(path)
        self.detail = detail
        super().__init__(f"{shown_path(self.path)}: {self.reason}: {detail}")

    def __reduce__(self):
        # Errors travel back from worker processes; the default pickling would call
        # __init__ with the formatted message only.
        return (type(self), (self.path, self.detail))


class EmptyFileError(InputError):
    reason = "empty-file"


class UnreadableFileError(InputError):
    """The file cannot be opened or read: its permissions, or a disk that fails to give its bytes."""

    reason = "unreadable"


class ChangedFileError(InputError):
    """The file's bytes changed between the batch's check of it and its copy into the archive (a scanner or a
    transfer still writing it): what was checked is not what would be kept."""

    reason = "changed"


class FileNameError(InputError):
    """A file name that is not UTF-8 (written in another encoding): it cannot be kept in the archive's records."""

    reason = "bad-name"


class UnsupportedFormatError(InputError):
    reason = "unsupported-format"


class TruncatedFileError(InputError):
    reason = "truncated"


class CorruptFileError(InputError):
    reason = "corrupt"


class EncryptedPdfError(InputError):
    reason = "encrypted"


class DecompressionBombError(InputError):
    reason = "too-large"


class OcrFailedError(InputError):
    """Tesseract ran but failed on this page (not a missing installation)."""

    reason = "ocr-failed"


class SiblingFailedError(InputError):
    """A page of a multi-file document failed, so the document was not built."""

    reason = "document-incomplete"


class UnexpectedPageError(InputError):
    """A bug or a crashed worker while processing a page: reported against the file, the batch goes on."""

    reason = "internal-error"


class PageDependencyError(InputError):
    """A program or language data a page needed was missing where it was read (a cluster's worker set up
    otherwise than the machine running the batch): not the file's fault, nor a bug to report."""

    reason = "missing-dependency"


def shown_path(path: Path | str) -> str:
    """`path` as text that can be printed and stored: a name's bytes that are not UTF-8 (a file named on a
    system writing cp1250 or cp866) are shown as \\xe9 escapes instead of failing every write of the report."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
