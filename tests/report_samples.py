"""Delivery status notifications (RFC 3464) and feedback reports (RFC 5965) in the shapes the
large mailbox providers send, written for these tests from the RFCs (none copied from a real
message): a Gmail-like hard bounce, an Outlook-like mailbox-full one, a Yahoo-like delay, a
prose bounce without a report part, and Yahoo-like and Outlook-like complaints."""

from __future__ import annotations


def _original(return_path: str, recipient: str, message_id: str, list_unsubscribe: str = "") -> str:
    lines = [
        f"Return-Path: <{return_path}>",
        "From: Association des villes <contact@example.org>",
        f"To: <{recipient}>",
        "Subject: La lettre des villes",
        f"Message-ID: {message_id}",
    ]
    if list_unsubscribe:
        lines.append(f"List-Unsubscribe: {list_unsubscribe}")
    return "\r\n".join(lines) + "\r\n"


def gmail_like_hard(return_path: str, recipient: str, message_id: str = "<x@example.org>") -> bytes:
    return f"""From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {return_path}
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset="UTF-8"

Address not found. Your message wasn't delivered to {recipient} because the address couldn't be
found, or is unable to receive mail.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Arrival-Date: Tue, 01 Dec 2026 10:00:00 -0800

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.ville-exemple.fr. (192.0.2.10, the server for the domain ville-exemple.fr.)
Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.
Last-Attempt-Date: Tue, 01 Dec 2026 10:00:01 -0800

--b1
Content-Type: message/rfc822

{_original(return_path, recipient, message_id)}
Bonjour.

--b1--
""".replace("\n", "\r\n").encode()


def outlook_like_full(return_path: str, recipient: str) -> bytes:
    """Mailbox full: a 5.2.2 that only counts as a soft bounce; headers only, as Outlook returns."""
    return f"""From: postmaster@outlook.com
To: {return_path}
Subject: Undeliverable: La lettre des villes
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b2"

--b2
Content-Type: text/plain; charset="us-ascii"

Delivery has failed to these recipients or groups: {recipient}
The recipient's mailbox is full and can't accept messages now.

--b2
Content-Type: message/delivery-status

Reporting-MTA: dns;AM0PR01MB0001.eurprd01.prod.outlook.com
Received-From-MTA: dns;relay.example.org

Original-Recipient: rfc822;{recipient}
Final-Recipient: rfc822;{recipient}
Action: failed
Status: 5.2.2
Diagnostic-Code: smtp;554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException

--b2
Content-Type: text/rfc822-headers

{_original(return_path, recipient, "<y@example.org>")}
--b2--
""".replace("\n", "\r\n").encode()


def yahoo_like_delayed(return_path: str, recipient: str) -> bytes:
    return f"""From: MAILER-DAEMON@yahoo.com
To: {return_path}
Subject: Delayed Mail (still being retried)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b3"

--b3
Content-Type: text/plain

This is an automatically generated message. Delivery to {recipient} is delayed.

--b3
Content-Type: message/delivery-status

Reporting-MTA: dns; mta1000.mail.yahoo.com

Final-Recipient: rfc822; {recipient}
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 Mailbox over quota
Will-Retry-Until: Fri, 04 Dec 2026 10:00:00 +0000

--b3--
""".replace("\n", "\r\n").encode()


def prose_bounce(return_path: str, recipient: str) -> bytes:
    """An old server's bounce with no report part: only the return path says which delivery."""
    return f"""From: MAILER-DAEMON@mairie-exemple.fr
To: {return_path}
Subject: failure notice

Hi. This is the qmail-send program at mairie-exemple.fr.
I'm afraid I wasn't able to deliver your message to the following addresses.

<{recipient}>:
550 5.1.1 Sorry, no mailbox here by that name.
""".replace("\n", "\r\n").encode()


def yahoo_like_complaint(fbl_address: str, return_path: str, recipient: str, list_unsubscribe: str) -> bytes:
    return f"""From: feedback@arf.mail.yahoo.com
To: {fbl_address}
Subject: FW: La lettre des villes
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b4"

--b4
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP 192.0.2.25.

--b4
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 1
Original-Mail-From: <{return_path}>
Original-Rcpt-To: <{recipient}>
Arrival-Date: Tue, 01 Dec 2026 18:00:00 +0000
Source-IP: 192.0.2.25
Reported-Domain: example.org

--b4
Content-Type: message/rfc822

{_original(return_path, "redacted@yahoo.com", "<z@example.org>", list_unsubscribe)}
Bonjour.

--b4--
""".replace("\n", "\r\n").encode()


def outlook_like_complaint(fbl_address: str, recipient: str, list_unsubscribe: str) -> bytes:
    """Outlook's JMRP-like shape: no Original-Mail-From, the return path stripped from the
    original; only the tagged mailto of List-Unsubscribe names the delivery."""
    return f"""From: staff@hotmail.com
To: {fbl_address}
Subject: complaint about message from 192.0.2.25
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b5"

--b5
Content-Type: text/plain

This is an email abuse report.

--b5
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Hotmail FBL
Version: 1

--b5
Content-Type: message/rfc822

From: Association des villes <contact@example.org>
To: <{recipient}>
Subject: La lettre des villes
List-Unsubscribe: {list_unsubscribe}

Bonjour.

--b5--
""".replace("\n", "\r\n").encode()
