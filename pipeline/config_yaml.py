"""Reading the YAML files people write: the archive's retrodig.yaml and the files of configs/."""

from __future__ import annotations

import io
from pathlib import Path

import yaml

from .errors import UsageError


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice in one mapping. PyYAML keeps the last value without a
    word (YAML 1.2 forbids the repeat): a `search:` section written twice, the second one left over from an
    example, silently replaced the first."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) or key is None:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping", node.start_mark, f"the key {key!r} is given twice",
                        key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


def load_yaml(text: str, name: str | None = None):
    """`yaml.safe_load(text)`, a key given twice in one mapping being an error (a yaml.YAMLError); its messages
    name the file `name` where they said "<unicode string>"."""
    stream = io.StringIO(text)
    stream.name = name or "<text>"
    return yaml.load(stream, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader


def read_yaml_file(path: Path, what: str):
    """The YAML in the file at `path` (`load_yaml`); what cannot be read or parsed is a UsageError naming the file
    and `what` it holds ("the redaction rules")."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read {what}: {exc}") from exc
    try:
        return load_yaml(text, str(path))
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from exc
