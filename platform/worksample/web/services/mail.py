"""Email: SMTP when configured; otherwise the outbox page and the log."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from sqlmodel import Session, col, select
from worksample.db import OutboxMail
from worksample.settings import Settings
from worksample.web.text import header_safe

log = logging.getLogger("worksample.mail")


SECRET_SENT = "[personal link: sent by email, not kept]"


def send_mail(
    session: Session,
    *,
    settings: Settings,
    org_id: int,
    to: str,
    subject: str,
    body: str,
    secret: str | None = None,
) -> OutboxMail:
    """Send (or keep in the outbox) one email, and record it.

    `secret` (a magic link) stays in the recorded copy only while the mail is
    undelivered, where staff need it to pass the link on themselves; once the
    SMTP server took the mail, the database keeps no usable link."""
    mail = OutboxMail(org_id=org_id, to=to, subject=subject, body=body, status="outbox")
    if settings.smtp_host:
        message = EmailMessage()
        # Input is checked for line breaks; rows from before that check are not.
        message["From"] = header_safe(settings.mail_from)
        message["To"] = header_safe(to)
        message["Subject"] = header_safe(subject)
        message.set_content(body)
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_username and settings.smtp_password:
                    smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
                smtp.send_message(message)
            mail.status = "sent"
            if secret:
                mail.body = body.replace(secret, SECRET_SENT)
        except (OSError, smtplib.SMTPException) as exc:
            mail.status = "failed"
            mail.error = str(exc)[:500]
            log.warning("mail to %s failed: %s", to, exc)
    else:
        log.info("outbox (no SMTP configured): to=%s subject=%s\n%s", to, subject, body)
    session.add(mail)
    return mail


def list_outbox(session: Session, *, org_id: int) -> list[OutboxMail]:
    query = (
        select(OutboxMail).where(OutboxMail.org_id == org_id).order_by(col(OutboxMail.id).desc())
    )
    return list(session.exec(query))
