"""The mailbox: collect workbooks and evidence into the inbox; send receipts and reminders.

The work is split by capability: `inbox` (saving one file, the manifest and its lock), `messages` (one
message at a time), `eml` and `imap` (the two sources), `smtp` (sending), `deadline` (no server can hang a
run). This module keeps the names the command line uses."""

from __future__ import annotations

from pipeline.mail.eml import collect_eml
from pipeline.mail.imap import collect_imap, imap_utf7
from pipeline.mail.inbox import MANIFEST, Manifest, SavedFile, save_into_inbox
from pipeline.mail.messages import Collected, attachments, parse_stream
from pipeline.mail.smtp import SENT_LOG, Sent, send, write_outbox

__all__ = ["MANIFEST", "SENT_LOG", "Collected", "Manifest", "SavedFile", "Sent", "attachments", "collect_eml",
           "collect_imap", "imap_utf7", "parse_stream", "save_into_inbox", "send", "write_outbox"]
