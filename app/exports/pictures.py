"""SVG pictures for the report: the cluster graph and the activity timeline (no plotting
library: a few dozen SVG elements, deterministic, and embeddable in HTML and PDF)."""

from __future__ import annotations

from html import escape

from app.exports.evidence import Evidence
from app.exports.layout import positions

MAX_NODES = 150
_COLOURS = {
    "payment": "#c0392b",
    "network": "#2471a3",
    "timing": "#7d3c98",
    "prompts": "#d68910",
    "identity": "#1e8449",
}


def graph_svg(ev: Evidence, size: int = 520) -> str:
    """Members (the strongest MAX_NODES) and their edges, coloured by strongest family, with
    the shared values they hold as diamonds (the layout of app.exports.layout: the cluster's
    groups around their cards, devices and IPs, not islands of stored edges)."""
    top = sorted(ev.members, key=lambda m: -m["strength"])[:MAX_NODES]
    keep = {m["account"] for m in top}
    edges = []
    for e in ev.edges:
        if e["source"] in keep and e["target"] in keep:
            fam = max(e["families"], key=e["families"].get) if e["families"] else "network"
            edges.append((e["source"], e["target"], fam, float(e["weight"])))
    hubs: list[tuple[str, str, list[str]]] = []
    for h in ev.hubs:
        holders = [a for a in h["members"] if a in keep]
        if len(holders) >= 2:
            hubs.append((f"hub:{len(hubs)}", h["family"], holders))
    ids = sorted(keep)
    index = {a: i for i, a in enumerate(ids)}
    for hub, _, _ in hubs:
        index[hub] = len(index)
    links = [(index[a], index[b], w) for a, b, _, w in edges]
    links += [(index[hub], index[a], 0.5) for hub, _, holders in hubs for a in holders]
    at = positions(len(index), links)
    pad = 20
    pos = {a: at[i] for a, i in index.items()}

    def xy(p: tuple[float, float]) -> tuple[float, float]:
        # the bottom 20 px hold the legend
        return pad + p[0] * (size - 2 * pad), pad + p[1] * (size - 2 * pad - 20)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        f'viewBox="0 0 {size} {size}"><rect width="100%" height="100%" fill="#ffffff"/>'
    ]
    for hub, _, holders in hubs:
        hx, hy = xy(pos[hub])
        for a in holders:
            x, y = xy(pos[a])
            parts.append(
                f'<line x1="{hx:.1f}" y1="{hy:.1f}" x2="{x:.1f}" y2="{y:.1f}" '
                'stroke="#b8bec9" stroke-width="0.6" stroke-opacity="0.5"/>'
            )
    for a, b, fam, _w in edges:
        (x1, y1), (x2, y2) = xy(pos[a]), xy(pos[b])
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{_COLOURS.get(fam, "#888888")}" stroke-width="1" stroke-opacity="0.6"/>'
        )
    for hub, fam, _ in hubs:
        x, y = xy(pos[hub])
        parts.append(
            f'<polygon points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} '
            f'{x - 6:.1f},{y:.1f}" fill="{_COLOURS.get(fam, "#888888")}"/>'
        )
    for n in ids:
        x, y = xy(pos[n])
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1d2330"/>')
    ly = size - 8
    lx = pad
    for fam, colour in _COLOURS.items():
        parts.append(
            f'<rect x="{lx}" y="{ly - 8}" width="10" height="8" fill="{colour}"/>'
            f'<text x="{lx + 13}" y="{ly}" font-size="10" font-family="Helvetica">'
            f"{escape(fam)}</text>"
        )
        lx += 80
    # the diamond drawn, not a glyph: the PDF's core fonts have no diamond
    parts.append(
        f'<polygon points="{lx + 5},{ly - 10} {lx + 10},{ly - 5} {lx + 5},{ly} {lx},{ly - 5}" '
        f'fill="#888888"/><text x="{lx + 13}" y="{ly}" font-size="10" '
        'font-family="Helvetica">shared value</text></svg>'
    )
    return "".join(parts)


def timeline_svg(ev: Evidence, width: int = 640, height: int = 200) -> str:
    """Sign-ups (dark) and requests (light, own scale) per day."""
    tl = ev.explanation.get("timeline") or {}
    signups: dict[str, int] = tl.get("signups_per_day", {})
    requests: dict[str, int] = tl.get("requests_per_day", {})
    days = sorted(set(signups) | set(requests))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><rect width="100%" height="100%" fill="#ffffff"/>'
    ]
    if days:
        left, bottom, top = 40, height - 30, 20
        step = (width - left - 10) / len(days)
        smax = max(signups.values(), default=1) or 1
        rmax = max(requests.values(), default=1) or 1
        for i, d in enumerate(days):
            x = left + i * step
            rh = (bottom - top) * requests.get(d, 0) / rmax
            sh = (bottom - top) * signups.get(d, 0) / smax
            parts.append(
                f'<rect x="{x:.1f}" y="{bottom - rh:.1f}" width="{step * 0.45:.1f}" '
                f'height="{rh:.1f}" fill="#aed6f1"/>'
                f'<rect x="{x + step * 0.45:.1f}" y="{bottom - sh:.1f}" '
                f'width="{step * 0.45:.1f}" height="{sh:.1f}" fill="#1d2330"/>'
            )
            if i % max(1, len(days) // 8) == 0:
                parts.append(
                    f'<text x="{x:.1f}" y="{height - 12}" font-size="9" '
                    f'font-family="Helvetica">{escape(d[5:])}</text>'
                )
        parts.append(
            f'<text x="{left}" y="12" font-size="10" font-family="Helvetica">requests per day '
            f"(light, max {rmax:,}) and sign-ups per day (dark, max {smax:,})</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
