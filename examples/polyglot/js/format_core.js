// The logic of format_js, free of any WebAssembly binding, so it runs in plain Node too
// (test_format_core.js) before it is componentized.

/** One integer per line; blank lines are ignored. Throws an Error naming the bad line. */
export function parseNumbers(text) {
  const numbers = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    if (!/^[+-]?\d+$/.test(line)) throw new Error(`line ${i + 1}: not an integer: ${JSON.stringify(line)}`);
    const n = Number(line);
    if (!Number.isSafeInteger(n)) throw new Error(`line ${i + 1}: ${line} is too large`);
    numbers.push(n);
  });
  return numbers;
}

/** A float the way Python and Rust print it: 3 -> "3.0", 2.5 -> "2.5". */
export function formatFloat(x) {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** The summary line and the largest number of `scaled`. */
export function summarize(scaled, mean, count) {
  if (scaled.length === 0) throw new Error('the scaled dataset holds no numbers');
  const max = scaled.reduce((a, b) => (b > a ? b : a));
  return { summary: `${count} numbers, mean ${formatFloat(mean)}, max doubled ${max}`, max };
}
