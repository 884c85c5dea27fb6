"""A real CalDAV and CardDAV server for the tests: Radicale, on a free loopback port, with
its collections in a temporary folder and one user with a password (htpasswd, plain)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from shared.embedded_broker import free_port

USER, PASSWORD = "maria", "an-app-password-for-springboard"


class Radicale:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Radicale:
        (self.folder / "users").write_text(f"{USER}:{PASSWORD}\n")
        config = self.folder / "config"
        config.write_text(
            f"[server]\nhosts = 127.0.0.1:{self.port}\n"
            f"[auth]\ntype = htpasswd\nhtpasswd_filename = {self.folder / 'users'}\n"
            "htpasswd_encryption = plain\n"
            f"[storage]\nfilesystem_folder = {self.folder / 'collections'}\n"
            "[logging]\nlevel = warning\n"
        )
        log = (self.folder / "radicale.log").open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url, timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError(f"Radicale did not start: {(self.folder / 'radicale.log').read_text()}")

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(USER, PASSWORD), timeout=30)

    def make_calendar(self, name: str) -> str:
        with self.client() as http:
            response = http.request("MKCALENDAR", f"/{USER}/{name}/")
            assert response.status_code == 201, response.text
        return f"{self.url}{USER}/{name}/"

    def make_addressbook(self, name: str) -> str:
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<mkcol xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><set><prop>'
            "<resourcetype><collection/><C:addressbook/></resourcetype>"
            "</prop></set></mkcol>"
        )
        with self.client() as http:
            response = http.request("MKCOL", f"/{USER}/{name}/", content=body)
            assert response.status_code == 201, response.text
        return f"{self.url}{USER}/{name}/"

    def put(self, collection: str, name: str, text: str, content_type: str) -> int:
        with self.client() as http:
            response = http.put(
                f"{collection}{name}",
                content=text.encode(),
                headers={"Content-Type": f"{content_type}; charset=utf-8"},
            )
        return response.status_code

    def delete(self, collection: str, name: str) -> int:
        with self.client() as http:
            return http.delete(f"{collection}{name}").status_code
