#!/usr/bin/env python3
"""Real servers from Debian's packages, each on its usual port and on an unusual one, in a namespace.

Look-alikes only prove that a scanner knows our idea of a protocol.  Real servers say
things no look-alike thought of: nginx answers ``403`` when there is no index page, exim
puts the date in its greeting, Redis hangs up on a line that starts with ``Host:``, and a
MariaDB server with a fresh data folder still sends a proper MySQL handshake.

``RealServices`` starts nginx, OpenSSH, Redis, exim and MariaDB inside a network
namespace it creates (``bench.netns.Namespace``: its own loopback, nothing reaches any
other interface), each with its own configuration in a temporary folder, and stops them
by pid on exit.  Only the programs it started are stopped; nothing is installed here (CI
installs the packages, best effort) and a missing program is listed in ``missing`` with
the package that brings it.  Used by tests/test_service_names_real.py and
bench/bench_service_names.py.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Dict, List, Optional, Tuple

from bench.netns import Namespace

# service (as nmap -sV names it) -> (program, Debian package, usual port, unusual ports)
SERVICES: Dict[str, Tuple[str, str, int, Tuple[int, ...]]] = {
    "http": ("nginx", "nginx", 80, (8080, 24680)),
    "ssh": ("sshd", "openssh-server", 22, (2222,)),
    "smtp": ("exim4", "exim4-daemon-light", 25, (2525,)),
    "mysql": ("mariadbd", "mariadb-server", 3306, (13306,)),
    "redis": ("redis-server", "redis-server", 6379, (16379,)),
}
START_SECONDS = 20.0
PROGRAM_FOLDERS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")

NGINX_CONF = """daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log stderr;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy; fastcgi_temp_path {folder}/fcgi;
  uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
  server {{ {listen} root {folder}/www; }}
}}
"""


def program(name: str) -> Optional[str]:
    """The full path of a server program (sbin folders are not always on PATH)."""
    return shutil.which(name) or next((os.path.join(folder, name) for folder in PROGRAM_FOLDERS
                                       if os.access(os.path.join(folder, name), os.X_OK)), None)


def all_ports(service: str) -> Tuple[int, ...]:
    _program, _package, usual, unusual = SERVICES[service]
    return (usual,) + unusual


class RealServices:
    """Every available server of ``SERVICES`` running in a fresh namespace, while the block runs."""

    def __init__(self, services=tuple(SERVICES)) -> None:
        self.wanted = tuple(services)
        self.missing: Dict[str, str] = {}       # service -> why it is not running
        self.running: List[str] = []
        self.namespace = Namespace("services")
        self.folder = ""
        self.processes: List[subprocess.Popen] = []

    def ports(self) -> Dict[int, str]:
        """{port: the service running there} for everything that started."""
        return {port: service for service in self.running for port in all_ports(service)}

    def __enter__(self) -> "RealServices":
        self.namespace.__enter__()
        self.folder = tempfile.mkdtemp(prefix="pscan-services-")
        try:
            for service in self.wanted:
                path = program(SERVICES[service][0])
                if path is None:
                    self.missing[service] = f"{SERVICES[service][0]} is not installed (package {SERVICES[service][1]})"
                    continue
                try:
                    self._start(service, path)
                except (OSError, subprocess.CalledProcessError) as error:
                    self.missing[service] = f"{SERVICES[service][0]} could not start: {error}"
                    continue
                self.running.append(service)
            self._wait_until_listening()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _spawn(self, name: str, *command: str) -> None:
        log = open(os.path.join(self.folder, f"{name}.log"), "wb")
        with log:
            self.processes.append(subprocess.Popen(self.namespace.command(*command), stdin=subprocess.DEVNULL,
                                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def _start(self, service: str, path: str) -> None:
        folder, ports = self.folder, all_ports(service)
        if service == "http":
            os.makedirs(os.path.join(folder, "www"), exist_ok=True)
            with open(os.path.join(folder, "www", "index.html"), "w", encoding="ascii") as page:
                page.write("<p>portscan-lab test page</p>\n")
            listen = " ".join(f"listen 127.0.0.1:{port};" for port in ports)
            conf = os.path.join(folder, "nginx.conf")
            with open(conf, "w", encoding="ascii") as out:
                out.write(NGINX_CONF.format(folder=folder, listen=listen))
            self._spawn("nginx", path, "-c", conf, "-e", "stderr")
        elif service == "ssh":
            key = os.path.join(folder, "ssh_host_ed25519_key")
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True,
                           capture_output=True)
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)   # sshd's privilege-separation folder
            self._spawn("sshd", path, "-D", "-e", "-f", "/dev/null", "-h", key, "-o", "PidFile=none",
                        "-o", "ListenAddress=127.0.0.1", *(f"-oPort={port}" for port in ports))
        elif service == "smtp":
            listen = ":".join(f"127.0.0.1.{port}" for port in ports)
            self._spawn("exim", path, "-bdf", "-oX", listen, "-oP", os.path.join(folder, "exim.pid"))
        elif service == "mysql":
            data = os.path.join(folder, "mysql")
            os.makedirs(data, exist_ok=True)
            self._spawn("mariadb", path, "--no-defaults", f"--datadir={data}", f"--socket={folder}/mysql.sock",
                        f"--pid-file={folder}/mysql.pid", "--bind-address=127.0.0.1", "--user=root",
                        "--skip-grant-tables", f"--port={ports[0]}", f"--extra-port={ports[1]}")
        elif service == "redis":
            for port in ports:   # one port per Redis server
                self._spawn(f"redis-{port}", path, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", folder, "--daemonize", "no", "--logfile", "")

    def listening(self) -> set:
        """TCP ports listening on 127.0.0.1 inside the namespace."""
        out = subprocess.run(self.namespace.command("ss", "-ltnH"), capture_output=True, text=True).stdout
        return {int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines() if len(line.split()) > 3}

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while True:
            absent = {port: service for port, service in self.ports().items() if port not in self.listening()}
            if not absent:
                return
            if time.monotonic() > deadline:
                for service in set(absent.values()):
                    self.running.remove(service)
                    self.missing[service] = f"{SERVICES[service][0]} did not listen within {START_SECONDS:.0f} s"
                return
            time.sleep(0.1)

    def __exit__(self, *exc) -> None:
        for process in self.processes:          # by pid: only what this object started
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []
        self.namespace.__exit__(*exc)
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    with RealServices() as running:
        print("running:", running.ports(), "missing:", running.missing)
