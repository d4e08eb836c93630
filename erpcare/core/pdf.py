"""HTML templates printed to PDF with WeasyPrint, offline.

The same templates that render a page render its PDF; a document template only adds the
print style sheet. WeasyPrint would fetch whatever a document references (images, style
sheets, fonts by URL): ours reference nothing, and the fetcher refuses every scheme but
``data:`` (no http, https, ftp or file), so that text a user typed can never make the
server reach the network or read a file. Fonts come from fontconfig: Debian's
``fonts-noto-cjk`` gives Chinese its glyphs.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import override

from erpcare.core.errors import ActionError

log = logging.getLogger(__name__)

PDF_CONTENT_TYPE = "application/pdf"


class PdfUnavailable(ActionError):
    """WeasyPrint or the system libraries it needs (Pango) are not installed (HTTP 503)."""

    status_code = 503


def _weasyprint() -> Any:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the Pango libraries are missing
        raise PdfUnavailable(
            _("PDF output is not available on this server: %(reason)s") % {"reason": exc}
        ) from exc
    return weasyprint


def html_to_pdf(html: str) -> bytes:
    """The PDF of a complete HTML document (its own style sheet inline)."""
    weasyprint = _weasyprint()
    started = time.perf_counter()
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    pdf = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf()
    log.debug("PDF of %d characters in %.0f ms", len(html), (time.perf_counter() - started) * 1e3)
    return bytes(pdf)


def render_pdf(template_name: str, context: dict[str, Any], *, language: str) -> bytes:
    """Render the template in ``language`` and print it."""
    with override(language):
        html = render_to_string(template_name, context)
    return html_to_pdf(html)
