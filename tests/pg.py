"""A throwaway PostgreSQL server for tests and benchmarks.

    server = PostgresServer()
    server.start()                      # initdb into a temporary directory, listen on 127.0.0.1
    server.create_database("t_1")
    url = server.url("t_1")             # postgresql://postgres@127.0.0.1:<port>/t_1
    ...
    server.stop()                       # pg_ctl stop -m immediate, directory removed

The server binaries are looked for in $UPPHANDLA_PG_BINDIR, then /usr/lib/postgresql/<ver>/bin
(Debian, newest version first), then on PATH. The server's directory goes to /dev/shm when that
is roomy, else to the temporary directory ($UPPHANDLA_PG_TMPDIR overrides). initdb and postgres
refuse to run as root, so when we are root they run as the `postgres` system user (runuser), in
a directory owned by it.

The server only trusts connections from 127.0.0.1 and its own socket directory, keeps no data
safe (fsync off) and lives as long as the process that started it: a small watchdog process
stops it and removes its directory if that process dies without calling stop().

Only the standard library is needed to start and stop a server; create_database() and
drop_database() use psycopg.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SUPERUSER = "postgres"
SYSTEM_USER = "postgres"  # who runs the server when we are root


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries (initdb, pg_ctl, postgres) on this machine."""


def _version_key(bindir: str) -> tuple[int, ...]:
    version = Path(bindir).parent.name  # /usr/lib/postgresql/<version>/bin
    try:
        return tuple(int(part) for part in version.split("."))
    except ValueError:
        return (0,)


def find_bindir() -> Path:
    """The directory holding initdb, pg_ctl and postgres, or PostgresUnavailable."""
    wanted = ("initdb", "pg_ctl", "postgres")

    def complete(directory: Path) -> bool:
        return all(os.access(directory / name, os.X_OK) for name in wanted)

    override = os.environ.get("UPPHANDLA_PG_BINDIR")
    if override:
        if complete(Path(override)):
            return Path(override)
        raise PostgresUnavailable(
            f"UPPHANDLA_PG_BINDIR={override} does not hold {', '.join(wanted)}"
        )
    candidates = [Path(ctl).parent for ctl in glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")]
    candidates.sort(key=lambda d: _version_key(str(d)), reverse=True)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for directory in candidates:
        if complete(directory):
            return directory
    raise PostgresUnavailable(
        "no PostgreSQL server binaries found (looked for initdb, pg_ctl and postgres in "
        "/usr/lib/postgresql/*/bin and on PATH). Install them, e.g. "
        "`apt-get install postgresql`, or point UPPHANDLA_PG_BINDIR at them."
    )


def _run_as_prefix() -> tuple[list[str], pwd.struct_passwd | None]:
    """The command prefix that drops root, and the user it drops to (none if not root)."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise PostgresUnavailable(
            f"running as root, but there is no `{SYSTEM_USER}` system user to run the "
            "PostgreSQL server as (the Debian postgresql package creates it)"
        ) from None
    runuser = shutil.which("runuser") or next(
        (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if os.access(p, os.X_OK)), None
    )
    if runuser is None:
        raise PostgresUnavailable("running as root, but `runuser` (util-linux) is missing")
    return [runuser, "-u", SYSTEM_USER, "--"], user


def _base_tempdir(for_other_user: bool) -> str | None:
    """Where to make the server's directory. $UPPHANDLA_PG_TMPDIR if set; else /dev/shm when it
    is a roomy memory file system (CREATE DATABASE is many times faster there than on a slow
    disk, fsync off or not); else the usual temporary directory. Never a path too long for a
    unix socket or, when the server runs as another user, one that user cannot reach."""
    chosen = os.environ.get("UPPHANDLA_PG_TMPDIR")
    if chosen:
        return chosen
    candidates = []
    with contextlib.suppress(OSError):
        shm = os.statvfs("/dev/shm")
        if shm.f_bavail * shm.f_frsize >= 2 * 1024**3 and os.access("/dev/shm", os.W_OK):
            candidates.append("/dev/shm")
    candidates += [tempfile.gettempdir(), "/tmp"]
    for base in candidates:
        if len(base) > 60:
            continue
        if for_other_user:
            path = Path(base).resolve()
            if not all(os.stat(part).st_mode & 0o001 for part in (path, *path.parents)):
                continue
        return base
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop_and_remove(directory: Path, bindir: Path, prefix: list[str]) -> None:
    """Stop the server in `directory` if it runs, then remove the directory. Never raises."""
    data = directory / "data"
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [
                    *prefix,
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-m",
                    "immediate",
                    "-w",
                    "-t",
                    "30",
                    "stop",
                ],
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
                check=False,
            )
    shutil.rmtree(directory, ignore_errors=True)


class PostgresServer:
    """One throwaway PostgreSQL server. start() it, stop() it (stop() is safe to repeat)."""

    def __init__(self, bindir: Path | str | None = None, *, max_connections: int = 200) -> None:
        self.bindir = Path(bindir) if bindir is not None else None
        self.max_connections = max_connections
        self.directory: Path | None = None
        self.port: int | None = None
        self._prefix: list[str] = []
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._admin: Any = None  # psycopg connection to the `postgres` database

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        if self.port is not None:
            return self
        bindir = self.bindir = self.bindir or find_bindir()
        self._prefix, user = _run_as_prefix()
        directory = self.directory = Path(
            tempfile.mkdtemp(prefix="upphandla-pg-", dir=_base_tempdir(user is not None))
        )
        try:
            if user is not None:
                os.chown(directory, user.pw_uid, user.pw_gid)
            self._start_watchdog()
            data = directory / "data"
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "--auth=trust",
                    "-U",
                    SUPERUSER,
                    "--no-locale",
                    "--encoding=UTF8",
                    "--no-sync",
                ],
                what="initdb",
            )
            with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
                socket_dir = str(directory).replace("'", "''")
                conf.write(
                    "\n# throwaway test server\n"
                    "listen_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{socket_dir}'\n"
                    f"max_connections = {self.max_connections}\n"
                    "fsync = off\n"
                    "synchronous_commit = off\n"
                    "full_page_writes = off\n"
                    "max_wal_size = 128MB\n"
                    "min_wal_size = 32MB\n"
                    "checkpoint_warning = 0\n"
                    "log_min_messages = warning\n"
                )
            self._start_postmaster(data)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_postmaster(self, data: Path) -> None:
        assert self.bindir is not None and self.directory is not None
        log = self.directory / "server.log"
        for _attempt in range(5):
            port = _free_port()
            result = self._run(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(log),
                    "-o",
                    f"-p {port}",
                    "-w",
                    "-t",
                    "60",
                    "-s",
                    "start",
                ],
                what="pg_ctl start",
                check=False,
            )
            if result.returncode == 0:
                self.port = port
                return
            text = log.read_text(errors="replace") if log.exists() else ""
            if "could not bind" not in text and "already in use" not in text:
                break  # not a lost race for the port: retrying will not help
        raise RuntimeError(
            f"PostgreSQL server did not start (pg_ctl start exit {result.returncode}):\n"
            f"{result.stdout}{result.stderr}\n--- server.log ---\n{_tail(log)}"
        )

    def _start_watchdog(self) -> None:
        """A process that waits for this one to go away (its stdin reaches end of file when we
        exit, however we exit) and then stops the server and removes its directory."""
        assert self.directory is not None and self.bindir is not None
        self._watchdog = subprocess.Popen(
            [
                sys.executable,
                "-I",
                str(Path(__file__).resolve()),
                "--watchdog",
                str(self.directory),
                str(self.bindir),
                *self._prefix,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            start_new_session=True,  # a Ctrl-C for the test run is not meant for it
        )

    def stop(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None
        if self.directory is not None and self.bindir is not None:
            _stop_and_remove(self.directory, self.bindir, self._prefix)
        self.directory = None
        self.port = None
        if self._watchdog is not None:
            with contextlib.suppress(Exception):
                assert self._watchdog.stdin is not None
                self._watchdog.stdin.close()
                self._watchdog.wait(timeout=10)
            self._watchdog = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- use ----------------------------------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        if self.port is None:
            raise RuntimeError("the PostgreSQL server is not running")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def _admin_connection(self) -> Any:
        import psycopg

        if self._admin is None or self._admin.closed:
            if self.port is None:
                raise RuntimeError("the PostgreSQL server is not running")
            self._admin = psycopg.connect(
                host="127.0.0.1",
                port=self.port,
                user=SUPERUSER,
                dbname="postgres",
                autocommit=True,
            )
        return self._admin

    def execute(self, statement: Any, params: Any = None) -> None:
        """Run one statement as the superuser in the `postgres` database (autocommit)."""
        self._admin_connection().execute(statement, params)

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE `name` (a copy of `template` if given); returns its URL."""
        from psycopg import sql

        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        if self._admin_connection().info.server_version >= 150000:
            # Copy the files rather than log every page: faster for small databases.
            statement = sql.SQL("{} STRATEGY FILE_COPY").format(statement)
        self.execute(statement)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """DROP DATABASE `name`, disconnecting whoever is still connected to it."""
        from psycopg import sql

        self.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    # -- helpers ------------------------------------------------------------------------------

    def _run(
        self, command: list[str], *, what: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, LC_ALL="C", LANG="C")
        env.pop("PGDATA", None)
        result = subprocess.run(
            [*self._prefix, *command],
            cwd=self.directory,  # the server's user may not be allowed into ours
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            start_new_session=True,  # the server it starts must not get the test run's Ctrl-C
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}"
            )
        return result


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _watchdog_main(directory: str, bindir: str, prefix: list[str]) -> None:
    with contextlib.suppress(Exception):
        sys.stdin.buffer.read()  # returns when the starting process closes the pipe or dies
    _stop_and_remove(Path(directory), Path(bindir), prefix)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--watchdog"]:
        _watchdog_main(argv[1], argv[2], argv[3:])
        return 0
    # By hand: start a server, print its URL, stop it on Ctrl-C.
    import signal

    with PostgresServer() as server:
        print(server.url(), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
