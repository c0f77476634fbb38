# The final status an exit task receives (KFP's `dsl.PipelineTaskFinalStatus`).
#
# This file is used twice: imported by the DSL on the host (for the annotation), and copied
# verbatim into every generated component (app.py), where the wrapper builds the object from
# the WIT `final-status` record. Keep it self-contained: standard library only.
from typing import List as _WpList, Optional as _WpOptional


class TaskFailure:
    """One failed or cancelled task of the exit handler's body (WIT `task-failure`)."""

    def __init__(self, task: str, kind: str, message: str, trap_code: "_WpOptional[str]" = None,
                 cached: bool = False, exit_handler: bool = False):
        self.task = task                  # its id in the run record, e.g. "exit-handler-1/fail-op"
        self.kind = kind                  # "error", "trap", "timeout", "memory_limit", ...
        self.message = message
        self.trap_code = trap_code        # for a trap: "unreachable_code_reached", ...
        self.cached = cached
        self.exit_handler = exit_handler  # True when the failed task is an inner exit task

    def __repr__(self):
        return f"TaskFailure(task={self.task!r}, kind={self.kind!r}, message={self.message!r})"


class PipelineTaskFinalStatus:
    """What an exit task receives about the body of its exit handler.

    Annotate a component parameter with it (KFP's spelling); the pipeline does not bind it.
    `state` is KFP's: "SUCCEEDED", "FAILED" or "CANCELLED". The wasmpipe fields are `run_id`,
    `group` (the exit-handler group's name) and `failures` (every failed or cancelled task of
    the body, as `TaskFailure`s with `task`, `kind`, `message`, `trap_code`). KFP's
    `pipeline_job_resource_name` is the run id, `pipeline_task_name` the group, and
    `error_message` the failures' messages joined (None when the body succeeded).
    """

    def __init__(self, state: str, run_id: str, group: str,
                 failures: "_WpOptional[_WpList[TaskFailure]]" = None):
        self.state = state
        self.run_id = run_id
        self.group = group
        self.failures = list(failures or [])

    @property
    def pipeline_job_resource_name(self) -> str:
        return self.run_id

    @property
    def pipeline_task_name(self) -> str:
        return self.group

    @property
    def error_code(self) -> "_WpOptional[int]":
        return None if self.state == "SUCCEEDED" else 1

    @property
    def error_message(self) -> "_WpOptional[str]":
        if not self.failures:
            return None
        return "; ".join(f"{f.task}: {f.kind}: {f.message}" for f in self.failures)

    def __repr__(self):
        return (f"PipelineTaskFinalStatus(state={self.state!r}, run_id={self.run_id!r}, "
                f"group={self.group!r}, failures={self.failures!r})")
