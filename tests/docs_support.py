"""What the docs tests read from the Markdown: code blocks, their marks, magic lines, links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<why>[^>]*?)\s*-->\s*$")
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)\s*$")


def pages() -> list[Path]:
    """The README, CONTRIBUTING.md and every Markdown page in docs/."""
    return [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    """One fenced code block: its page, first line number, language, text and why it is not run."""

    page: Path
    line: int
    lang: str
    code: str
    not_run: str | None

    @property
    def where(self) -> str:
        """``docs/page.md:LINE`` for messages."""
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of ``page``, each with the ``<!-- not run: ... -->`` mark before."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        start, body = i, []
        i += 1
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        mark = NOT_RUN.match(before.strip())
        found.append(Block(page, start + 2, match.group("lang"), "\n".join(body) + "\n",
                           mark.group("why") if mark else None))
        i += 1
    return found


def magic_lines(page: Path) -> list[tuple[Block, str]]:
    """Every ``%exalsius`` and ``%%exalsius`` line of the page's code blocks."""
    return [(block, line.strip()) for block in blocks(page)
            for line in block.code.splitlines()
            if re.match(r"^\s*(\w+\s*=\s*)?%%?exalsius\b", line)]


def inline_magics(page: Path) -> list[str]:
    """Every inline code span of the page's prose that is a whole ``%exalsius ...`` line."""
    text = page.read_text(encoding="utf-8")
    prose = re.sub(r"(?ms)^```.*?^```", "", text)
    return [span.strip() for span in re.findall(r"`(%exalsius [^`]+)`", prose)]
