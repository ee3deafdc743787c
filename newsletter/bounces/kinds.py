"""What kind of failure a report describes, from its enhanced status code (RFC 3463)
and the remote server's words.

- ``gone``: the address does not exist (any more): no such user or domain, moved,
  disabled. Mail to it stops at once.
- ``transient``: mailbox full, over quota, timeouts, greylisting, a delay that
  expired, the remote system in trouble. It counts; mail stops past a threshold.
- ``ours``: the receiver refuses *us*: our IP or domain blocked, policy, SPF/DKIM/DMARC,
  relaying denied, spam or virus content, a message too large. Never counted against
  the subscriber: an alert for staff.
- ``unknown``: nothing says why. Counted like a transient failure (never enough, alone,
  to stop mail at once).

The class digit (5 or 4) says whether the *sending MTA* gives up, not whether the
address is gone, so the subject and detail digits and the words decide.
"""

from __future__ import annotations

import re
from typing import Literal

FailureKind = Literal["gone", "transient", "ours", "unknown"]

_GONE_CODES = ("5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10", "5.2.1", "5.1.0")
_OURS_CODES = ("5.7.", "4.7.", "5.3.4", "4.3.4", "5.6.", "4.6.", "5.5.")
_GONE_RE = re.compile(
    r"user unknown|unknown user|no such (user|mailbox|recipient|address|domain|account|person)|"
    r"does not exist|doesn'?t exist|nonexistent|non-existent|"
    r"invalid (recipient|mailbox|address|user|final delivery userid)|"
    r"recipient (address )?rejected: (user|unknown|nonexist|invalid|no such)|"
    r"unknown (recipient|mailbox|address|local.?part)|"
    r"mailbox (is )?(unavailable|not found|disabled|inactive)|no mailbox|"
    r"address (not found|unknown|rejected|invalid)|account (has been |is )?"
    r"(disabled|closed|deactivated|suspended|deleted|inactive|expired)|"
    r"(host|domain)( or domain)?( name)? (not found|unknown)|unrouteable|not our customer|"
    r"user (not found|doesn'?t have)|doesn'?t have a .{0,40} account|"
    r"no longer (valid|available|active)|"
    r"not a valid (user|mailbox|recipient)|unknown or illegal alias|"
    r"(is|was) not (a )?(known|valid) user|(recipient|user) (is )?(unknown|invalid)|"
    r"bad destination mailbox|mailbox name not allowed|no valid recipients|"
    r"recipient name is not recognized|not recogni[sz]ed|user not known|unknown host|"
    r"no matches to nameserver|did not (exactly )?match|non recens|n'existe pas|unbekannt|"
    r"existiert nicht|not listed in|addressee unknown|undeliverable address|"
    r"final (e-?mail )?delivery point|no user by that name|this email address is wrong",
    re.IGNORECASE,
)
# Words by which a receiver refuses *us*, whatever else the reply says.
_OURS_STRONG_RE = re.compile(
    r"block(ed|list|ing)|black ?list|spamhaus|barracuda|\brbl\b|dnsbl|"
    r"reputation|\bspam\b|unsolicited|\bvirus(es)?\b|infected|malware|dmarc|\bspf\b|dkim|"
    r"authenticat|"
    r"relay(ing)? (access )?(denied|not permitted)|not permitted to relay|content rejected|"
    r"message (size )?(is )?too (big|large)|size (limit|exceeds)|exceeds? .{0,30}size|"
    r"maximum .{0,20}message size|message .{0,20}exceeded .{0,20}size|rate limit|"
    r"poor reputation|suspicious|without to: fields|not accepting mail from",
    re.IGNORECASE,
)
_OURS_RE = re.compile(
    r"policy|access denied|not authori[sz]ed|prohibited|refused by|sender (address )?rejected|"
    r"not accepted here|too many recipients",
    re.IGNORECASE,
)
# A full mailbox (or a server asking to try again) is transient, even under a 5.
_FULL_RE = re.compile(
    r"mailbox (is )?full|full mailbox|over ?quota|quota (exceeded|full|violation)|"
    r"exceed(ed|ing) .{0,20}quota|disk ?(space )?quota|insufficient (system )?storage|"
    r"disk full|enough (space|storage)|space not enough|(mail ?folder|mailbox|inbox) is full|"
    r"over dis|has too much mail|host not found, try again|try again later",
    re.IGNORECASE,
)
_TRANSIENT_RE = re.compile(
    r"temporar|try again|timed? ?out|greylist|graylist|deferred|delay|too many connections|"
    r"connection (refused|reset|was dropped|dropped)|out of memory|resources|"
    r"service (not )?available|unable to (connect|route)|could not be delivered for|"
    r"temp_failure|could not initiate|delivery failed \d+ attempts|loops? back|too many hops|"
    r"looping|command died|not been collected|maximum delivery attempts",
    re.IGNORECASE,
)


def failure_kind(status: str, text: str) -> FailureKind:  # noqa: PLR0911 - a return per rule, in order
    """The kind of a failure with enhanced code ``status`` (maybe "") and ``text``."""
    if status.startswith(("5.1.", "4.1.")):  # addressing: the recipient's, whatever the words
        return "gone" if status.startswith(_GONE_CODES) else "transient"
    if _OURS_STRONG_RE.search(text):
        return "ours"
    if _FULL_RE.search(text):
        return "transient"
    if _GONE_RE.search(text) and not status.startswith("4."):
        return "gone"
    if status.startswith(_OURS_CODES) or _OURS_RE.search(text):
        return "ours"
    if status.startswith(("4.", "5.2.2", "5.3.", "5.4.")):
        return "transient"
    if status.startswith(_GONE_CODES):
        return "gone"
    if _TRANSIENT_RE.search(text):
        return "transient"
    return "unknown"
