"""Article Markdown: sanitised, with images only from the article's own files."""

from __future__ import annotations

from erpcare.kb.rendering import referenced_attachment_ids, render_article_markdown


def render(text, ids=(12,)):
    return render_article_markdown(
        text, attachment_ids=ids, attachment_url=lambda pk: f"/kb/files/{pk}"
    )


def test_own_images_and_files_point_at_the_scoped_download():
    html = render("![screen](attachment:12) [log](attachment:12)")
    assert '<img src="/kb/files/12" alt="screen">' in html
    assert '<a href="/kb/files/12" rel="noopener noreferrer nofollow">log</a>' in html


def test_other_files_and_remote_images_are_not_shown_inline():
    html = render("![x](attachment:13) ![r](https://tracker.example/p.png) [f](attachment:14)")
    assert "<img" not in html
    assert "/kb/files/13" not in html
    assert "/kb/files/14" not in html
    assert 'href="https://tracker.example/p.png"' in html


def test_scripts_and_dangerous_links_are_removed():
    html = render("<script>alert(1)</script> [js](javascript:alert(1)) <img src=x onerror=y>")
    assert "<script" not in html
    assert 'href="javascript' not in html
    assert "onerror" not in html.replace("onerror=y&gt;", "")


def test_referenced_ids():
    assert referenced_attachment_ids("![a](attachment:3) and attachment:44x") == {3, 44}
