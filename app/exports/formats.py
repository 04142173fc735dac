"""The export formats and redaction levels: one definition for the API, the CLI and exports."""

from __future__ import annotations

from typing import Literal, get_args

ExportFormat = Literal["bundle", "graphml", "gexf", "stix", "misp", "html", "pdf"]
EXPORT_FORMATS: tuple[str, ...] = get_args(ExportFormat)

#: ``internal`` keeps what a reviewer may see; ``shareable`` masks personal data for partners.
Redaction = Literal["internal", "shareable"]
REDACTIONS: tuple[str, ...] = get_args(Redaction)
