# Artifacts (KFP's `dsl.Artifact`, `Dataset`, `Model`, `Metrics`, ... and `Input[...]`,
# `Output[...]`).
#
# This file is used twice: imported by the DSL on the host (for the annotations), and copied
# verbatim into every generated component (app.py), where the wrapper builds the objects from
# the WIT `artifact` records. Keep it self-contained: standard library only.
from typing import Annotated as _WpAnnotated, TypeVar as _WpTypeVar


class Artifact:
    """A file (or directory) passed between tasks, with metadata (KFP's `dsl.Artifact`).

    In a component, an input artifact has `.path` (where to read it, `/in/<input>`), `.name`
    and `.metadata` (what the producing task set); an output artifact has `.path` (where to
    write it, `/out/<output>`) and `.metadata`, a dict the function may fill. `.uri` is the
    same as `.path`."""

    schema_title = "system.Artifact"

    def __init__(self, name=None, uri=None, metadata=None):
        self.name = name or ""
        self.uri = uri or ""
        self.metadata = dict(metadata or {})

    @property
    def path(self):
        return self.uri

    @path.setter
    def path(self, path):
        self.uri = path

    def __repr__(self):
        return (f"{type(self).__name__}(name={self.name!r}, uri={self.uri!r}, "
                f"metadata={self.metadata!r})")


class Dataset(Artifact):
    schema_title = "system.Dataset"


class Model(Artifact):
    schema_title = "system.Model"

    @property
    def framework(self):
        return self.metadata.get("framework", "")

    @framework.setter
    def framework(self, framework):
        self.metadata["framework"] = framework


class Metrics(Artifact):
    schema_title = "system.Metrics"

    def log_metric(self, metric, value):
        """Sets `metadata[metric] = value` (KFP's `Metrics.log_metric`)."""
        self.metadata[metric] = value


class HTML(Artifact):
    schema_title = "system.HTML"


class Markdown(Artifact):
    schema_title = "system.Markdown"


class _WpInputAnnotation:
    """Marks an input artifact: `Input[Dataset]`."""


class _WpOutputAnnotation:
    """Marks an output artifact: `Output[Model]`."""


_WpT = _WpTypeVar("_WpT")
Input = _WpAnnotated[_WpT, _WpInputAnnotation]     # Input[Dataset]: an input artifact
Output = _WpAnnotated[_WpT, _WpOutputAnnotation]   # Output[Model]: an output artifact
_WP_ARTIFACT_KINDS = {c.__name__: c for c in (Artifact, Dataset, Model, Metrics, HTML, Markdown)}


class _WpPathAnnotation:
    """KFP's `InputPath(type)` / `OutputPath(type)`: the function gets a path (a str) instead of
    the value or artifact object. `type` is an artifact class or its name (`'Dataset'`; an
    unknown name is an `Artifact`, as in KFP), or a value type (`str`, `int`, `Dict[str, int]`,
    `'String'`, ...); none means an `Artifact`."""

    def __init__(self, type=None):
        self.type = type

    def __eq__(self, other):
        return type(other) is type(self) and self.type == other.type

    def __hash__(self):
        return hash((type(self).__name__, repr(self.type)))

    def __repr__(self):
        return f"{type(self).__name__}({getattr(self.type, '__name__', self.type)!r})"


class InputPath(_WpPathAnnotation):
    """`x: InputPath('Dataset')`: the path of an input artifact (`/in/x`); `InputPath(str)`: the
    path of a file holding the input value."""


class OutputPath(_WpPathAnnotation):
    """`x: OutputPath('Dataset')`: where to write an output artifact (`/out/x`);
    `OutputPath(int)`: where to write an output value, read back by its type when the function
    returns (an int, float or bool as text, `True`/`true`; a list or dict as JSON)."""


def get_uri(suffix="Output"):
    """KFP's `dsl.get_uri`: inside a component, where to write the artifact it returns (`-> Dataset`)
    or its output `suffix` (a NamedTuple field): `/out/output` for KFP's `Output`, else
    `/out/<suffix>`. The wrapper moves a returned artifact written elsewhere in `/out` to its
    place."""
    if "_WP_SPEC" not in globals():  # defined in the generated app.py only
        raise RuntimeError("dsl.get_uri can only be called inside a component, when it runs")
    return "/out/" + ("output" if suffix in ("Output", "", None) else str(suffix))
