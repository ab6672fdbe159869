"""How FatturaPA files reach the SdI, behind one interface: `send(file_name, content)` raises ChannelError
when the file did not leave (the send sweep then retries with backoff), and `inbox()` is where the SdI's
notification files arrive. The channel is a setting (settings.EINVOICE["channel"]).
"""

from __future__ import annotations

import os
import tempfile
import urllib.error
import urllib.request
from base64 import b64encode
from pathlib import Path
from urllib.parse import quote

from django.conf import settings


class ChannelError(Exception):
    """The file could not be handed to the channel; nothing was sent."""


class FolderChannel:
    """The embedded default: each file is written to the outbox folder (atomically: a reader never sees half
    a file), for an intermediary's agent that collects it, or for a person to inspect."""

    def __init__(self, outbox: str | Path, inbox: str | Path):
        self.outbox, self._inbox = Path(outbox), Path(inbox)

    def send(self, file_name: str, content: bytes) -> None:
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=self.outbox, prefix=".sending-")
            with os.fdopen(fd, "wb") as file:
                file.write(content)
            os.replace(temporary, self.outbox / file_name)
        except OSError as exc:
            raise ChannelError(f"cartella {self.outbox}: {exc}") from exc

    def inbox(self) -> Path:
        return self._inbox


class HttpsChannel:
    """The accredited intermediary's HTTPS upload: PUT <url>/<file name> with basic authentication; any 2xx
    answer means the intermediary took the file. The receipts come back through the inbox folder."""

    def __init__(self, url: str, user: str, password: str, timeout: float, inbox: str | Path):
        if not url:
            raise ChannelError("SDI_HTTPS_URL non impostato per il canale https")
        self.url, self.user, self.password, self.timeout = url.rstrip("/"), user, password, timeout
        self._inbox = Path(inbox)

    def send(self, file_name: str, content: bytes) -> None:
        request = urllib.request.Request(
            f"{self.url}/{quote(file_name)}",
            data=content,
            method="PUT",
            headers={"Content-Type": "application/xml"},
        )
        if self.user:
            token = b64encode(f"{self.user}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise ChannelError(f"{self.url}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ChannelError(f"{self.url}: {exc}") from exc

    def inbox(self) -> Path:
        return self._inbox


def get_channel() -> FolderChannel | HttpsChannel:
    config = settings.EINVOICE
    if config["channel"] == "folder":
        return FolderChannel(config["outbox"], config["inbox"])
    if config["channel"] == "https":
        return HttpsChannel(
            config["https_url"],
            config["https_user"],
            config["https_password"],
            config["https_timeout"],
            config["inbox"],
        )
    raise ChannelError(f"canale SdI sconosciuto: {config['channel']!r} (folder o https)")
