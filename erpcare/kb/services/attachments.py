"""Files and images of articles, stored and checked like ticket attachments
(``ERPCARE_MAX_ATTACHMENT_BYTES``, ``ERPCARE_ATTACHMENT_TYPES``, content-addressed names).

Markdown refers to a file as ``attachment:<id>`` (``![screen](attachment:12)``);
``kb.rendering`` turns that into the scoped download URL.
"""

from __future__ import annotations

import hashlib
import mimetypes

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from erpcare.accounts.models import User
from erpcare.audit.services import record
from erpcare.core import clock
from erpcare.core.errors import ActionError
from erpcare.kb.models import Article, ArticleAttachment
from erpcare.kb.services import rules
from erpcare.kb.services.access import get_attachment_for
from erpcare.kb.services.articles import lock_article

MAX_FILES_PER_ARTICLE = 50


def _content_type(upload: UploadedFile) -> str:
    # The name decides, as for ticket files: browsers send what the OS guesses.
    guessed, _encoding = mimetypes.guess_type(upload.name or "")
    return (guessed or upload.content_type or "application/octet-stream").split(";")[0].strip()


@transaction.atomic
def add_attachment(actor: User, article: Article, upload: UploadedFile) -> ArticleAttachment:
    """Store a file on an article the actor may edit, after checking name, size and type."""
    rules.require_writer(actor)
    name = (upload.name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name:
        raise ActionError(_("The file has no name."))
    if "\x00" in name:
        raise ActionError(_("%(field)s contains a NUL character.") % {"field": _("File name")})
    size = upload.size or 0
    if size == 0:
        raise ActionError(_("The file is empty."))
    limit = settings.ERPCARE_MAX_ATTACHMENT_BYTES
    if size > limit:
        raise ActionError(
            _("The file is too large (at most %(mb).1f MB).") % {"mb": limit / 1024 / 1024}
        )
    content_type = _content_type(upload)
    if content_type not in settings.ERPCARE_ATTACHMENT_TYPES:
        raise ActionError(_("Files of type %(type)s are not accepted.") % {"type": content_type})
    article = lock_article(actor, article)
    rules.require_editor(actor, article)
    if ArticleAttachment.objects.filter(article=article).count() >= MAX_FILES_PER_ARTICLE:
        raise ActionError(_("An article has at most %(n)d files.") % {"n": MAX_FILES_PER_ARTICLE})
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    now = clock.now()
    attachment = ArticleAttachment(
        article=article,
        filename=name[:255],
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
        created_at=now,
    )
    attachment.file.save(name, upload, save=False)
    # If writing the rows fails, the stored file must not stay behind.
    stored_name = attachment.file.name or ""
    storage = attachment.file.storage
    try:
        attachment.save()
        article.updated_at = now
        article.save(update_fields=["updated_at"])
        record(
            actor=actor,
            action="kb.article.attached",
            target=article,
            data={
                "number": article.number,
                "filename": name,
                "size": size,
                "sha256": attachment.sha256,
            },
        )
    except Exception:
        storage.delete(stored_name)
        raise
    return attachment


@transaction.atomic
def remove_attachment(actor: User, article: Article, attachment_id: int | str) -> None:
    """Delete a file from an article the actor may edit. The stored file goes after
    commit, and only when no other attachment row shares it (same content)."""
    rules.require_writer(actor)
    article = lock_article(actor, article)
    rules.require_editor(actor, article)
    attachment = get_attachment_for(actor, article, attachment_id)
    stored_name = attachment.file.name or ""
    storage = attachment.file.storage
    filename, sha256 = attachment.filename, attachment.sha256
    attachment.delete()
    article.updated_at = clock.now()
    article.save(update_fields=["updated_at"])
    record(
        actor=actor,
        action="kb.article.detached",
        target=article,
        data={"number": article.number, "filename": filename, "sha256": sha256},
    )

    def _delete_file() -> None:
        if not ArticleAttachment.objects.filter(file=stored_name).exists():
            storage.delete(stored_name)

    transaction.on_commit(_delete_file)
