"""Where returned mail is read from on disk: one message (a file, or standard input
as an MTA pipes it), an mbox, or a Maildir."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


class SourceError(Exception):
    """The path holds no mail we can read."""


def messages(path: str, stdin: BinaryIO) -> Iterator[tuple[str, bytes]]:
    """(origin, raw bytes) of each message at ``path`` (``-``: standard input)."""
    if path == "-":
        yield "stdin", stdin.read()
        return
    target = Path(path)
    if target.is_dir():
        if not all((target / sub).is_dir() for sub in ("cur", "new", "tmp")):
            raise SourceError(f"{path} is a folder but not a Maildir (no cur/, new/, tmp/)")
        box = mailbox.Maildir(str(target), factory=None, create=False)
        for key in sorted(box.iterkeys()):
            yield "maildir", box.get_bytes(key)
        return
    if not target.is_file():
        raise SourceError(f"{path} does not exist")
    with target.open("rb") as handle:
        head = handle.read(5)
    if head == b"From ":
        mbox = mailbox.mbox(str(target), factory=None, create=False)
        try:
            for key in mbox.iterkeys():
                yield "mbox", mbox.get_bytes(key)
        finally:
            mbox.close()
        return
    yield "file", target.read_bytes()
