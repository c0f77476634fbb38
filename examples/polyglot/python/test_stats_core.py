"""Native test of stats_core (no WebAssembly): python3 test_stats_core.py"""
import stats_core as s

assert s.parse_numbers("1\n2\n\n 3 \n-4\n") == [1, 2, 3, -4]
assert s.stats([1, 2, 3, 4, 5]) == (5, 3.0)
assert s.scaled([1, -2], 2) == "2\n-4\n"
for bad, msg in (("1\nx\n", "line 2"), ("", "no numbers")):
    try:
        s.stats(s.parse_numbers(bad))
    except ValueError as e:
        assert msg in str(e), e
    else:
        raise AssertionError(bad)
print("stats_core: ok")
