"""The logic of stats_py, free of any WebAssembly binding, so it can be tested with plain
CPython (test_stats_core.py) before it is componentized."""


def parse_numbers(text: str) -> list[int]:
    """One integer per line; blank lines are ignored. Raises ValueError naming the line."""
    numbers = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        try:
            numbers.append(int(line))
        except ValueError:
            raise ValueError(f"line {lineno}: not an integer: {line!r}") from None
    return numbers


def stats(numbers: list[int]) -> tuple[int, float]:
    """(count, mean). The mean of no numbers is an error: JSON has no NaN."""
    if not numbers:
        raise ValueError("the dataset holds no numbers")
    return len(numbers), sum(numbers) / len(numbers)


def scaled(numbers: list[int], factor: int) -> str:
    """Each number times factor, one per line (with a final newline)."""
    return "".join(f"{n * factor}\n" for n in numbers)
