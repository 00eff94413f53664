"""`retrodig serve` (the clerks' web portal) and `retrodig user ...` (its staff accounts)."""

from __future__ import annotations

import os
import sys

import click

from pipeline.archive import Archive
from pipeline.errors import UsageError

from .common import build_options, echo_json


def _accounts(ctx: click.Context):
    from portal.accounts import Accounts
    from portal.db import staff_database

    archive = Archive(build_options(ctx).archive)
    if not archive.exists():
        raise UsageError(f"no archive at {archive.root} (run `retrodig ingest` first, or pass --archive)")
    return Accounts(staff_database(archive.root))


def _audited(ctx: click.Context, action: str, name: str, before: str | None = None,
             after: str | None = None) -> None:
    """An account change made here, in the audit log as the portal's Users page records it (they went unrecorded):
    by `cli:<the system user>`."""
    import getpass

    from portal.audit import AuditLog
    from portal.db import staff_database

    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # a container's user without a name
        who = str(os.getuid())
    AuditLog(staff_database(Archive(build_options(ctx).archive).root)).record(
        f"cli:{who}", action, target=name, before=before, after=after)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:  # a file written on Windows ends its line with \r\n: the \r made a password nobody could type
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():  # a script: click's prompt read what it could, then said "Aborted!", exit 1
        raise UsageError("no terminal to ask the password on: give it on standard input with --password-stdin")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _check_can_listen(host: str, port: int) -> None:
    """A port in use or an address not of this machine, said before the server starts: uvicorn's own message came
    with exit code 3, which says a dependency is missing."""
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UsageError(f"--host {host}: {exc.strerror or exc}") from exc
    family, kind, proto, _, address = addresses[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds it
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--host", default="127.0.0.1", show_default=True,
                  help="Address to listen on (0.0.0.0: every network interface).")
    @click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
    @click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
                  help="Server processes (each keeps its own search connections).")
    @click.option("--secure-cookies/--no-secure-cookies", default=False,
                  help="Mark cookies Secure: use it when a TLS proxy (nginx) serves the portal over https.")
    @click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True,
                  help="Proxies whose X-Forwarded-For/-Proto headers are believed (comma-separated, or *).")
    @click.pass_context
    def serve(ctx, host, port, workers, secure_cookies, forwarded_allow_ips):
        """Run the clerks' web portal on the archive (create the first user with `retrodig user add`)."""
        import uvicorn

        from portal.app_factory import environment_for

        options = build_options(ctx)
        if not Archive(options.archive).exists():
            raise UsageError(f"no archive at {options.archive} (run `retrodig ingest` first, or pass --archive)")
        environment_for(options, secure_cookies)
        _check_can_listen(host, port)
        click.echo(f"retrodig portal on http://{host}:{port}/ (archive {options.archive}); Ctrl-C stops it",
                   err=True)
        uvicorn.run("portal.app_factory:app_from_environment", factory=True, host=host, port=port,
                    workers=workers, proxy_headers=True, forwarded_allow_ips=forwarded_allow_ips,
                    log_level="debug" if ctx.obj.get("debug") else "info", server_header=False)

    @cli.group()
    def user():
        """Staff accounts of the portal: add, list, passwd, role, disable, enable."""

    @user.command("add")
    @click.argument("name")
    @click.option("--role", type=click.Choice(["clerk", "archivist", "admin"]), default="clerk", show_default=True)
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
    @click.pass_context
    def user_add(ctx, name, role, password_stdin):
        """Create an account (asks for its password)."""
        accounts = _accounts(ctx)
        added = accounts.add_user(name, _read_password(password_stdin), role)
        _audited(ctx, "user-add", added.name, after=added.role)
        click.echo(f"user {added.name} added ({added.role})")

    @user.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON.")
    @click.pass_context
    def user_list(ctx, as_json):
        """List the accounts."""
        users = _accounts(ctx).users()
        if as_json:
            echo_json([{"name": u.name, "role": u.role, "active": u.active, "created": u.created} for u in users])
            return
        for u in users:
            click.echo(f"{u.name:<24} {u.role:<10} {'active' if u.active else 'disabled':<9} {u.created}")

    @user.command("passwd")
    @click.argument("name")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
    @click.pass_context
    def user_passwd(ctx, name, password_stdin):
        """Set a new password (and end that user's sessions)."""
        accounts = _accounts(ctx)
        name = accounts.user(name).name
        accounts.set_password(name, _read_password(password_stdin))
        _audited(ctx, "user-password", name)
        click.echo(f"password of {name} changed")

    @user.command("role")
    @click.argument("name")
    @click.argument("role", type=click.Choice(["clerk", "archivist", "admin"]))
    @click.pass_context
    def user_role(ctx, name, role):
        """Change a user's role."""
        accounts = _accounts(ctx)
        before = accounts.user(name)
        accounts.set_role(before.name, role)
        _audited(ctx, "user-role", before.name, before=before.role, after=role)
        click.echo(f"{before.name} is now {role}")

    @user.command("disable")
    @click.argument("name")
    @click.pass_context
    def user_disable(ctx, name):
        """Stop an account from signing in (its sessions end at once)."""
        accounts = _accounts(ctx)
        name = accounts.user(name).name
        accounts.set_active(name, False)
        _audited(ctx, "user-active", name, before="true", after="false")
        click.echo(f"{name} disabled")

    @user.command("enable")
    @click.argument("name")
    @click.pass_context
    def user_enable(ctx, name):
        """Let a disabled account sign in again."""
        accounts = _accounts(ctx)
        name = accounts.user(name).name
        accounts.set_active(name, True)
        _audited(ctx, "user-active", name, before="false", after="true")
        click.echo(f"{name} enabled")
