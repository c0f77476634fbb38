"""KFP's exit-handler sample (kfp 2.x): the exit task runs after the body, whether it succeeded
or failed. Run with: python3 exit_handler.py"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from wasmpipe import compiler, dsl


@dsl.component
def print_op(message: str):
    print(message)


@dsl.component
def fail_op(message: str):
    import sys
    print(message)
    sys.exit(1)


@dsl.pipeline(name='pipeline-with-exit-handler')
def pipeline_exit_handler(message: str = 'Hello World!'):
    exit_task = print_op(message='Exit handler has worked!')
    with dsl.ExitHandler(exit_task):
        print_op(message=message)
        fail_op(message='Task failed.')


if __name__ == '__main__':
    here = Path(__file__).resolve().parent
    out = compiler.Compiler().compile(pipeline_exit_handler, here / 'pipeline.yaml')
    print(f'compiled {out}')
    cli = os.environ.get('WASMPIPE_BIN') or shutil.which('wasmpipe')
    repo_cli = here.parent.parent / 'target/release/wasmpipe'
    if not cli and repo_cli.is_file():
        cli = str(repo_cli)
    if not cli:
        print(f'run it with: wasmpipe run {out}   (build the CLI: cargo build --release -p wasmpipe)')
        sys.exit(0)
    print(f'$ {cli} run {out} {" ".join(sys.argv[1:])}', flush=True)
    sys.exit(subprocess.run([cli, 'run', str(out), *sys.argv[1:]]).returncode)
