"""wasmpipe's pipeline DSL, spelled like KFP's `kfp.dsl`.

    from wasmpipe import dsl

    @dsl.component
    def print_op(message: str):
        print(message)

    @dsl.pipeline(name='pipeline-with-exit-handler')
    def pipeline_exit_handler(message: str = 'Hello World!'):
        exit_task = print_op(message='Exit handler has worked!')
        with dsl.ExitHandler(exit_task):
            print_op(message=message)

Calling a component inside a pipeline function creates a task; the pipeline function runs once,
when the pipeline is compiled (`wasmpipe.compile`), and records tasks and groups. Mistakes are
reported then, as `DSLError`s naming the task.
"""
import inspect
import math
import re
import typing
import warnings
from typing import Any, Dict, List, Optional, Union

from . import _types
from ._artifacts import (_WP_ARTIFACT_KINDS, HTML, Artifact, Dataset, Input, InputPath, Markdown,
                         Metrics, Model, Output, OutputPath, get_uri)
from ._component import Component, DSLError, InputSpec, checked_default, component
from ._external import ConcatPlaceholder, ContainerSpec, ExternalComponent, container_component
from ._status import PipelineTaskFinalStatus, TaskFailure
from ._types import _Unsupported

__all__ = [
    "component", "pipeline", "Component", "Pipeline", "PipelineTask", "PipelineChannel",
    "ExitHandler", "If", "Elif", "Else", "Condition", "ParallelFor", "Collected",
    "PipelineTaskFinalStatus", "TaskFailure", "DSLError",
    "Input", "Output", "Artifact", "Dataset", "Model", "Metrics", "HTML", "Markdown",
    "InputPath", "OutputPath", "get_uri", "container_component", "ContainerSpec",
    "ConcatPlaceholder", "importer",
]

_REF = re.compile(r"\{\{(.*?)\}\}")


# --------------------------------------------------------------------------------------------
# Channels: values known only when the pipeline runs (parameters, task outputs, loop items).
# --------------------------------------------------------------------------------------------
class PipelineChannel:
    """A value the pipeline passes at run time: a parameter, a task output or a loop item.

    `str(channel)` is its wasmpipe reference (`{{params.message}}`), so channels can be
    formatted into strings (`f"hello {task.output}"`). Comparisons make conditions for
    `dsl.If` (`task.output == 'heads'`), combined with `&`, `|` and `~`.
    """

    def __init__(self, builder, type: str):
        self._builder = builder
        self.type = type

    # the reference text, as written in the pipeline file
    def ref(self) -> str:
        raise NotImplementedError

    def __str__(self):
        return self.ref()

    def __repr__(self):
        return f"<{type(self).__name__} {self.ref()} ({self.type})>"

    __hash__ = object.__hash__

    def __bool__(self):
        raise DSLError(f"{self.ref()} has no value while the pipeline is defined: use dsl.If(...) "
                       "for a condition on it, not Python's `if`, `and`, `or` or `not`")

    def _cmp(self, op, other):
        return ConditionOperation(op, self, other)

    def __eq__(self, other):  # type: ignore[override]
        return self._cmp("==", other)

    def __ne__(self, other):  # type: ignore[override]
        return self._cmp("!=", other)

    def __lt__(self, other):
        return self._cmp("<", other)

    def __le__(self, other):
        return self._cmp("<=", other)

    def __gt__(self, other):
        return self._cmp(">", other)

    def __ge__(self, other):
        return self._cmp(">=", other)

    def __iter__(self):
        raise DSLError(f"{self.ref()} cannot be iterated while the pipeline is defined: use "
                       "dsl.ParallelFor to run steps once per item")


class PipelineParameterChannel(PipelineChannel):
    def __init__(self, builder, name: str, type: str, nullable: bool = False):
        super().__init__(builder, type)
        self.name = name
        # declared `= None` (KFP's optional parameter): no value unless the run gives one
        self.nullable = nullable

    def ref(self) -> str:
        return "{{params.%s}}" % self.name


class PipelineTaskOutput(PipelineChannel):
    def __init__(self, builder, task: "PipelineTask", output: str, type: str):
        super().__init__(builder, type)
        self.task = task
        self.output = output

    def ref(self) -> str:
        if self.output == "output":
            return "{{tasks.%s.output}}" % self.task.name
        return "{{tasks.%s.outputs.%s}}" % (self.task.name, self.output)


class LoopArgument(PipelineChannel):
    """The item of a `dsl.ParallelFor` (`{{item}}`); `item.FIELD` is a field of a dict item."""

    def __init__(self, builder, loop: "_Group", var: str, type: str, field: Optional[str] = None):
        super().__init__(builder, type)
        self.loop = loop
        self.var = var
        self.field = field

    def ref(self) -> str:
        return "{{%s.%s}}" % (self.var, self.field) if self.field else "{{%s}}" % self.var

    def __getattr__(self, field):
        if field.startswith("_") or self.field is not None:
            raise AttributeError(field)
        return LoopArgument(self._builder, self.loop, self.var, "any", field)


class OneOf(PipelineChannel):
    """KFP's `dsl.OneOf`: the output of whichever branch of a `dsl.If`/`Elif`/`Else` chain ran,
    one task output from each branch. Pass it to a task or return it from the pipeline; the
    pipeline file binds it as `{one_of: [...]}` (wasmpipe checks the branches when it validates)."""

    def __init__(self, *channels: PipelineChannel):
        if len(channels) < 2 or not all(isinstance(c, PipelineTaskOutput) for c in channels):
            raise DSLError(f"dsl.OneOf takes two or more task outputs, one from each branch of a "
                           f"dsl.If/Elif/Else chain, not {channels!r}")
        builder = channels[0]._builder
        if any(c._builder is not builder for c in channels):
            raise DSLError("dsl.OneOf: its outputs belong to different pipelines")
        types = {c.type for c in channels} - {"any"}
        if len(types) > 1:
            listed = ", ".join(f"{c.ref()} is {_types.a(c.type)}" for c in channels)
            raise DSLError(f"dsl.OneOf passes one value, so its outputs must have one type: {listed}")
        super().__init__(builder, types.pop() if types else "any")
        self.channels = list(channels)

    def ref(self) -> str:
        raise DSLError("dsl.OneOf cannot be formatted into a string; pass it whole to an input")

    def __repr__(self):
        return "<OneOf %s (%s)>" % (", ".join(c.ref() for c in self.channels), self.type)

    def written(self) -> dict:
        """The binding in the pipeline file."""
        return {"one_of": [c.ref() for c in self.channels]}


def Collected(channel: PipelineChannel) -> PipelineChannel:
    """KFP's `dsl.Collected`: the outputs of a task inside a `ParallelFor`, read after the loop,
    as a list in item order. wasmpipe does this for any reference from outside the loop, so this
    only marks the intent."""
    if not isinstance(channel, PipelineTaskOutput):
        raise DSLError(f"dsl.Collected takes a task output, not {channel!r}")
    return channel


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------
class ConditionOperation:
    """A condition for `dsl.If` / `dsl.Elif`: a comparison, or `&`, `|`, `~` of conditions."""

    def __init__(self, op: str, left, right=None):
        self.op, self.left, self.right = op, left, right

    def __and__(self, other):
        return ConditionOperation("and", self, _as_condition(other))

    def __or__(self, other):
        return ConditionOperation("or", self, _as_condition(other))

    def __invert__(self):
        return ConditionOperation("not", self)

    def __bool__(self):
        raise DSLError("a condition has no value while the pipeline is defined: use it in "
                       "dsl.If(...) or dsl.Elif(...), not Python's `if`, and combine conditions "
                       "with `&`, `|` and `~`, not `and`, `or` and `not`")

    def channels(self) -> List[PipelineChannel]:
        out = []
        for side in (self.left, self.right):
            if isinstance(side, PipelineChannel):
                out.append(side)
            elif isinstance(side, ConditionOperation):
                out.extend(side.channels())
        return out

    def render(self, top: bool = True) -> str:
        if self.op in ("and", "or"):
            text = f"{self.left.render(False)} {self.op} {self.right.render(False)}"
            return text if top else f"({text})"
        if self.op == "not":
            return f"not {self.left.render(False)}"
        if self.op == "truth":
            return _operand(self.left)
        _check_comparison(self.op, self.left, self.right)
        return f"{_operand(self.left)} {self.op} {_operand(self.right)}"


def _as_condition(c) -> ConditionOperation:
    if isinstance(c, ConditionOperation):
        return c
    if isinstance(c, PipelineChannel):
        if c.type not in ("bool", "any"):
            raise DSLError(f"{c.ref()} is {_types.a(c.type)}, not a bool: compare it with something")
        return ConditionOperation("truth", c)
    raise DSLError(f"{c!r} is not a condition: compare a parameter or a task output, e.g. "
                   "`task.output == 'heads'`")


def _operand(v) -> str:
    if isinstance(v, PipelineChannel):
        return v.ref()
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise DSLError(f"a condition cannot compare with {v}")
        return repr(v)
    if isinstance(v, str):
        if "{{" in v:
            raise DSLError(f"the string {v!r} in a condition holds `{{{{`; compare with the channel "
                           "itself, not a string made from it")
        if "'" not in v:
            return f"'{v}'"
        if '"' not in v:
            return f'"{v}"'
        raise DSLError(f"the string {v!r} holds both kinds of quotes, which a wasmpipe condition "
                       "cannot write")
    raise DSLError(f"a condition compares parameters, task outputs, numbers, strings and bools, "
                   f"not {type(v).__name__} {v!r}")


def _type_of_operand(v) -> str:
    return v.type if isinstance(v, PipelineChannel) else (_types.type_of_value(v) or "any")


def _check_comparison(op, a, b):
    x, y = _type_of_operand(a), _type_of_operand(b)
    for side, t in ((a, x), (b, y)):
        if _types.is_artifact(t):
            raise DSLError(f"{_operand(side)} is {_types.a(t)}: a condition cannot compare an "
                           "artifact; compare an output value instead")
    numeric = {"int", "float"}
    if "any" in (x, y) or (x in numeric and y in numeric) or (x == y == "string"):
        return
    if x == y == "bool":
        if op in ("==", "!="):
            return
        raise DSLError(f"{_operand(a)} {op} {_operand(b)}: bools compare only with == and !=")
    raise DSLError(f"{_operand(a)} {op} {_operand(b)}: {_types.a(x)} cannot be compared with {_types.a(y)}")


# --------------------------------------------------------------------------------------------
# The pipeline being defined
# --------------------------------------------------------------------------------------------
class _Group:
    """A group of steps: the pipeline's root, an exit handler, a branch or a loop."""

    def __init__(self, kind: str, parent: Optional["_Group"], name: Optional[str] = None):
        self.kind, self.parent, self.name = kind, parent, name
        self.steps: List[Union["PipelineTask", "_Group"]] = []
        self.exit_task: Optional[PipelineTask] = None
        self.condition: Optional[str] = None
        self.items: Any = None
        self.var: str = "item"
        self.parallelism: Optional[int] = None
        self.fail_fast = False
        self.item_type = "any"
        self.open = True

    def ancestors(self):
        g = self
        while g is not None:
            yield g
            g = g.parent

    def contains(self, other: "_Group") -> bool:
        return any(g is self for g in other.ancestors())

    def label(self) -> str:
        kinds = {"exit_handler": "exit handler", "parallel_for": "ParallelFor", "if": "dsl.If",
                 "elif": "dsl.Elif", "else": "dsl.Else"}
        return f"{kinds.get(self.kind, self.kind)}" + (f" `{self.name}`" if self.name else "")

    def tasks(self):
        """Every task of this group, nested groups included (exit tasks too)."""
        if self.exit_task is not None:
            yield self.exit_task
        for s in self.steps:
            if isinstance(s, _Group):
                yield from s.tasks()
            else:
                yield s

    def body_tasks(self):
        for s in self.steps:
            if isinstance(s, _Group):
                yield from s.tasks()
            else:
                yield s


class _Builder:
    def __init__(self, pipeline: "Pipeline"):
        self.pipeline = pipeline
        self.root = _Group("root", None)
        self.scope = self.root
        self.tasks: Dict[str, PipelineTask] = {}
        self.name_counts: Dict[str, int] = {}
        self.params: Dict[str, PipelineParameterChannel] = {}
        self.components: Dict[str, Component] = {}   # key in the pipeline file -> component
        self.loops = 0

    def component_key(self, comp: Component) -> str:
        for k, c in self.components.items():
            if c is comp:
                return k
        key, n = comp.name, 1
        while key in self.components:
            n += 1
            key = f"{comp.name}_{n}"
        self.components[key] = comp
        return key

    def task_name(self, comp: Component) -> str:
        base = comp.name.replace("_", "-")
        n = self.name_counts.get(base, 0) + 1
        self.name_counts[base] = n
        name = base if n == 1 else f"{base}-{n}"
        while name in self.tasks:  # e.g. a component literally called `foo-2`
            n += 1
            self.name_counts[base] = n
            name = f"{base}-{n}"
        return name

    def channel_for_ref(self, inner: str) -> Optional[PipelineChannel]:
        """The channel a `{{...}}` reference names, or None."""
        parts = [p.strip() for p in inner.split(".")]
        if len(parts) == 2 and parts[0] == "params":
            return self.params.get(parts[1])
        if parts[0] == "tasks" and len(parts) in (3, 4):
            task = self.tasks.get(parts[1])
            if task is None:
                return None
            out = "output" if parts[2:] == ["output"] else (parts[3] if parts[2] == "outputs" and len(parts) == 4 else None)
            return task.outputs.get(out) if out else None
        for g in self.scope.ancestors():
            if g.kind == "parallel_for" and parts[0] == g.var and len(parts) <= 2:
                arg = LoopArgument(self, g, g.var, "any" if len(parts) == 2 else g.item_type)
                return getattr(arg, parts[1]) if len(parts) == 2 else arg
        return None


_builders: List[_Builder] = []


def _current(what: str) -> _Builder:
    if not _builders:
        raise DSLError(f"{what} is used outside a @dsl.pipeline function; call it inside one, "
                       "which runs when the pipeline is compiled")
    return _builders[-1]


# --------------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------------
class _Outputs(dict):
    def __init__(self, task, items):
        super().__init__(items)
        self._task = task

    def __missing__(self, key):
        if key == "Output" and "output" in self:
            # KFP names a component's single return value `Output`; wasmpipe, `output`.
            return self["output"]
        names = ", ".join(f"`{n}`" for n in self) or "none"
        raise DSLError(f"task `{self._task.name}` ({self._task.component.name}) has no output "
                       f"`{key}`; its outputs: {names}")


class PipelineTask:
    """A task: one use of a component in a pipeline (KFP's `PipelineTask`)."""

    def __init__(self, builder: _Builder, comp: Component, kwargs: Dict[str, Any]):
        self._builder = builder
        self.component = comp
        self.component_key = builder.component_key(comp)
        self.name = builder.task_name(comp)
        self.group = builder.scope
        self.inputs: Dict[str, Any] = {}          # input -> value written in the pipeline file
        self._reads: Dict[str, List[PipelineChannel]] = {}
        self._after: List[PipelineTask] = []
        self.options: Dict[str, Any] = {}
        self.exit_of: Optional[_Group] = None     # the exit handler this task is the exit of
        self.outputs = _Outputs(self, {o.name: PipelineTaskOutput(builder, self, o.name, o.type)
                                       for o in comp.outputs})
        builder.tasks[self.name] = self
        specs = {i.name: i for i in comp.inputs}
        for key, value in kwargs.items():
            spec = specs.get(key)
            if spec is None:
                names = ", ".join(f"`{i.name}`" for i in comp.inputs
                                  if i.type != "final_status") or "none"
                raise DSLError(f"task `{self.name}`: component `{comp.name}` has no input `{key}`; "
                               f"its inputs: {names}")
            self._bind(spec, value)
        missing = [i.name for i in comp.inputs if i.required and i.name not in self.inputs]
        if missing:
            names = ", ".join(f"`{n}`" for n in missing)
            raise DSLError(f"task `{self.name}`: required input(s) {names} of component "
                           f"`{comp.name}` not given; pass them: {comp.name}({missing[0]}=...)")
        builder.scope.steps.append(self)

    def __repr__(self):
        return f"<PipelineTask {self.name} ({self.component.name})>"

    # -- inputs ------------------------------------------------------------------------------
    def _where(self, spec: InputSpec) -> str:
        ty = f"{_types.kind(spec.type)} artifact" if _types.is_artifact(spec.type) else spec.type
        return f"task `{self.name}`, input `{spec.name}` ({ty})"

    def _bind(self, spec: InputSpec, value):
        where = self._where(spec)
        if spec.type == "final_status":
            raise DSLError(f"{where}: wasmpipe fills a final status for exit tasks; do not bind it")
        if isinstance(value, PipelineTask):
            raise DSLError(f"{where}: got the task `{value.name}` itself; pass one of its outputs "
                           f"(`.output` or `.outputs['NAME']`), or use `.after({value.name})`")
        if isinstance(value, ConditionOperation):
            raise DSLError(f"{where}: a condition is not a value; use it in dsl.If")
        if value is None:
            if spec.required:
                raise DSLError(f"{where}: required, cannot be None")
            self.inputs.pop(spec.name, None)
            self._reads.pop(spec.name, None)
            return
        reads: List[PipelineChannel] = []
        if isinstance(value, OneOf):
            for ch in value.channels:
                self._check_channel(spec, ch, where)
            written, reads = value.written(), list(value.channels)
        elif isinstance(value, PipelineChannel):
            self._check_channel(spec, value, where)
            written, reads = value.ref(), [value]
        elif isinstance(value, str) and "{{" in value:
            written = value
            whole = _REF.fullmatch(value)
            for m in _REF.finditer(value):
                ch = self._builder.channel_for_ref(m.group(1))
                if ch is None:
                    raise DSLError(f"{where}: {m.group(0)!s} in {value!r} is not a parameter, task "
                                   "output or loop item of this pipeline (wasmpipe reads `{{...}}` "
                                   "in strings as references, and has no escape for it)")
                reads.append(ch)
            if whole:
                self._check_channel(spec, reads[0], where, whole_string=True)
            else:
                for ch in reads:
                    self._check_channel(spec, ch, where, formatted=True)
        else:
            try:
                written = _types.plain(value, where)
            except TypeError as e:
                if _has_channel(value):
                    raise DSLError(f"{where}: a parameter or task output inside a list or dict is "
                                   "not supported (wasmpipe resolves references only as a whole "
                                   "input or inside a string); pass the list or dict from a "
                                   "parameter or a task output") from None
                raise DSLError(str(e)) from None
            if _nested_ref(written):
                raise DSLError(f"{where}: a `{{{{...}}}}` reference inside a list or dict is not "
                               "supported; pass the list or dict from a parameter or task output")
            vt = _types.type_of_value(written)
            if _types.is_artifact(spec.type):
                raise DSLError(f"{where}: got the {vt} {value!r}; it takes {_types.a(spec.type)}: "
                               "pass a task's output artifact (`task.outputs['NAME']`)")
            if not _types.accepts(spec.type, vt):
                raise DSLError(f"{where}: got the {vt} {value!r}; it takes {_types.a(spec.type)}")
        self.inputs[spec.name] = written
        self._reads[spec.name] = reads

    def _check_channel(self, spec: InputSpec, ch: PipelineChannel, where: str, formatted=False,
                       whole_string=False):
        if ch._builder is not self._builder:
            raise DSLError(f"{where}: {ch.ref()} belongs to another pipeline")
        if formatted and _types.is_artifact(ch.type):
            # before the source type, which for artifacts collected over a loop asks for a list
            raise DSLError(f"{where}: {ch.ref()} is {_types.a(ch.type)}; an artifact cannot be "
                           "formatted into a string (pass the artifact itself to an "
                           "Input[...] parameter, and read it there)")
        source = self._source_type(ch, where, spec)
        if isinstance(ch, PipelineParameterChannel) and ch.nullable and (formatted or spec.required):
            raise DSLError(f"{where}: parameter `{ch.name}` defaults to None, so it may have no "
                           "value; " + ("it cannot be formatted into a string" if formatted else
                                        "a required input needs one") + ": give it a default, or "
                           "pass it alone to an input with a default (which applies when it has "
                           "no value)")
        if formatted and _types.is_artifact(source):
            raise DSLError(f"{where}: {ch.ref()} is {_types.a(source)}; an artifact cannot be "
                           "formatted into a string (pass the artifact itself to an "
                           "Input[...] parameter, and read it there)")
        if formatted:
            if spec.type not in ("string", "any"):
                raise DSLError(f"{where}: a string with {ch.ref()} formatted into it is a string; "
                               f"it takes {_types.a(spec.type)}")
            return
        if not _types.accepts(spec.type, source):
            what = {PipelineParameterChannel: "parameter", PipelineTaskOutput: "output"}.get(
                type(ch), "loop item")
            raise DSLError(f"{where}: {ch.ref()} is {_types.a(source)} {what}; {_types.a(spec.type)} input cannot "
                           "take it" + (" (an int may feed a float, never the reverse)"
                                        if (spec.type, source) == ("int", "float") else "")
                           + (" (a string that is exactly one reference, like f\"{x}\", passes "
                              "the value with its type; add text around it to make a string)"
                              if whole_string else ""))

    def _source_type(self, ch: PipelineChannel, where: str, spec: Optional[InputSpec] = None) -> str:
        """The type `ch` has when read by this task (a list when read from outside its loop)."""
        if isinstance(ch, LoopArgument):
            if not ch.loop.contains(self.group):
                raise DSLError(f"{where}: {ch.ref()} is the item of a ParallelFor this task is "
                               "not inside")
            return ch.type
        if isinstance(ch, PipelineTaskOutput):
            loops = [g for g in ch.task.group.ancestors()
                     if g.kind == "parallel_for" and not g.contains(self.group)]
            if loops and _types.is_artifact(ch.type):
                # KFP's dsl.Collected of artifacts: a list input, one artifact per iteration
                if spec is None or spec.type not in ("list", "any"):
                    raise DSLError(f"{where}: {ch.ref()} is an output artifact of a task inside "
                                   "a ParallelFor, which gives a list of artifacts here: declare "
                                   "the input `List[Dataset]` (or `Input[List[Dataset]]`)")
                want = getattr(spec, "artifact_list", None)
                if want and not _types.accepts(_types.ARTIFACT + want, ch.type):
                    raise DSLError(f"{where}: {ch.ref()} collects {_types.a(ch.type)}s; the "
                                   f"input takes a list of {_types.a(_types.ARTIFACT + want)}s")
            if loops:
                return "list"
        return ch.type

    # -- KFP's task methods ------------------------------------------------------------------
    @property
    def output(self) -> PipelineChannel:
        """The task's single output (a component that returns one value, or whose only output
        is one output artifact)."""
        if len(self.outputs) == 1:  # a returned value, or the only output artifact
            return next(iter(self.outputs.values()))
        if not self.outputs:
            raise DSLError(f"task `{self.name}`: component `{self.component.name}` has no output")
        names = ", ".join(f"'{n}'" for n in self.outputs)
        raise DSLError(f"task `{self.name}`: component `{self.component.name}` has several "
                       f"outputs ({names}); use .outputs['NAME']")

    def after(self, *tasks: "PipelineTask") -> "PipelineTask":
        """Runs this task after `tasks` have succeeded."""
        for t in tasks:
            if not isinstance(t, PipelineTask):
                raise DSLError(f"task `{self.name}`: .after() takes tasks, not {t!r}")
            if t is self:
                raise DSLError(f"task `{self.name}`: .after() names the task itself")
            if t._builder is not self._builder:
                raise DSLError(f"task `{self.name}`: .after({t.name}) names a task of another pipeline")
            if t not in self._after:
                self._after.append(t)
        return self

    def _runs_pipeline(self) -> bool:
        return isinstance(self.component, _SubPipeline) or getattr(self.component, "is_pipeline", False)

    def _sandbox_option(self, method: str):
        """Options of a task's sandbox and attempts have no place on a task that runs a
        sub-pipeline (the pipeline file refuses them there), as in KFP, which allows them on
        single-step components only."""
        if self._runs_pipeline():
            raise DSLError(f"task `{self.name}`: {method} applies to a component's task, not to "
                           f"one that runs the pipeline `{self.component.name}`; call it on the "
                           "tasks inside that pipeline")

    def set_retry(self, num_retries: int, backoff_duration: Optional[str] = None,
                  backoff_factor: Optional[float] = None,
                  backoff_max_duration: Optional[str] = None) -> "PipelineTask":
        """Retries a failed task up to `num_retries` more times (KFP's signature; durations as
        wasmpipe writes them: "1s", "1m 30s", or seconds)."""
        self._sandbox_option("set_retry")
        if not isinstance(num_retries, int) or num_retries < 0:
            raise DSLError(f"task `{self.name}`: set_retry takes a number of retries >= 0")
        self.options["retries"] = num_retries
        backoff = {}
        if backoff_duration is not None:
            backoff["initial"] = _duration(backoff_duration)
        if backoff_factor is not None:
            backoff["factor"] = float(backoff_factor)
        if backoff_max_duration is not None:
            backoff["max"] = _duration(backoff_max_duration)
        if backoff:
            self.options["backoff"] = backoff
        return self

    def set_caching_options(self, enable_caching: bool) -> "PipelineTask":
        if self._runs_pipeline():
            # A sub-pipeline caches by its own tasks' options; off is the default.
            if enable_caching:
                warnings.warn(f"task `{self.name}`: set_caching_options(True) on a sub-pipeline is "
                              "ignored; set it on the sub-pipeline's tasks", stacklevel=2)
            return self
        self.options["cache"] = bool(enable_caching)
        return self

    def set_timeout(self, timeout) -> "PipelineTask":
        """The wall-clock limit of one attempt: "30s", "1m 30s", or seconds."""
        self._sandbox_option("set_timeout")
        self.options["timeout"] = _duration(timeout)
        return self

    def set_memory_limit(self, memory) -> "PipelineTask":
        """The linear-memory limit: "256MiB", "1G", or bytes."""
        self._sandbox_option("set_memory_limit")
        self.options["memory"] = memory if isinstance(memory, int) else str(memory)
        return self

    set_memory = set_memory_limit

    def set_fuel(self, fuel: int) -> "PipelineTask":
        self._sandbox_option("set_fuel")
        self.options["fuel"] = int(fuel)
        return self

    def set_env_variable(self, name: str, value: str) -> "PipelineTask":
        self._sandbox_option("set_env_variable")
        self.options.setdefault("env", {})[name] = str(value)
        return self

    def set_network(self, allow: List[str]) -> "PipelineTask":
        """Grants outbound HTTP(S) (`wasmpipe.http` in the component) to the `host:port`
        entries in `allow` ("example.org:443", "*.example.org:443", "127.0.0.1:8080"): the
        task's `network: {allow: [...]}`. Requests to any other host are denied."""
        self._sandbox_option("set_network")
        if isinstance(allow, str) or not all(isinstance(a, str) for a in allow or []):
            raise DSLError(f"task `{self.name}`: set_network takes a list of \"host:port\" "
                           "strings, e.g. allow=[\"example.org:443\"]")
        entries = list(dict.fromkeys(allow or []))
        bad = [a for a in entries if not re.fullmatch(r"(\*\.)?[^\s:/*]+:\d{1,5}|\[[0-9A-Fa-f:.]+\]:\d{1,5}", a)]
        if bad:
            raise DSLError(f"task `{self.name}`: set_network: {bad[0]!r} is not a \"host:port\" "
                           "entry (the port is required: 443 for https, 80 for http)")
        self.options["network"] = {"allow": entries}
        return self

    def ignore_upstream_failure(self) -> "PipelineTask":
        """Runs once its upstream tasks are done, however they ended (KFP's option)."""
        self.options["ignore_upstream_failure"] = True
        return self

    def set_display_name(self, name: str) -> "PipelineTask":
        """KFP's name for the UI. A wasmpipe task is shown by its id; the name is kept as
        `display_name` on the task object only."""
        self.display_name = str(name)
        return self

    def _ignored(self, what: str, why: str) -> "PipelineTask":
        warnings.warn(f"task `{self.name}`: {what} ignored ({why})", stacklevel=3)
        return self

    def set_cpu_limit(self, cpu) -> "PipelineTask":
        return self._ignored("set_cpu_limit", "a task runs on one thread of the host; bound its work with set_timeout or set_fuel")

    def set_cpu_request(self, cpu) -> "PipelineTask":
        return self._ignored("set_cpu_request", "tasks are scheduled by --jobs, not by CPU requests")

    def set_memory_request(self, memory) -> "PipelineTask":
        return self._ignored("set_memory_request", "set_memory_limit bounds a task's memory")

    def set_accelerator_type(self, accelerator) -> "PipelineTask":
        return self._ignored("set_accelerator_type", "a WebAssembly sandbox has no accelerators")

    def set_accelerator_limit(self, limit) -> "PipelineTask":
        return self._ignored("set_accelerator_limit", "a WebAssembly sandbox has no accelerators")

    def set_gpu_limit(self, gpu) -> "PipelineTask":
        return self._ignored("set_gpu_limit", "a WebAssembly sandbox has no GPUs")

    # -- the pipeline file -------------------------------------------------------------------
    def to_dict(self) -> dict:
        d: Dict[str, Any] = {"task": self.name, "component": self.component_key}
        if self.inputs:
            d["inputs"] = dict(self.inputs)
        if self._after:
            d["after"] = [t.name for t in self._after]
        d.update(self.options)
        return d

    def upstream(self):
        """Tasks this one depends on (inputs and `.after`)."""
        for reads in self._reads.values():
            for ch in reads:
                if isinstance(ch, PipelineTaskOutput):
                    yield ch.task
        yield from self._after


def _has_channel(v) -> bool:
    if isinstance(v, (PipelineChannel, ConditionOperation, PipelineTask)):
        return True
    if isinstance(v, (list, tuple)):
        return any(_has_channel(x) for x in v)
    if isinstance(v, dict):
        return any(_has_channel(x) for x in v.values())
    return False


def _nested_ref(v) -> bool:
    if isinstance(v, str):
        return "{{" in v
    if isinstance(v, list):
        return any(_nested_ref(x) for x in v)
    if isinstance(v, dict):
        return any(_nested_ref(x) for x in v.values())
    return False


def _duration(d):
    if isinstance(d, bool) or not isinstance(d, (int, float, str)):
        raise DSLError(f"{d!r} is not a duration: write \"30s\", \"1m 30s\", \"500ms\" or seconds")
    return d


def _create_task(comp: Component, args, kwargs) -> PipelineTask:
    builder = _current(f"component `{comp.name}`")
    if args:
        raise DSLError(f"component `{comp.name}` takes keyword arguments only, as in KFP: "
                       f"{comp.name}({', '.join(f'{i.name}=...' for i in comp.inputs[:len(args)])})")
    return PipelineTask(builder, comp, kwargs)


# --------------------------------------------------------------------------------------------
# Groups: ExitHandler, If / Elif / Else, ParallelFor
# --------------------------------------------------------------------------------------------
class _GroupContext:
    _kind = ""

    def __init__(self):
        self._builder = _current(f"dsl.{type(self).__name__}")
        self._group: Optional[_Group] = None

    def _make(self) -> _Group:
        raise NotImplementedError

    def __enter__(self):
        b = self._builder
        if _builders[-1] is not b:
            raise DSLError(f"dsl.{type(self).__name__} was created in another pipeline")
        g = self._make()
        b.scope.steps.append(g)
        b.scope = g
        self._group = g
        return self._enter_value()

    def _enter_value(self):
        return self

    def __exit__(self, *exc):
        b = self._builder
        b.scope = self._group.parent
        self._group.open = False
        return False


class ExitHandler(_GroupContext):
    """KFP's `dsl.ExitHandler`: `exit_task` runs after the tasks created inside the `with`,
    however they ended, and receives their final status (an input annotated
    `dsl.PipelineTaskFinalStatus`). Handlers nest, also inside `If` and `ParallelFor`.

    `handler.bind_exit(name=body_task.output)` passes body outputs to optional inputs of the
    exit task (absent when the body task did not succeed).

    `fail_fast=True` (a wasmpipe extension): after a failure in the body, start none of its
    steps that have not started (by default a failure skips only what depends on it)."""

    def __init__(self, exit_task: PipelineTask, name: Optional[str] = None, fail_fast: bool = False):
        super().__init__()
        self.fail_fast = fail_fast
        if not isinstance(exit_task, PipelineTask):
            raise DSLError(f"dsl.ExitHandler takes the exit task (a PipelineTask), not {exit_task!r}")
        if exit_task._builder is not self._builder:
            raise DSLError(f"exit task `{exit_task.name}` belongs to another pipeline")
        prior = exit_task.exit_of
        if prior is not None:
            if prior.open:
                raise DSLError(f"exit task `{exit_task.name}` is used inside its own body: "
                               f"dsl.ExitHandler({exit_task.name}) within the {prior.label()} it "
                               "already cleans up after; create a new exit task")
            raise DSLError(f"exit task `{exit_task.name}` is used by two exit handlers; a task is "
                           "the exit task of one handler only: create one exit task per handler")
        for g in self._builder.scope.ancestors():
            if g.exit_task is exit_task:  # unreachable (exit_of set), kept as a guard
                raise DSLError(f"exit task `{exit_task.name}` is used inside its own body")
        self.exit_task = exit_task
        self.name = name

    def _make(self) -> _Group:
        t = self.exit_task
        if t.exit_of is not None:
            raise DSLError(f"exit task `{t.name}` is used by two exit handlers")
        t.group.steps[:] = [s for s in t.group.steps if s is not t]
        g = _Group("exit_handler", self._builder.scope, self.name)
        g.fail_fast = self.fail_fast
        g.exit_task = t
        t.exit_of = g
        t.group = g
        return g

    def bind_exit(self, **inputs) -> "ExitHandler":
        """Binds inputs of the exit task, typically to body outputs (which must go to
        optional inputs: a body task may fail and produce nothing)."""
        t = self.exit_task
        if self._group is None:
            raise DSLError(f"exit task `{t.name}`: call bind_exit inside or after the `with "
                           "dsl.ExitHandler(...)` block")
        specs = {i.name: i for i in t.component.inputs}
        for key, value in inputs.items():
            spec = specs.get(key)
            if spec is None:
                names = ", ".join(f"`{i.name}`" for i in t.component.inputs
                                  if i.type != "final_status") or "none"
                raise DSLError(f"exit task `{t.name}`: component `{t.component.name}` has no input "
                               f"`{key}`; its inputs: {names}")
            before = dict(t.inputs), dict(t._reads)
            t.inputs.pop(key, None)
            t._reads.pop(key, None)
            try:
                t._bind(spec, value)
            except DSLError:
                t.inputs, t._reads = before
                raise
            body = [ch for ch in t._reads.get(key, [])
                    if isinstance(ch, PipelineTaskOutput) and self._group.contains(ch.task.group)
                    and ch.task is not t]
            if body and spec.required:
                t.inputs, t._reads = before
                ty = {"string": "str"}.get(spec.type, spec.type)
                raise DSLError(
                    f"exit task `{t.name}`: required input `{key}` is bound to {body[0].ref()}, an "
                    f"output of body task `{body[0].task.name}`; an exit task may read body outputs "
                    f"through optional inputs only (a body task may fail and produce nothing): "
                    f"declare it `{key}: Optional[{ty}] = None` in `{t.component.name}`")
            if key in before[0]:
                t.inputs, t._reads = before
                raise DSLError(f"exit task `{t.name}`: input `{key}` is already bound to "
                               f"{before[0][key]!r}")
        return self


class If(_GroupContext):
    """KFP's `dsl.If`: the steps inside run only when `condition` holds. `fail_fast=True` (a
    wasmpipe extension): after a failure among them, start none that has not started."""
    _kind = "if"

    def __init__(self, condition, name: Optional[str] = None, fail_fast: bool = False):
        super().__init__()
        self.condition = _render_condition(self._builder, condition)
        self.name = name
        self.fail_fast = fail_fast

    def _make(self) -> _Group:
        if self._kind == "elif":
            _check_follows_if(self._builder, "dsl.Elif")
        g = _Group(self._kind, self._builder.scope, self.name)
        g.condition = self.condition
        g.fail_fast = self.fail_fast
        return g


class Elif(If):
    """KFP's `dsl.Elif`: directly after a `dsl.If` or `dsl.Elif` block."""
    _kind = "elif"


class Else(_GroupContext):
    """KFP's `dsl.Else`: directly after a `dsl.If` or `dsl.Elif` block."""

    def __init__(self, name: Optional[str] = None, fail_fast: bool = False):
        super().__init__()
        self.name = name
        self.fail_fast = fail_fast

    def _make(self) -> _Group:
        _check_follows_if(self._builder, "dsl.Else")
        g = _Group("else", self._builder.scope, self.name)
        g.fail_fast = self.fail_fast
        return g


Condition = If  # KFP's deprecated spelling


def _check_follows_if(b: _Builder, what: str):
    steps = b.scope.steps
    if not steps or not isinstance(steps[-1], _Group) or steps[-1].kind not in ("if", "elif"):
        raise DSLError(f"{what} must directly follow a dsl.If or dsl.Elif block in the same scope")


def _render_condition(b: _Builder, condition) -> str:
    if isinstance(condition, str):
        for m in _REF.finditer(condition):
            if b.channel_for_ref(m.group(1)) is None:
                raise DSLError(f"condition {condition!r}: {m.group(0)} is not a parameter, task "
                               "output or loop item of this pipeline")
        return condition
    cond = _as_condition(condition)
    for ch in cond.channels():
        if isinstance(ch, LoopArgument) and not ch.loop.contains(b.scope):
            raise DSLError(f"condition: {ch.ref()} is the item of a ParallelFor not enclosing it")
    return cond.render()


def _json_dict_items(items: list) -> list:
    """KFP passes loop items that are JSON objects written as strings (`json.dumps({...})`) as
    the objects, so that `item.a` reads a field: a static list of such strings becomes the
    list of the objects. Any other list is left as it is."""
    import json
    if not items or not all(isinstance(x, str) for x in items):
        return items
    try:
        parsed = [json.loads(x) for x in items]
    except ValueError:
        return items
    return parsed if all(isinstance(x, dict) for x in parsed) else items


class ParallelFor(_GroupContext):
    """KFP's `dsl.ParallelFor`: the steps inside run once per item of `items` (a literal list,
    a list parameter or a task's list output). `with dsl.ParallelFor(items) as item:` gives the
    item; `item.FIELD` a field of a dict item. Outputs of tasks inside, read after the loop, are
    lists in item order (`dsl.Collected`)."""

    def __init__(self, items, parallelism: Optional[int] = None, name: Optional[str] = None,
                 fail_fast: bool = False):
        super().__init__()
        b = self._builder
        if isinstance(items, PipelineChannel):
            if isinstance(items, LoopArgument) and not items.loop.contains(b.scope):
                raise DSLError(f"ParallelFor: {items.ref()} is the item of a loop not enclosing it")
            t, item_type = items.type, "any"
            if isinstance(items, PipelineTaskOutput):
                loops = [g for g in items.task.group.ancestors()
                         if g.kind == "parallel_for" and not g.contains(b.scope)]
                spec = next((o for o in items.task.component.outputs
                             if o.name == items.output), None)
                if loops and _types.is_artifact(t):
                    # artifacts collected over a loop: one artifact per iteration
                    if len(loops) > 1:
                        raise DSLError(
                            f"ParallelFor: the items {items.ref()} are artifacts collected over "
                            f"{len(loops)} nested loops, so each item would be a list; a loop's "
                            "item is one artifact: loop inside the outer loop instead")
                    item_type = t
                elif getattr(spec, "artifact_list", None):  # a pipeline's `-> List[Dataset]`
                    item_type = _types.ARTIFACT + spec.artifact_list
                if loops:
                    t = "list"
            if _types.is_artifact(t):
                raise DSLError(f"ParallelFor: the items {items.ref()} are an artifact; a loop runs "
                               "over values (a list parameter or a list output), not artifacts")
            if t not in ("list", "any"):
                raise DSLError(f"ParallelFor: the items {items.ref()} are {_types.a(t)}, not a list")
            self.items, self.item_type = items.ref(), item_type
        elif isinstance(items, (list, tuple)):
            items = _json_dict_items(list(items))
            try:
                self.items = _types.plain(list(items), "ParallelFor items")
            except TypeError as e:
                raise DSLError(str(e) + ("; a loop over parameters or outputs takes a list "
                                         "parameter or a list output" if _has_channel(items) else ""))
            kinds = {_types.type_of_value(x) for x in self.items}
            self.item_type = kinds.pop() if len(kinds) == 1 else "any"
        else:
            raise DSLError(f"ParallelFor takes a list, a list parameter or a list output, not {items!r}")
        if parallelism is not None and (not isinstance(parallelism, int) or parallelism < 0):
            raise DSLError("ParallelFor: parallelism is a number >= 0")
        # KFP: 0 is no limit (wasmpipe writes none)
        self.parallelism, self.name, self.fail_fast = parallelism or None, name, fail_fast

    def _make(self) -> _Group:
        b = self._builder
        b.loops += 1
        g = _Group("parallel_for", b.scope, self.name)
        g.items, g.parallelism, g.fail_fast = self.items, self.parallelism, self.fail_fast
        g.item_type = self.item_type
        outer = any(a.kind == "parallel_for" for a in b.scope.ancestors())
        g.var = f"item_{b.loops}" if outer else "item"
        return g

    def _enter_value(self):
        return LoopArgument(self._builder, self._group, self._group.var, self._group.item_type)


# --------------------------------------------------------------------------------------------
# Pipelines
# --------------------------------------------------------------------------------------------
class Pipeline:
    """A pipeline made by `@dsl.pipeline`; compile it with `wasmpipe.compile` or
    `compiler.Compiler().compile`."""

    def __init__(self, func, name: Optional[str] = None, description: Optional[str] = None):
        self.pipeline_func = func
        self.name = name or func.__name__.replace("_", "-")
        from ._component import _docstring
        self.description = description if description is not None else (
            _docstring(func)[0] or None)
        self.params = self._read_params(func)

    def _read_params(self, func) -> Dict[str, dict]:
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception as e:
            raise DSLError(f"pipeline `{self.name}`: its annotations could not be resolved: {e}")
        from ._component import _docstring
        docs = _docstring(func)[1]
        params = {}
        for p in inspect.signature(func).parameters.values():
            where = f"pipeline `{self.name}`, parameter `{p.name}`"
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise DSLError(f"{where}: *args and **kwargs are not supported")
            try:
                ty, _ = _types.wasm_type(hints.get(p.name, Any))
            except _Unsupported as e:
                raise DSLError(f"{where}: {e}") from None
            if ty == "final_status":
                raise DSLError(f"{where}: a pipeline parameter cannot be a final status")
            d: Dict[str, Any] = {"type": ty}
            if _types.is_artifact(ty):
                # a host file given to the run (KFP's importer): `-a NAME=PATH`, or the default,
                # a path relative to the pipeline file
                d = {"type": "artifact", "kind": _types.kind(ty)}
                if isinstance(p.default, str):
                    d["default"] = p.default
                elif p.default is not inspect.Parameter.empty and p.default is not None:
                    raise DSLError(f"{where}: an artifact parameter's default is a path (a "
                                   f"string), not {p.default!r}")
            elif p.default is not inspect.Parameter.empty and p.default is not None:
                d["default"] = checked_default(p.default, ty, where)
            elif p.default is None:
                # optional, with no value unless the run gives one (KFP's `x: int = None`)
                d["default"] = None
            if docs.get(p.name):
                d["description"] = docs[p.name]
            params[p.name] = d
        return params

    def __call__(self, *args, **kwargs):
        """Inside another pipeline: a task that runs this one as a sub-pipeline (its own file
        beside the pipeline's, `components: NAME: {pipeline: FILE}`)."""
        b = _current(f"pipeline `{self.name}`")
        if args:
            raise DSLError(f"pipeline `{self.name}`: pass its parameters by name, as KFP does")
        if any(self is outer.pipeline for outer in _builders):
            raise DSLError(f"pipeline `{self.name}` uses itself; a sub-pipeline cannot contain itself")
        used = [c for c in b.components.values() if isinstance(c, _SubPipeline) and c.pipeline is self]
        return PipelineTask(b, used[0] if used else _SubPipeline(self), kwargs)

    def build(self, parameters: Optional[Dict[str, Any]] = None) -> _Builder:
        """Runs the pipeline function once, recording its tasks and groups."""
        b = _Builder(self)
        params = {k: dict(v) for k, v in self.params.items()}
        for k, v in (parameters or {}).items():
            if k not in params:
                raise DSLError(f"pipeline `{self.name}` has no parameter `{k}`")
            params[k]["default"] = _types.plain(v, f"parameter `{k}`")
        b.param_specs = params
        for k, spec in params.items():
            ty = _types.ARTIFACT + spec["kind"] if spec["type"] == "artifact" else spec["type"]
            nullable = "default" in spec and spec["default"] is None
            b.params[k] = PipelineParameterChannel(b, k, ty, nullable)
        _builders.append(b)
        try:
            result = self.pipeline_func(**b.params)
        finally:
            _builders.pop()
            b.scope = b.root
        b.outputs = self._outputs(result)
        _check(b)
        return b

    def _outputs(self, result) -> Dict[str, Any]:
        if result is None:
            return {}
        if isinstance(result, PipelineTask):
            result = result.output
        if isinstance(result, OneOf):
            return {"output": result.written()}
        if isinstance(result, PipelineChannel):
            return {"output": result.ref()}
        if isinstance(result, tuple) and hasattr(result, "_fields"):
            result = dict(zip(result._fields, result))
        if isinstance(result, dict):
            out = {}
            for k, v in result.items():
                if isinstance(v, PipelineTask):
                    v = v.output
                if isinstance(v, OneOf):
                    out[k] = v.written()
                    continue
                if not isinstance(v, PipelineTaskOutput):
                    raise DSLError(f"pipeline `{self.name}`: output `{k}` must be a task output, "
                                   f"not {v!r}")
                out[k] = v.ref()
            return out
        raise DSLError(f"pipeline `{self.name}` returns {result!r}; return a task output, a dict "
                       "or a NamedTuple of task outputs, or nothing")

    def to_dict(self, component_paths: Optional[Dict[str, str]] = None,
                parameters: Optional[Dict[str, Any]] = None) -> dict:
        """The pipeline file as data. Component paths default to `components/<name>.wasm`."""
        return _emit(self.build(parameters), component_paths or {})


class _Importer:
    """What `dsl.importer` gives: `.output` (also `.outputs['artifact']`), the artifact."""

    def __init__(self, channel: PipelineParameterChannel):
        self.output = channel
        self.outputs = {"artifact": channel}


def importer(artifact_uri, artifact_class=Artifact, reimport: bool = False,
             metadata: Optional[dict] = None) -> _Importer:
    """KFP's `dsl.importer`: a host file as an artifact. wasmpipe writes it as an artifact
    parameter of the pipeline (`importer`, `importer_2`, ...) whose default is the path
    (relative to the pipeline file, or absolute); `wasmpipe run -a importer=PATH` gives another.
    A remote URI (gs://, s3://, https://...) cannot be read by a run, which sees host files
    only: the parameter is then required (its description names the URI), with a warning, and
    the run is given a local copy with `-a importer=PATH`. `reimport` has no meaning (a host
    file is used where it is); `metadata` is dropped with a warning (an artifact parameter has
    none)."""
    b = _current("dsl.importer")
    if isinstance(artifact_uri, PipelineChannel):
        raise DSLError("dsl.importer: the URI must be a path known when the pipeline is "
                       "compiled; to choose the file at run time, declare a pipeline parameter "
                       "`x: dsl.Input[dsl.Dataset]` and run with `-a x=PATH`")
    uri = str(artifact_uri)
    kind = getattr(artifact_class, "__name__", "Artifact")
    if _WP_ARTIFACT_KINDS.get(kind) is not artifact_class:
        raise DSLError(f"dsl.importer: artifact_class {kind} is not one of "
                       "Artifact, Dataset, Model, Metrics, HTML, Markdown")
    name, n = "importer", 1
    while name in b.params:
        n += 1
        name = f"importer_{n}"
    spec: Dict[str, Any] = {"type": "artifact", "kind": kind}
    if "://" in uri and not uri.startswith("file://"):
        warnings.warn(f"dsl.importer: `{uri}` is a remote URI, which a wasmpipe run cannot "
                      f"read (it sees host files only): the pipeline parameter `{name}` is "
                      f"required; download the file and run with `-a {name}=PATH`",
                      stacklevel=2)
        spec["description"] = f"KFP's importer of {uri}: give a local copy with -a {name}=PATH"
    else:
        spec["default"] = uri[len("file://"):] if uri.startswith("file://") else uri
    if metadata:
        warnings.warn(f"dsl.importer: metadata of `{name}` dropped (an artifact given to a run "
                      "has none; the components that read it cannot see it)", stacklevel=2)
    b.param_specs[name] = spec
    b.params[name] = PipelineParameterChannel(b, name, _types.ARTIFACT + kind)
    return _Importer(b.params[name])


class _SubPipeline:
    """A pipeline used as a task of another: what a task needs of a component (its inputs, its
    outputs and their types), made from the pipeline's parameters and outputs."""

    def __init__(self, p: "Pipeline"):
        from ._component import InputSpec, OutputSpec
        self.pipeline = p
        self.name = p.pipeline_func.__name__
        self.inputs = []
        for k, spec in p.params.items():
            ty = _types.ARTIFACT + spec["kind"] if spec["type"] == "artifact" else spec["type"]
            has_default = "default" in spec
            self.inputs.append(InputSpec(k, ty, required=not has_default, has_default=has_default,
                                         default=spec.get("default")))
        inner = p.build()
        self.outputs = []
        for k, written in inner.outputs.items():
            # One reference, or a `one_of` of references of one type (the first one's).
            ref = written if isinstance(written, str) else (written.get("one_of") or [""])[0]
            channel = inner.channel_for_ref(ref.strip()[2:-2])
            ty = channel.type if channel is not None else "any"
            if isinstance(channel, PipelineTaskOutput) and any(
                    g.kind == "parallel_for" for g in channel.task.group.ancestors()):
                kind = _types.kind(ty) if _types.is_artifact(ty) else None
                ty = "list"  # collected over the iterations of a loop
            else:
                kind = None
            out = OutputSpec(k, ty)
            # artifacts collected over a loop (KFP's `-> List[Dataset]`): a list of artifacts,
            # which a `List[Dataset]` input takes
            out.artifact_list = kind
            self.outputs.append(out)
        self.single_output = [o.name for o in self.outputs] == ["output"]


def pipeline(func=None, *, name: Optional[str] = None, description: Optional[str] = None,
             display_name: Optional[str] = None, pipeline_root: Optional[str] = None):
    """Declares a pipeline (KFP's `@dsl.pipeline`); its typed parameters with defaults become
    the pipeline file's `params`."""
    def wrap(f):
        return Pipeline(f, name=name, description=description)
    if func is None:
        return wrap
    return wrap(func)


# --------------------------------------------------------------------------------------------
# Checks across the whole pipeline, and the pipeline file
# --------------------------------------------------------------------------------------------
def _check(b: _Builder):
    exit_tasks = set()

    def walk(g: _Group):
        if g.kind == "exit_handler":
            t = g.exit_task
            exit_tasks.add(id(t))
            for bt in g.body_tasks():
                for up in bt.upstream():
                    if up is t:
                        raise DSLError(f"exit task `{t.name}` is used inside its own body: body "
                                       f"task `{bt.name}` reads it or runs after it, but the exit "
                                       "task runs only once the body has finished")
            if any(up is t for up in t.upstream()):
                raise DSLError(f"exit task `{t.name}` depends on itself")
        for s in g.steps:
            if isinstance(s, _Group):
                walk(s)

    walk(b.root)
    for t in b.tasks.values():
        fs = [i for i in t.component.inputs if i.type == "final_status" and not i.py_default]
        if fs and id(t) not in exit_tasks:
            raise DSLError(f"task `{t.name}`: component `{t.component.name}` takes a final status "
                           f"(input `{fs[0].name}`), which only an exit task receives; use it as "
                           f"the exit task of a dsl.ExitHandler")


def _emit(b: _Builder, component_paths: Dict[str, str]) -> dict:
    p = b.pipeline
    doc: Dict[str, Any] = {"version": 1, "name": p.name}
    if p.description:
        doc["description"] = p.description
    if b.param_specs:
        doc["params"] = b.param_specs
    def entry(k, c):
        if isinstance(c, _SubPipeline):
            return {"pipeline": f"{k}.yaml"}
        if isinstance(c, ExternalComponent):
            return c.entry(k, component_paths.get(k))
        return {"path": component_paths.get(k, f"components/{k}.wasm")}

    doc["components"] = {k: entry(k, c) for k, c in b.components.items()}
    doc["steps"] = _emit_steps(b.root.steps)
    if b.outputs:
        doc["outputs"] = b.outputs
    return doc


def _emit_steps(steps) -> list:
    out = []
    for s in steps:
        if isinstance(s, PipelineTask):
            out.append(s.to_dict())
            continue
        body: Dict[str, Any] = {}
        if s.name:
            body["name"] = s.name
        if s.kind == "exit_handler":
            body["exit"] = s.exit_task.to_dict()
        elif s.kind in ("if", "elif"):
            body["condition"] = s.condition
        elif s.kind == "parallel_for":
            body["items"] = s.items
            if s.var != "item":
                body["as"] = s.var
            if s.parallelism is not None:
                body["parallelism"] = s.parallelism
        if s.fail_fast:
            body["fail_fast"] = True
        body["steps"] = _emit_steps(s.steps)
        out.append({s.kind: body})
    return out
