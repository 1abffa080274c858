"""X1 (fast half): the XSS corpus through render_markdown, and what the sanitiser keeps.

The browser half (tests/browser/test_articles_xss.py) renders the same corpus in Chromium.
Each payload would log `XSS-<n>` or raise a dialog if any of it ran.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from booking.services.articles.rendering import render_markdown

# "__N__" is replaced by the payload's number, so a console marker names the payload that ran.
_PAYLOADS = [
    # script tags
    "<script>console.log('XSS-__N__');alert(__N__)</script>",
    "<SCRIPT SRC=//evil.example/xss.js></SCRIPT>",
    "<scr<script>ipt>console.log('XSS-__N__')</script>",
    "<<script>script>alert(__N__)<</script>/script>",
    "\"><script>console.log('XSS-__N__')</script>",
    "'';!--\"<XSS>=&{()}",
    # event handlers
    "<img src=x onerror=\"console.log('XSS-__N__');alert(__N__)\">",
    '<img src="/static/x.png" onerror="console.log(\'XSS-__N__\')">',
    "<body onload=\"console.log('XSS-__N__')\">",
    "<details open ontoggle=\"console.log('XSS-__N__')\">x</details>",
    "<input autofocus onfocus=\"console.log('XSS-__N__')\">",
    "<video><source onerror=\"console.log('XSS-__N__')\"></video>",
    '<a href="https://example.com" onclick="alert(__N__)">x</a>',
    "<isindex type=image src=1 onerror=alert(__N__)>",
    # SVG and MathML
    "<svg onload=\"console.log('XSS-__N__')\">",
    "<svg><script>console.log('XSS-__N__')</script></svg>",
    '<svg><a xlink:href="javascript:alert(__N__)"><text>x</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(__N__)>",
    # frames, objects, embeds
    "<iframe src=\"javascript:console.log('XSS-__N__')\"></iframe>",
    "<iframe srcdoc=\"<script>parent.console.log('XSS-__N__')</script>\"></iframe>",
    '<iframe src="data:text/html,<script>alert(__N__)</script>"></iframe>',
    "<object data=\"javascript:console.log('XSS-__N__')\"></object>",
    "<embed src=\"javascript:console.log('XSS-__N__')\">",
    # javascript:, vbscript: and data: URLs in Markdown links
    "[click me](javascript:console.log('XSS-__N__'))",
    "[click me](JaVaScRiPt:console.log('XSS-__N__'))",
    "[click me](  javascript:alert(__N__))",
    "[click me](<javascript:alert(__N__)>)",
    "[click me](&#106;avascript:alert(__N__))",
    "[click me](&#x6A;&#x61;vascript:alert(__N__))",
    "[click me](jav&#x09;ascript:alert(__N__))",
    "[click me](java%0ascript:alert(__N__))",
    "[click me](javascript&colon;alert(__N__))",
    "[click me](vbscript:msgbox(__N__))",
    "[click me](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click me](data:text/html,<script>alert(__N__)</script>)",
    '[click me](mailto:a@example.com"onclick="alert(__N__))',
    '[click me](https://example.com/"onmouseover="alert(__N__))',
    "[click me](//evil.example/xss)",
    "[click me](/\\evil.example/xss)",
    # the same in raw HTML links
    "<a href=\"javascript:console.log('XSS-__N__')\">click</a>",
    '<a href="jav&#x09;ascript:alert(__N__)">click</a>',
    '<a href="data:text/html,<script>alert(__N__)</script>">click</a>',
    # images
    "![pic](javascript:alert(__N__))",
    "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![pic" onerror="alert(__N__)](/static/x.png)',
    '![pic](/static/x.png" onerror="alert(__N__))',
    "![pic](https://evil.example/track.png)",
    # autolinks and reference-style links
    "<javascript:alert(__N__)>",
    "<vbscript:alert(__N__)>",
    "[click me][ref]\n\n[ref]: javascript:alert(__N__)",
    "[click me][ref]\n\n[ref]: &#x6A;avascript:alert(__N__)",
    '[click me][ref]\n\n[ref]: https://example.com "t" onclick="alert(__N__)"',
    # nested brackets and other malformed Markdown
    "[[click me](javascript:alert(__N__))](https://example.com)",
    "[click ![me](javascript:alert(__N__))](javascript:alert(__N__))",
    "[click me](https://example.com){onclick=alert(__N__)}",
    '[click me](/static/x.png "title\\" onmouseover=\\"alert(__N__)")',
    # HTML comments
    "<!-- --><script>console.log('XSS-__N__')</script> -->",
    '<!--<img src="--><img src=x onerror=alert(__N__)//">',
    # style and expression()
    '<style>body{background:url("javascript:alert(__N__)")}</style>',
    '<div style="width: expression(alert(__N__))">x</div>',
    # unicode tricks
    "[click me](\u2028javascript:alert(__N__))",
    "[click me](\uff4a\uff41\uff56\uff41\uff53\uff43\uff52\uff49\uff50\uff54:alert(__N__))",
    "\u202e<script>console.log('XSS-__N__')</script>",
    "<scr\u0131pt>console.log('XSS-__N__')</scr\u0131pt>",
    # meta refresh, base href, form action
    '<meta http-equiv="refresh" content="0;url=javascript:alert(__N__)">',
    '<base href="javascript:alert(__N__)//">',
    '<form action="javascript:alert(__N__)"><button>go</button></form>',
    # containers that change parsing
    "<xmp><script>console.log('XSS-__N__')</script></xmp>",
    '<noscript><p title="</noscript><img src=x onerror=alert(__N__)>">',
    "<template><script>console.log('XSS-__N__')</script></template>",
    # code spans, fences and tables keep payloads as text
    "`<script>console.log('XSS-__N__')</script>`",
    "```html\n<script>console.log('XSS-__N__')</script>\n```",
    "| a |\n|---|\n| <img src=x onerror=alert(__N__)> |",
    "| a |\n|---|\n| [click me](javascript:alert(__N__)) |",
    "javascript:alert(__N__)",
]
PAYLOADS = [payload.replace("__N__", str(n)) for n, payload in enumerate(_PAYLOADS, start=1)]

ALLOWED = {
    "h2": set(),
    "h3": set(),
    "h4": set(),
    "p": set(),
    "ul": set(),
    "ol": set(),
    "li": set(),
    "strong": set(),
    "em": set(),
    "a": {"href", "title", "rel"},
    "div": {"role", "aria-label", "tabindex"},  # the scrolling region around a table
    "table": set(),
    "thead": set(),
    "tbody": set(),
    "tr": set(),
    "th": {"scope"},
    "td": set(),
    "blockquote": set(),
    "code": set(),
    "pre": set(),
    "img": {"src", "alt"},
    "br": set(),
    "hr": set(),
}


class _Elements(HTMLParser):
    """Every start tag and its attributes, as a browser's tokenizer would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def _url_is_safe(url: str) -> bool:
    lowered = "".join(url.split()).lower()
    if lowered.startswith(("https://", "http://", "mailto:", "#")):
        return True
    return lowered.startswith("/") and not lowered.startswith(("//", "/\\"))


def test_the_corpus_has_at_least_50_payloads() -> None:
    assert len(PAYLOADS) >= 50
    assert len(set(PAYLOADS)) == len(PAYLOADS)


@pytest.mark.matrix("X1")
@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"xss-{n}" for n in range(1, len(PAYLOADS) + 1)])
def test_each_payload_is_escaped_or_removed_by_the_sanitiser(payload: str) -> None:
    html = render_markdown(payload)
    for tag, attrs in elements(html):
        assert tag in ALLOWED, html
        assert set(attrs) - {"class"} <= ALLOWED[tag], html
        if "href" in attrs:
            assert _url_is_safe(attrs["href"] or ""), html
        if tag == "img":
            assert (attrs.get("src") or "").startswith("/static/"), html
    # Whatever survives as text is shown, never parsed: no raw "<" reaches the page.
    text_only = re.sub(r"<[^>]+>", "", html)
    assert "<" not in text_only, html


def test_raw_html_shows_as_text() -> None:
    html = render_markdown("<script>alert(1)</script> and <b>bold</b>")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        # links keep http(s) and mailto, gain rel and the GOV.UK class
        ("[NHS](https://www.nhs.uk/)", 'href="https://www.nhs.uk/"'),
        ("[NHS](https://www.nhs.uk/)", 'rel="noopener noreferrer"'),
        ("[NHS](https://www.nhs.uk/)", 'class="govuk-link"'),
        ("[mail](mailto:a@example.com)", 'href="mailto:a@example.com"'),
        ('[t](https://example.com "Example")', 'title="Example"'),
        # a same-site path is kept
        ("[book](/book?type=follow-up-acupuncture)", 'href="/book?type=follow-up-acupuncture"'),
        # images only from our static path
        ("![Cups on a back](/static/images/cups.png)", 'src="/static/images/cups.png"'),
        # emphasis, lists, quotes and tables survive with GOV.UK classes
        ("**strong** *em*", "<strong>strong</strong> <em>em</em>"),
        ("- one\n- two", '<ul class="govuk-list govuk-list--bullet">'),
        ("1. one\n2. two", '<ol class="govuk-list govuk-list--number">'),
        ("> quoted", '<blockquote class="govuk-inset-text">'),
        ("| a |\n|---|\n| b |", 'scope="col"'),  # attribute order varies between runs
        ("| a |\n|---|\n| b |", 'class="govuk-table__header"'),
        ("| a |\n|---|\n| b |", '<div class="meridian-table-scroll" role="region"'),
        ("```\ncode\n```", "<pre><code>code\n</code></pre>"),
    ],
)
def test_the_allowlist_keeps_safe_markup(markdown: str, expected: str) -> None:
    assert expected in render_markdown(markdown)


@pytest.mark.parametrize(
    ("markdown", "levels"),
    [
        ("# Title in the body\n\n## Part", ["h2", "h2"]),  # an h1 is demoted to h2
        ("### Too deep first", ["h2"]),  # the first body heading is h2
        ("## A\n\n#### Skips a level\n\n## B", ["h2", "h3", "h2"]),  # no level is skipped
        ("## A\n\n### B\n\n#### C\n\n###### F", ["h2", "h3", "h4", "h4"]),  # h4 is the deepest
    ],
)
def test_body_headings_start_at_h2_and_never_skip(markdown: str, levels: list[str]) -> None:
    assert re.findall(r"<(h\d)", render_markdown(markdown)) == levels


def test_off_site_images_become_their_text() -> None:
    html = render_markdown("![A tracking pixel](https://evil.example/p.png)")
    assert "<img" not in html
    assert "A tracking pixel" in html


ROOT = Path(__file__).resolve().parents[2]
# security.md §4: `|safe` only on an allowlist. A new one must be added here, with a reason.
SAFE_ALLOWLIST = {
    # render_markdown's output, cleaned by nh3 (booking/services/articles/rendering.py)
    ("templates/articles/show.html", "body_html | safe"),
    # segno's SVG of the enrolment QR code: built from our own otpauth URI, no page input
    # (booking/auth/two_step_views.py)
    ("templates/auth/two_step_setup.html", "qr_svg | safe"),
    # the plan pages' outcome chart (practitioner, patient, reception: booking/plan_pages.py):
    # SVG built by booking/domain/plans/chart.py from numbers and dates, every text in it
    # passed through html.escape
    ("booking/plan_pages.py", "Markup("),
    # kept fragments (booking/fragments.py): the output of an autoescaped template, kept
    ("booking/fragments.py", "Markup("),
    # the day sheet's rows (booking/reception/day_sheet.py): kept fragments joined, and the
    # CSRF field built by Markup.format, which escapes the field's name and token
    ("booking/reception/day_sheet.py", "Markup("),
}
_MARKED_SAFE = re.compile(r"[\w.]+\s*\|\s*safe\b|Markup\(|autoescape\s+false|\|\s*unescape")


@pytest.mark.matrix("X1")
def test_no_new_safe_markers_in_templates_or_code() -> None:
    found = set()
    for folder, pattern in (("templates", "*.html"), ("booking", "*.py")):
        for path in sorted((ROOT / folder).rglob(pattern)):
            text = path.read_text(encoding="utf-8")
            for match in _MARKED_SAFE.finditer(text):
                line = text[text.rfind("\n", 0, match.start()) + 1 : text.find("\n", match.end())]
                if line.strip().startswith(("{#", "#", '"""')):
                    continue  # a comment or docstring mentioning it
                found.add((str(path.relative_to(ROOT)), " ".join(match.group(0).split())))
    assert found <= SAFE_ALLOWLIST, found - SAFE_ALLOWLIST
