"""Components and pipelines written as KFP users write them: InputPath / OutputPath, returned
artifacts with dsl.get_uri, KFP's `Output` name, container components and loaded components;
used by test_kfp_compat.py."""
from typing import Dict, List, NamedTuple

from wasmpipe import dsl
from wasmpipe.dsl import Dataset, InputPath, Model, OutputPath


@dsl.component
def write_values(message: str, text: OutputPath(str), flag: OutputPath(bool),
                 n: OutputPath(int), ratio: OutputPath('Float'), data: OutputPath(Dict[str, int]),
                 raw: OutputPath('Dataset')):
    import json
    import os
    import pathlib
    with open(text, 'w') as f:
        f.write(message)
    with open(flag, 'w') as f:
        f.write(str(True))  # KFP's sample writes bools as `True`
    os.makedirs(os.path.dirname(n), exist_ok=True)  # KFP code often makes the directory
    pathlib.Path(n).write_text(' 42\n')
    with open(ratio, 'w') as f:
        f.write('0.5')
    with open(data, 'w') as f:
        json.dump({'a': 1}, f)
    with open(raw, 'w') as f:
        f.write(message * 2)


@dsl.component
def read_values(text: InputPath(str), raw: InputPath('Dataset'), items: InputPath(list),
                flag: bool, n: int, ratio: float, data: dict) -> str:
    with open(text) as f:
        t = f.read()
    with open(raw) as f:
        r = f.read()
    with open(items) as f:
        i = f.read()
    return f"{t}|{r}|{i}|{raw}|{flag}|{n}|{ratio}|{data}"


@dsl.component
def forget_output(out: OutputPath(int)):
    pass


@dsl.component
def make_model(text: str) -> Model:
    model = Model(uri=dsl.get_uri(suffix='model'), metadata={'length': len(text)})
    with open(model.path, 'w') as f:
        f.write(text)
    return model


@dsl.component
def make_text(text: str) -> dsl.Artifact:
    return text.upper()  # data returned for an artifact is written as its file, as in KFP


@dsl.component
def make_pair(text: str) -> NamedTuple('Outputs', [('first', Dataset), ('size', int)]):
    first = Dataset(uri=dsl.get_uri('first'))
    with open(first.path, 'w') as f:
        f.write(text[:1])
    return first, len(text)


@dsl.component
def read_model(model: Model) -> str:
    with open(model.path) as f:
        return f"{f.read()}:{model.metadata.get('length')}"


@dsl.component
def read_any(a: dsl.Artifact) -> str:
    with open(a.path) as f:
        return f.read()


@dsl.pipeline(name='kfp-style')
def kfp_style(message: str = 'hi'):
    w = write_values(message=message)
    read_values(text=w.outputs['text'], raw=w.outputs['raw'], items=[1, 'a'],
                flag=w.outputs['flag'], n=w.outputs['n'], ratio=w.outputs['ratio'],
                data=w.outputs['data'])
    m = make_model(text=message)
    read_model(model=m.outputs['Output'])
    read_any(a=make_text(text='abc').output)
    read_any(a=make_pair(text='xyz').outputs['first'])


@dsl.pipeline(name='forgets')
def forgets():
    forget_output()


@dsl.container_component
def echo_to(message: str, said: OutputPath(str)):
    """Writes `message` to `said` (a WASI command, in tests/data/echo_to.wat)."""
    return dsl.ContainerSpec(image='data/echo_to.wat', command=['echo_to'], args=[message, said])


@dsl.container_component
def in_alpine(message: str):
    return dsl.ContainerSpec(image='alpine', command=['echo'], args=[message])


@dsl.component
def shout(text: str) -> str:
    return text.upper() + '!'


@dsl.pipeline(name='containers')
def containers(message: str = 'from a command'):
    said = echo_to(message=message)
    shout(text=said.outputs['said'])


@dsl.component(packages_to_install=['yapf==0.43.0'])
def format_code(code: str) -> str:
    # yapf's platformdirs asks for os.getuid and a home directory at import, which WASI lacks;
    # the component's Python has both, as Pyodide's does
    from yapf.yapflib.yapf_api import FormatCode
    return FormatCode(code)[0]


@dsl.pipeline(name='formats')
def formats(code: str = 'x = [1,2,\n  3]'):
    format_code(code=code)


@dsl.pipeline(name='caching')
def caching(text: str):
    first = shout(text=text)
    shout(text=text).set_caching_options(False)
    shout(text=first.output).set_caching_options(True)


@dsl.component
def write_number(index: int, out: dsl.Output[dsl.Artifact]):
    with open(out.path, 'w') as f:
        f.write(str(index))
    out.metadata['index'] = index


@dsl.component
def join_numbers(numbers: List[dsl.Artifact]) -> str:
    parts = []
    for a in numbers:
        with open(a.path) as f:
            parts.append(f"{f.read()}@{a.metadata['index']}:{type(a).__name__}")
    return ','.join(parts)


@dsl.pipeline(name='collects-artifacts')
def collects_artifacts() -> str:
    with dsl.ParallelFor([3, 4, 5]) as i:
        w = write_number(index=i)
    return join_numbers(numbers=dsl.Collected(w.outputs['out'])).output


@dsl.component
def log_metrics(metrics: dsl.Output[dsl.Metrics]):
    metrics.log_metric('accuracy', 0.75)
    metrics.log_metric('epochs', 3)


@dsl.pipeline(name='metrics')
def metrics():
    log_metrics()
