// Native test of format_core (no WebAssembly): node test_format_core.js
import assert from 'node:assert/strict';
import { parseNumbers, formatFloat, summarize } from './format_core.js';

assert.deepEqual(parseNumbers('2\n4\n\n -6 \n'), [2, 4, -6]);
assert.throws(() => parseNumbers('1\nzz\n'), /line 2/);
assert.equal(formatFloat(3), '3.0');
assert.equal(formatFloat(2.5), '2.5');
assert.deepEqual(summarize([2, 4, 6, 8, 10], 3.0, 5), { summary: '5 numbers, mean 3.0, max doubled 10', max: 10 });
assert.throws(() => summarize([], 0, 0), /no numbers/);
console.log('format_core: ok');
