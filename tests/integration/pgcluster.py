"""pgcluster - a private PostgreSQL cluster for tests and benchmarks.

Debian's PostgreSQL 15 binaries, run as the postgres user (the caller is root):
initdb into a temporary directory, pg_ctl start with its unix socket in that
directory and no TCP listener (-h ''), trust authentication for the postgres
role. Nothing reaches the machine's own clusters.

    with pgcluster.running("reports") as pg:
        uri = pg.uri("reports"); ...
"""
import contextlib
import os
import shutil
import subprocess
import tempfile

PG_BIN = "/usr/lib/postgresql/15/bin"


def available():
    """True when initdb, pg_ctl and psql are installed."""
    return (os.access(os.path.join(PG_BIN, "initdb"), os.X_OK) and
            os.access(os.path.join(PG_BIN, "pg_ctl"), os.X_OK) and
            shutil.which("psql") is not None)


class PgCluster:
    """One cluster in a fresh temporary directory owned by postgres."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="authmilter-pg-")
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "sock")
        self.log = os.path.join(self.dir, "log")
        os.makedirs(self.sock)
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "postgres")
        shutil.chown(self.sock, "postgres")
        self.running = False

    def _su(self, cmd):
        return subprocess.run(["su", "postgres", "-c", cmd], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=180)

    def start(self):
        p = self._su("%s/initdb -A trust -U postgres -D %s" % (PG_BIN, self.data))
        if p.returncode:
            raise RuntimeError("initdb: " + p.stdout.decode()[-500:])
        p = self._su("%s/pg_ctl -D %s -o \"-k %s -h ''\" -l %s -w start" %
                     (PG_BIN, self.data, self.sock, self.log))
        if p.returncode:
            raise RuntimeError("pg_ctl start: " + p.stdout.decode()[-500:])
        self.running = True
        return self

    def stop(self):
        if self.running:
            self._su("%s/pg_ctl -D %s -m fast -w stop" % (PG_BIN, self.data))
            self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def psql(self, db, sql):
        """Run sql in db; its unaligned output (or error), stripped."""
        p = subprocess.run(["psql", "-h", self.sock, "-U", "postgres", "-d", db,
                            "-At", "-c", sql], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        return p.stdout.decode().strip()

    def createdb(self, db):
        return self.psql("postgres", "CREATE DATABASE %s" % db)

    def uri(self, db):
        """A libpq URI for db over the cluster's unix socket."""
        return "postgresql:///%s?host=%s&user=postgres" % (db, self.sock)


@contextlib.contextmanager
def running(*dbs):
    """A started cluster holding the databases dbs; stopped and removed after."""
    pg = PgCluster()
    try:
        pg.start()
        for db in dbs:
            pg.createdb(db)
        yield pg
    finally:
        pg.stop()
