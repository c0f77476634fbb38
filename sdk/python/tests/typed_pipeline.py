"""A pipeline with typed values end to end: NamedTuple outputs, int and float, an exit task
that reads body outputs (bind_exit) and the final status. Used by test_run.py."""
from typing import NamedTuple, Optional

from wasmpipe import dsl


@dsl.component
def split_op(n: int) -> NamedTuple('Outputs', [('half', int), ('ratio', float), ('label', str)]):
    """Splits n: half (an int), ratio (a float) and a label."""
    from collections import namedtuple
    outputs = namedtuple('Outputs', ['half', 'ratio', 'label'])
    return outputs(n // 2, n / 4, f'n={n}')


@dsl.component
def scale_op(x: float, times: int = 3) -> float:
    """Multiplies x (a float input: an int is converted) by times.

    Args:
        x: the number to scale
        times: how many times

    Returns:
        x times times
    """
    print(f'x={x!r} ({type(x).__name__}) times={times!r} ({type(times).__name__})')
    return x * times


@dsl.component
def check_op(value: float, limit: float) -> float:
    """Fails when value is over limit."""
    if value > limit:
        raise ValueError(f'{value} is over the limit {limit}')
    return value


@dsl.component
def report_op(status: dsl.PipelineTaskFinalStatus, half: Optional[int] = None,
              checked: Optional[float] = None, note: str = 'report') -> str:
    """The exit task: reports the body's outcome and the outputs it could read."""
    import json
    summary = {
        'note': note,
        'state': status.state,
        'group': status.group,
        'run_id_matches': status.run_id == status.pipeline_job_resource_name,
        'half': half, 'half_type': type(half).__name__,
        'checked': checked, 'checked_type': type(checked).__name__,
        'failures': [[f.task, f.kind, f.message] for f in status.failures],
        'error_message': status.error_message,
    }
    print(json.dumps(summary))
    return json.dumps(summary, sort_keys=True)


@dsl.pipeline(name='typed-values', description='Typed values and an exit handler.')
def typed_pipeline(n: int = 6, limit: float = 100.0):
    report = report_op(note='done')
    with dsl.ExitHandler(report, name='cleanup') as handler:
        split = split_op(n=n)
        scaled = scale_op(x=split.outputs['half'])
        checked = check_op(value=scaled.output, limit=limit)
        handler.bind_exit(half=split.outputs['half'], checked=checked.output)
    return {'half': split.outputs['half'], 'ratio': split.outputs['ratio'],
            'label': split.outputs['label'], 'scaled': scaled.output, 'report': report.output}


@dsl.component
def total_op(values: list) -> float:
    """Sums a list (a fan-in of a loop's outputs)."""
    print(f'values={values!r}')
    return float(sum(values))


@dsl.component
def behave_op(mode: str) -> int:
    """Succeeds, raises, exits or returns the wrong type, as told."""
    import sys
    print(f'mode {mode}')
    if mode == 'raise':
        raise RuntimeError('boom')
    if mode == 'exit':
        sys.exit(3)
    if mode == 'exit_msg':
        sys.exit('bad input')
    if mode == 'wrong':
        return 'seven'
    if mode == 'exit0':
        sys.exit(0)
    if mode == 'spin':
        while True:
            pass
    return 7


@dsl.pipeline(name='control-flow')
def control_pipeline(n: int = 6, limit: float = 5.0):
    """Branches, a loop with an exit handler per iteration, and a fan-in."""
    split = split_op(n=n)
    with dsl.If(split.outputs['half'] >= 2, name='big'):
        with dsl.ParallelFor([1, 2, 3], parallelism=2, name='items') as item:
            report = report_op(note='item')
            with dsl.ExitHandler(report, name='cleanup') as handler:
                scaled = (scale_op(x=item, times=1).set_retry(1, backoff_duration='100ms')
                          .set_memory_limit('256MiB').set_env_variable('MODE', 'test')
                          .set_caching_options(False))
                checked = check_op(value=scaled.output, limit=limit)
                handler.bind_exit(checked=checked.output)
        total = total_op(values=dsl.Collected(checked.output))
    with dsl.Else(name='small'):
        scale_op(x=0.5)
    return {'total': total.output}


@dsl.pipeline(name='behaviours')
def behaviour_pipeline():
    """One iteration per way a Python function can end."""
    modes = ['ok', 'raise', 'exit', 'exit_msg', 'wrong', 'exit0', 'spin']
    with dsl.ParallelFor(modes, name='modes') as mode:
        behave_op(mode=mode).set_timeout('2s')
