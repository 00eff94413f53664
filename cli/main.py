"""Entry point: the command group, shared options, and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
import traceback
from pathlib import Path

import click

from pipeline import __version__
from pipeline.errors import ExitCode, RetrodigError, StopRequested
from pipeline.options import default_archive

# Each command's module is imported when the command is used: `retrodig ingest` need not load the OCR and
# search stacks the other commands use (a rerun of a finished batch is mostly Python's import time).
_COMMAND_MODULES = {"ingest": "ingest_command", "search": "search_commands", "show": "search_commands",
                    "ocr": "ocr_command", "verify": "archive_commands", "reindex": "archive_commands",
                    "serve": "portal_commands", "user": "portal_commands", "copy": "copy_command",
                    "redactions": "copy_command", "verify-copy": "copy_command"}


class RetrodigGroup(click.Group):
    """Maps typed errors to documented exit codes; a traceback only with --debug."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(_COMMAND_MODULES))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in _COMMAND_MODULES:
            importlib.import_module(f"{__package__}.{_COMMAND_MODULES[name]}").register(self)
        return self.commands.get(name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RetrodigError as exc:
            click.echo(f"retrodig: error: {exc}", err=True)
            sys.exit(int(exc.exit_code))
        except StopRequested:
            click.echo("retrodig: stopped by SIGTERM; rerun the same command to resume", err=True)
            sys.exit(int(ExitCode.terminated))
        except KeyboardInterrupt:
            click.echo("retrodig: interrupted; rerun the same command to resume", err=True)
            sys.exit(int(ExitCode.interrupted))
        except BrokenPipeError:  # the reader of the output went away (`retrodig search x | head`): stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail too
            sys.exit(int(ExitCode.output_closed))
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:  # a bug: say so plainly
            if ctx.obj and ctx.obj.get("debug"):
                traceback.print_exc()
            click.echo(f"retrodig: internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
                       err=True)
            sys.exit(int(ExitCode.internal_error))


@click.group(cls=RetrodigGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--archive", type=click.Path(path_type=Path), default=None,
              help="Archive folder (default: $RETRODIG_ARCHIVE, else ./archive).")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.version_option(__version__, prog_name="retrodig")
@click.pass_context
def cli(ctx: click.Context, archive: Path | None, debug: bool) -> None:
    """retrodig: scanned archive records in, searchable PDF/A archive out.

    \b
    Exit codes: 0 ok, 1 internal error, 2 usage, 3 missing dependency,
    4 some inputs failed (the rest landed), 5 no input could be processed,
    6 verify found damaged masters or archive files, 7 archive or search index
    unavailable (not writable, busy, disk full, index to rebuild, Elasticsearch
    unreachable), 130 interrupted, 141 output closed by its reader (| head),
    143 stopped by SIGTERM.
    """
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(message)s")
    if not debug:  # their retries and failures, with tracebacks, become one typed error of ours: said once
        for library in _CHATTY_LIBRARIES:
            logging.getLogger(library).setLevel(logging.CRITICAL)
    ctx.obj = {"archive": archive or default_archive(), "debug": debug}



_CHATTY_LIBRARIES = ("urllib3", "elastic_transport", "elasticsearch", "pyhanko", "pyhanko_certvalidator")


def main() -> None:
    signal.signal(signal.SIGTERM, _stop_requested)
    cli(prog_name="retrodig")


def _stop_requested(signum, frame) -> None:
    """SIGTERM stops a command as Ctrl-C does: an ingest keeps and indexes what it finished, and says so."""
    raise StopRequested()


if __name__ == "__main__":
    main()
