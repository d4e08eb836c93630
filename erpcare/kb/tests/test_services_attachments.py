"""Article files follow the ticket attachment rules, and only readers of the article can
fetch them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from erpcare.audit.models import AuditEntry
from erpcare.core.errors import ActionError, NotAllowed, NotFound
from erpcare.kb import services
from erpcare.kb.models import ArticleAttachment
from erpcare.tickets.tests.helpers import state_checks

pytestmark = pytest.mark.django_db

db_state, refused = state_checks(ArticleAttachment, AuditEntry)

PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 32


def upload(name="screen.png", content=PNG, content_type="image/png"):
    return SimpleUploadedFile(name, content, content_type)


def test_an_editor_adds_an_image_that_readers_fetch(cast, library):
    image = services.add_attachment(cast.eric, library.acme_only, upload())
    assert (image.filename, image.content_type, image.size) == ("screen.png", "image/png", 40)
    assert image.is_image
    assert image.file.read() == PNG
    assert services.get_attachment_for(cast.alice, library.acme_only, image.pk) == image
    assert services.get_attachment_for(cast.alice, library.acme_only, str(image.pk)) == image
    assert list(services.attachments_of(library.acme_only)) == [image]
    assert AuditEntry.objects.filter(action="kb.article.attached").count() == 1


def test_files_are_scoped_like_their_article(cast, library):
    image = services.add_attachment(cast.eric, library.acme_only, upload())
    other = services.add_attachment(cast.eric, library.public, upload("b.png"))
    with pytest.raises(NotFound, match="Attachment not found"):
        services.get_attachment_for(cast.bob, library.acme_only, image.pk)
    with pytest.raises(NotFound, match="Attachment not found"):  # a file of another article
        services.get_attachment_for(cast.alice, library.acme_only, other.pk)
    for bad in ("x", "-1", "9" * 30, ""):
        with pytest.raises(NotFound):
            services.get_attachment_for(cast.alice, library.acme_only, bad)


def test_bad_files_are_refused(cast, library, settings):
    settings.ERPCARE_MAX_ATTACHMENT_BYTES = 100
    with refused(ActionError, "too large"):
        services.add_attachment(cast.eric, library.draft, upload(content=b"x" * 101))
    with refused(ActionError, "empty"):
        services.add_attachment(cast.eric, library.draft, upload(content=b""))
    with refused(ActionError, "not accepted"):
        services.add_attachment(cast.eric, library.draft, upload("run.exe", b"MZ", "x/y"))
    with refused(NotAllowed, "."):
        services.add_attachment(cast.alice, library.public, upload())
    with refused(NotAllowed, "restore it first"):
        services.add_attachment(cast.mona, library.archived, upload())


def test_an_editor_removes_a_file(cast, library, django_capture_on_commit_callbacks):
    image = services.add_attachment(cast.lina, library.draft, upload())
    storage, name = image.file.storage, image.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_attachment(cast.lina, library.draft, image.pk)
    assert not ArticleAttachment.objects.exists()
    assert not storage.exists(name)
    with refused(NotFound, "Attachment not found"):
        services.remove_attachment(cast.lina, library.draft, image.pk)
