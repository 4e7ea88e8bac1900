"""The staff report: what the assistant could not answer, volumes, and knowledge health.

`wegwijs report` = data.collect -> groups.group_unanswered -> html.render (or html.as_json);
`wegwijs kb new --from-group N` = new_entry.new_entry_from_group.
"""
