"""Whole-process startup, measured side by side in one run (see bench/startup.sh).

Each round runs every command once, in turn, so that drift in the machine's speed hits them all
alike; the figures are medians over the rounds. A sample of "3x wasmtime run" is the sum of
three consecutive processes, the cost of a three-task pipeline run one task per process.

    python3 startup.py ROUNDS WASMTIME OK_CWASM PIPELINE NAME=WASMPIPE [NAME=WASMPIPE ...]
"""

import statistics
import subprocess
import sys
import time


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def main():
    rounds, wasmtime, cwasm, pipeline = int(sys.argv[1]), *sys.argv[2:5]
    binaries = [arg.split("=", 1) for arg in sys.argv[5:]]
    one = [wasmtime, "run", "--allow-precompiled", cwasm]
    commands = {"wasmtime run": lambda: timed(one)}
    commands["3x wasmtime run"] = lambda: sum(timed(one) for _ in range(3))
    for name, binary in binaries:
        commands[f"{name} --version"] = lambda b=binary: timed([b, "--version"])
        commands[f"{name} validate"] = lambda b=binary: timed([b, "validate", pipeline])
        commands[f"{name} run"] = lambda b=binary: timed([b, "run", pipeline])
    for run in commands.values():  # warm the page cache and the compiled-component cache
        run()
    samples = {name: [] for name in commands}
    for _ in range(rounds):
        for name, run in commands.items():
            samples[name].append(run())
    median = {name: statistics.median(times) for name, times in samples.items()}
    for name, value in median.items():
        print(f"{name:>28}: median {value:6.2f} ms over {rounds} rounds")
    one_run, three_runs = median["wasmtime run"], median["3x wasmtime run"]
    for name, _ in binaries:
        run_ratio = median[f"{name} run"] / three_runs
        validate_ratio = median[f"{name} validate"] / one_run
        print(
            f"{name}: run / 3x wasmtime run = {run_ratio:.2f} (target <= 0.50); "
            f"validate / wasmtime run = {validate_ratio:.2f} (target <= 0.75)"
        )


if __name__ == "__main__":
    main()
