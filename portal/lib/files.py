"""Files written by work that is then rolled back are deleted with it.

A stored file is not part of the database transaction: when a sweep act renders a letter, saves it and then
fails (or its whole batch cannot commit), the rows naming the file are rolled back but the file stays on disk,
an orphan nobody can reach or clean. `delete_files_if_rolled_back()` wraps such work: every file the default
storage saves inside it is deleted again if the block raises. Nested blocks hand their files to the enclosing
one when they succeed, so a batch that fails after its rows succeeded still deletes theirs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.files.storage import FileSystemStorage, Storage

logger = logging.getLogger(__name__)

_saved: ContextVar[list[tuple[Storage, str]] | None] = ContextVar("saved_files", default=None)


class PrivateFileStorage(FileSystemStorage):
    """The media storage (settings.STORAGES["default"]): the file system, with every save recorded for
    `delete_files_if_rolled_back`."""

    def _save(self, name, content):
        name = super()._save(name, content)
        saved = _saved.get()
        if saved is not None:
            saved.append((self, name))
        return name


@contextmanager
def delete_files_if_rolled_back() -> Iterator[None]:
    """Put it outside the `transaction.atomic()` it guards, so that a failed commit is seen too."""
    outer = _saved.get()
    saved: list[tuple[Storage, str]] = []
    token = _saved.set(saved)
    try:
        yield
    except BaseException:
        for storage, name in saved:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("could not delete %s, written by rolled-back work", name)
        raise
    else:
        if outer is not None:
            outer.extend(saved)
    finally:
        _saved.reset(token)
