// format_js: a wasmpipe component in JavaScript (componentize-js, SpiderMonkey inside).
//
// Reads the `scaled` Dataset artifact (one integer per line), and with the `mean` and `count`
// parameters makes a one-line summary and the largest number.
//
// Build: examples/polyglot/build.sh js
//
// How the WIT maps to JS (the jco conventions componentize-js uses): records are objects with
// camelCase fields (`taskId`); a variant is `{tag, val}`; s64/u64 are BigInt; an enum is its
// case name as a string ('info'); an absent option is `undefined`; a function returning
// `result<T, string>` returns T, or throws to return the error.
import { log } from 'wasmpipe:pipeline/host@0.1.0';
import { getDirectories } from 'wasi:filesystem/preopens@0.2.12';
import { parseNumbers, summarize } from './format_core.js';

const DATASET = { tag: 'artifact', val: { kind: 'Dataset', directory: false } };

/** A file's text, read through WASI: find the preopen holding `path`, open it relative to it. */
function readText(path) {
  for (const [dir, guest] of getDirectories()) {
    const prefix = guest.endsWith('/') ? guest : guest + '/';
    if (!path.startsWith(prefix)) continue;
    const file = dir.openAt({}, path.slice(prefix.length), {}, { read: true });
    const chunks = [];
    let offset = 0n;
    for (;;) {
      const [bytes, eof] = file.read(65536n, offset);
      chunks.push(bytes);
      offset += BigInt(bytes.length);
      if (eof || bytes.length === 0) break;
    }
    const all = new Uint8Array(Number(offset));
    let at = 0;
    for (const c of chunks) { all.set(c, at); at += c.length; }
    return new TextDecoder().decode(all);
  }
  throw new Error(`${path}: not inside a preopened directory`);
}

/** The scalar in a one-node value: {nodes: [{tag: 'float', val: 3}]} -> 3. */
function scalar(input, name, tags) {
  if (!input || input.tag !== 'value') throw `input \`${name}\` is missing or not a value`;
  const node = input.val.nodes[0];
  if (!tags.includes(node.tag)) throw `input \`${name}\` is a ${node.tag}, not a ${tags.join(' or ')}`;
  return node.val;
}

export const component = {
  describe() {
    return {
      name: 'format_js',
      description: 'Summarizes a scaled dataset in one line and returns its largest number.',
      inputs: [
        { name: 'scaled', type: DATASET, required: true, default: undefined, description: 'the scaled numbers, one per line' },
        { name: 'mean', type: { tag: 'float' }, required: true, default: undefined, description: 'the mean of the original numbers' },
        { name: 'count', type: { tag: 'int' }, required: true, default: undefined, description: 'how many numbers' },
      ],
      outputs: [
        { name: 'summary', type: { tag: 'str' }, description: 'one line for people' },
        { name: 'max', type: { tag: 'int' }, description: 'the largest scaled number' },
      ],
    };
  },

  run(ctx, inputs) {
    const byName = new Map(inputs);
    const scaled = byName.get('scaled');
    if (!scaled || scaled.tag !== 'artifact') throw 'input `scaled` must be an artifact';
    const mean = Number(scalar(byName.get('mean'), 'mean', ['float', 'int']));
    const count = scalar(byName.get('count'), 'count', ['int']); // a BigInt
    let result;
    try {
      const numbers = parseNumbers(readText(scaled.val.path));
      if (BigInt(numbers.length) !== count) {
        log('warn', `count is ${count} but ${scaled.val.path} holds ${numbers.length} numbers`);
      }
      result = summarize(numbers, mean, count);
    } catch (e) {
      // A thrown string becomes the `err` of run's result; the host fails the task with it.
      throw `${scaled.val.path}: ${e.payload ?? e.message ?? e}`;
    }
    log('info', `format_js (${ctx.taskId}): ${result.summary}`);
    return [
      ['summary', { tag: 'value', val: { nodes: [{ tag: 'str', val: result.summary }] } }],
      ['max', { tag: 'value', val: { nodes: [{ tag: 'int', val: BigInt(result.max) }] } }],
    ];
  },
};
