"""Read YAML while keeping the line number of every key, so errors can point at a line."""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml


@dataclass
class Located:
    """A parsed YAML value plus the 1-based line of each of its keys (for mappings)."""

    value: object
    line: int
    key_lines: dict = field(default_factory=dict)
    children: dict = field(default_factory=dict)

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)

    def child(self, key) -> "Located":
        return self.children.get(key, Located(None, self.line_of(key)))


class YamlSyntaxError(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


# libyaml's parser (PyYAML's C extension) reads the knowledge base about five times faster:
# every worker and test that opens the knowledge base reads all of it.
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_located(text: str) -> Located:
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise YamlSyntaxError(mark.line + 1 if mark else 1, problem) from error
    if node is None:
        return Located(None, 1)
    return _locate(node)


def _locate(node: yaml.Node) -> Located:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        located = Located({}, line)
        for key_node, value_node in node.value:
            key = yaml.SafeLoader("").construct_object(key_node, deep=True)
            child = _locate(value_node)
            located.value[key] = child.value
            located.key_lines[key] = key_node.start_mark.line + 1
            located.children[key] = child
        return located
    if isinstance(node, yaml.SequenceNode):
        items = [_locate(item) for item in node.value]
        return Located([item.value for item in items], line,
                       key_lines={i: item.line for i, item in enumerate(items)},
                       children=dict(enumerate(items)))
    return Located(yaml.SafeLoader("").construct_object(node, deep=True), line)
