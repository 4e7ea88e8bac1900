"""The report as one self-contained HTML page (inline CSS and SVG charts, no network), and as JSON."""

from __future__ import annotations

import dataclasses
import io
import json
import re
from html import escape

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bot.report.data import ReportData  # noqa: E402
from bot.report.groups import Group  # noqa: E402

TOP_TOPICS = 6
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;padding:0 12px;color:#1b1b1b;line-height:1.45}
main{max-width:900px;margin:0 auto}
h1{font-size:1.5em}h2{margin-top:1.8em;border-bottom:2px solid #0b5394;padding-bottom:4px}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
th,td{text-align:left;padding:6px;border-bottom:1px solid #ddd;vertical-align:top;word-break:break-word}
td.n,th.n{text-align:right}td.n{white-space:nowrap}
@media (max-width:480px){th,td{padding:4px 3px}body{font-size:15px}}
.group{border:1px solid #ccc;border-radius:8px;padding:8px 12px;margin:12px 0}
.group h3{margin:4px 0}.new{color:#a33}.add{color:#2a6}
.muted{color:#666;font-size:.9em}.chart svg{width:100%;height:auto}
ul{padding-left:1.2em}
"""


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{round(100 * share)}%"


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)  # creator and date: not needed
    svg = re.sub(r'<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"', r'<svg\1 width="100%"', svg, count=1)
    return f'<div class="chart">{svg}</div>'


def _bar_chart(values: dict[str, int], title: str, horizontal: bool = False) -> str:
    if not values:
        return '<p class="muted">No data in this period.</p>'
    labels, counts = list(values), list(values.values())
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.35 * len(labels)) if horizontal else 3))
    if horizontal:
        ax.barh(labels[::-1], counts[::-1], color="#0b5394")
    else:
        ax.bar(labels, counts, color="#0b5394")
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _topics_chart(topic_per_day: dict[str, dict[str, int]]) -> str:
    if not topic_per_day:
        return '<p class="muted">No data in this period.</p>'
    totals: dict[str, int] = {}
    for counts in topic_per_day.values():
        for topic, count in counts.items():
            totals[topic] = totals.get(topic, 0) + count
    top = sorted(totals, key=lambda t: -totals[t])[:TOP_TOPICS]
    days = list(topic_per_day)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    bottom = [0] * len(days)
    series = [(topic, [topic_per_day[d].get(topic, 0) for d in days]) for topic in top]
    others = [sum(c for t, c in topic_per_day[d].items() if t not in top) for d in days]
    if any(others):
        series.append(("other", others))
    for topic, counts in series:
        ax.bar(days, counts, bottom=bottom, label=topic)
        bottom = [b + c for b, c in zip(bottom, counts)]
    ax.set_title("Messages per day, by topic")
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend(fontsize="small", frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig)


def _table(headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    if not rows:
        return '<p class="muted">None.</p>'
    head = "".join(f'<th{" class=n" if i in numeric else ""}>{escape(h)}</th>' for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{escape(str(v))}</td>'
                                    for i, v in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _group(group: Group) -> str:
    languages = ", ".join(f"{escape(lang)} ({count})" for lang, count in group.languages.items())
    examples = "".join(f"<li>{escape(text)}</li>" for text in group.examples)
    nearest = (f"{escape(group.nearest_title or '')} (<code>{escape(group.nearest_entry)}</code>, "
               f"similarity {group.nearest_score:.2f})" if group.nearest_entry else "none")
    css = "new" if group.new_entry else "add"
    hint = (f'<p class="muted">To start the entry: <code>wegwijs kb new --from-group {group.number}</code></p>'
            if group.new_entry else "")
    return (f'<div class="group"><h3>{group.number}. {escape(group.examples[0])}</h3>'
            f"<p>{group.size} message{'s' if group.size != 1 else ''} · languages: {languages}</p>"
            f"<ul>{examples}</ul><p>Closest entry: {nearest}</p>"
            f'<p class="{css}"><strong>Suggestion:</strong> {escape(group.suggestion)}</p>{hint}</div>')


def render(data: ReportData, groups: list[Group]) -> str:
    period = f"{data.since or 'the first message'} to {data.until or 'today'}"
    reply_rows = [[bucket, t.handovers, t.replied,
                   "n/a" if t.median_minutes is None else f"{t.median_minutes:g} min",
                   "n/a" if t.p90_minutes is None else f"{t.p90_minutes:g} min"]
                  for bucket, t in data.reply_times.items()]
    desk = data.desk_hours
    desk_text = ("The desk's opening hours are confirmed." if desk.get("known") else
                 "The desk's opening hours are NOT confirmed (desk-hours.yaml: verified is false or "
                 "no weekly hours): newcomers are told the hours are unknown.")
    parts = [
        f"<h1>Wegwijs report</h1><p>Period: {escape(period)} (days in UTC). Generated {escape(data.generated_at)}.</p>",
        "<p>"
        f"<strong>{data.messages}</strong> messages in <strong>{data.conversations}</strong> conversations. "
        f"Questions answered by the assistant: <strong>{_percent(data.share_answered)}</strong> "
        f"({data.questions_answered} of {data.questions}). "
        f"Conversations without a volunteer: <strong>{_percent(data.share_without_volunteer)}</strong>.</p>",
        "<h2>What we could not answer</h2>",
        f"<p>{len(data.unanswered)} messages the assistant could not answer (no answer, a clarifying "
        "question nobody chose from, a request for a volunteer, or an answer marked “did not help”), "
        "grouped by meaning, largest group first. Numbers, e-mail addresses, postcodes and names are hidden.</p>",
        "".join(_group(group) for group in groups) or '<p class="muted">Nothing: every question was answered.</p>',
        "<h2>Volumes</h2>",
        _topics_chart(data.topic_per_day),
        _table(["Topic", "Messages"], [[t, c] for t, c in data.per_topic.items()], {1}),
        _bar_chart(data.per_language, "Messages by language", horizontal=True),
        _table(["Language", "Messages"], [[lang, c] for lang, c in data.per_language.items()], {1}),
        _bar_chart(data.handovers_per_day, "Handovers to a volunteer per day"),
        "<h3>Time to a volunteer's first reply</h3>",
        _table(["When asked", "Handovers", "Replied", "Median", "90% within"], reply_rows, {1, 2, 3, 4}),
        "<h3>Did this help?</h3>",
        _table(["Entry", "Yes", "No"], [[f"{f.title} ({f.entry})", f.yes, f.no] for f in data.feedback], {1, 2}),
        "<h2>Knowledge health</h2>",
        f"<p>{escape(desk_text)}</p>",
        "<h3>Past their review date</h3>",
        _table(["Entry", "Review by"], [[f"{e['title']} ({e['id']})", e["review_by"]] for e in data.overdue]),
        "<h3>With unverified statements</h3>",
        _table(["Entry", "Not confirmed by the sources"],
               [[f"{e['title']} ({e['id']})", "; ".join(e["statements"])] for e in data.unverified]),
        "<h3>Never given as an answer in this period</h3>",
        _table(["Entry", "Topic"], [[f"{e['title']} ({e['id']})", e["topic"]] for e in data.never_answered]),
        '<p class="muted">Messages include button presses. Counts of days whose messages were '
        "erased after the retention period come from the kept daily totals.</p>",
    ]
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>Wegwijs report</title><style>{CSS}</style></head><body><main>"
            + "\n".join(parts) + "</main></body></html>\n")


def as_json(data: ReportData, groups: list[Group]) -> str:
    report = dataclasses.asdict(data)
    report["share_answered"] = data.share_answered
    report["share_without_volunteer"] = data.share_without_volunteer
    report["groups"] = [dict(dataclasses.asdict(g), new_entry=g.new_entry) for g in groups]
    return json.dumps(report, ensure_ascii=False, indent=2, default=str)
