"""A throwaway PostgreSQL cluster on 127.0.0.1, from the machine's own PostgreSQL binaries.

`postgres_cluster()` runs `initdb` in a new temporary folder, starts the server on a free
loopback port with password (SCRAM) authentication, yields a `PostgresCluster` and stops
and deletes everything at the end. The server binaries come from Debian's `postgresql`
package (/usr/lib/postgresql/<version>/bin, the newest version found), or from
POSTGRES_BIN_DIR when that names another folder holding initdb and pg_ctl.

initdb and pg_ctl refuse to run as root: when the tests run as root (CI does), every
server command runs as the `postgres` system user (created by the Debian package) and the
cluster's folder belongs to that user. Nothing listens on a Unix socket: clients connect
over TCP with the password, so a wrong password is refused as it would be in production.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

DEBIAN_ROOT = Path("/usr/lib/postgresql")
INSTALL_HINT = (
    "install Debian's PostgreSQL server with `apt-get update && apt-get install -y postgresql`"
    " (or set POSTGRES_BIN_DIR to a folder holding initdb and pg_ctl)"
)
SERVER_SETTINGS = """
# Written by the template's tests: a throwaway cluster, fast and loopback only.
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
shared_buffers = 32MB
log_min_messages = warning
"""


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server binaries are not installed on this machine."""


def find_bin_dir() -> Path:
    """The folder of initdb/pg_ctl: POSTGRES_BIN_DIR, else Debian's newest version."""
    if configured := os.environ.get("POSTGRES_BIN_DIR"):
        folder = Path(configured)
        if (folder / "initdb").is_file():
            return folder
        raise PostgresUnavailable(f"POSTGRES_BIN_DIR={configured} holds no initdb")
    found = [initdb.parent for initdb in DEBIAN_ROOT.glob("*/bin/initdb") if initdb.is_file()]
    if not found:
        raise PostgresUnavailable(f"no PostgreSQL server under {DEBIAN_ROOT}: {INSTALL_HINT}")

    def version(bin_dir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name))

    return max(found, key=version)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresCluster:
    """A running (or stopped) throwaway cluster. `url` is the connection URL of `database`."""

    bin_dir: Path
    folder: Path
    """Holds the data folder `data` and the server log `server.log`."""
    port: int
    user: str = "tests"
    password: str = "tests-password"
    database: str = "tests"
    run_as: str | None = None
    """The system user running the server commands (`postgres` when the tests run as root)."""
    _running: bool = field(default=False, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def log_file(self) -> Path:
        return self.folder / "server.log"

    @property
    def url(self) -> str:
        """postgresql://tests:tests-password@127.0.0.1:PORT/tests"""
        return self.url_for(self.database)

    def url_for(
        self, database: str | None = None, *, user: str | None = None, password: str | None = None
    ) -> str:
        """A connection URL to another database, or with another user or (wrong) password."""
        user = self.user if user is None else user
        password = self.password if password is None else password
        return (
            f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}"
            f"@127.0.0.1:{self.port}/{quote(database or self.database, safe='')}"
        )

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Start the server on the same port and data; nothing happens if it runs already."""
        if self._running:
            return
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.log_file))
        self._running = True

    def stop(self) -> None:
        """Stop the server (`pg_ctl -m fast stop`); its data stays for a later `start()`."""
        if not self._running:
            return
        self._pg_ctl("stop", "-w", "-t", "60", "-m", "fast")
        self._running = False

    def create_database(self, name: str) -> str:
        """Create a new database (e.g. one per test) and return its URL."""
        self._run(
            self.bin_dir / "createdb",
            "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, name,
            env={"PGPASSWORD": self.password},
        )  # fmt: skip
        return self.url_for(name)

    def _pg_ctl(self, *arguments: str) -> None:
        self._run(self.bin_dir / "pg_ctl", "-D", str(self.data_dir), *arguments)

    def _run(self, *command: str | Path, env: dict[str, str] | None = None) -> None:
        run_server_command(list(command), self.folder, self.run_as, env, self.log_file)


def run_server_command(
    command: list[str | Path],
    cwd: Path,
    run_as: str | None,
    env: dict[str, str] | None = None,
    log_file: Path | None = None,
) -> None:
    """Run a PostgreSQL command, as `run_as` when given; raise with its output and the
    server log's end when it fails."""
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8"}
    environment |= env or {}
    account = pwd.getpwnam(run_as) if run_as else None
    if account:
        environment |= {"HOME": account.pw_dir, "USER": run_as, "LOGNAME": run_as}
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=environment,
        user=account.pw_uid if account else None,
        group=account.pw_gid if account else None,
        extra_groups=[] if account else None,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    if result.returncode != 0:
        log = log_file.read_text(errors="replace")[-3000:] if log_file and log_file.exists() else ""
        raise RuntimeError(
            f"{' '.join(map(str, command))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}\n--- server log\n{log}"
        )


def server_account() -> str | None:
    """Who runs the server: None (this process's user) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise PostgresUnavailable("running as root, and there is no `postgres` user to run initdb")


@contextmanager
def postgres_cluster(
    *,
    user: str = "tests",
    password: str = "tests-password",
    database: str = "tests",
) -> Iterator[PostgresCluster]:
    """A new cluster on a free 127.0.0.1 port, running, with `database` owned by `user`.

    Raises PostgresUnavailable when no PostgreSQL server is installed. On exit the
    server is stopped (`pg_ctl -m fast stop`) and its folder deleted.
    """
    bin_dir = find_bin_dir()
    run_as = server_account()
    # A folder of its own in the system temp dir (pytest's tmp_path is private to root,
    # and the `postgres` user must be able to reach the folder).
    folder = Path(tempfile.mkdtemp(prefix="pg-tests-"))
    try:
        if run_as:
            account = pwd.getpwnam(run_as)
            os.chown(folder, account.pw_uid, account.pw_gid)
        password_file = folder / "password"
        password_file.write_text(password + "\n")
        if run_as:
            os.chown(password_file, account.pw_uid, account.pw_gid)
        run_server_command(
            [
                bin_dir / "initdb",
                "-D", folder / "data",
                "-U", user,
                f"--pwfile={password_file}",
                "-A", "scram-sha-256",
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            folder,
            run_as,
        )  # fmt: skip
        password_file.unlink()
        cluster = PostgresCluster(
            bin_dir, folder, 0, user=user, password=password, database=database, run_as=run_as
        )
        _start_on_a_free_port(cluster)
        try:
            if database != "postgres":
                cluster.create_database(database)
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _start_on_a_free_port(cluster: PostgresCluster, tries: int = 3) -> None:
    """Pick a free port and start; another process may take the port meanwhile, so retry."""
    settings = cluster.data_dir / "postgresql.auto.conf"
    original = settings.read_text() if settings.exists() else ""
    for attempt in range(tries):
        cluster.port = free_port()
        # postgresql.auto.conf is read last, so these settings win over postgresql.conf.
        settings.write_text(original + SERVER_SETTINGS.format(port=cluster.port))
        try:
            cluster.start()
            return
        except RuntimeError:
            if attempt == tries - 1:
                raise
            time.sleep(0.2)
