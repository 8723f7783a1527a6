// Random expression templates from a small grammar (seeded), for differential testing against
// @huggingface/jinja: only constructs it supports. A case passes when both engines give the same text or
// both raise an error, so the grammar may (and does) produce ill-typed expressions. Where the reference
// raises and Folio renders (iterating a string or undefined, reversing a string: Python Jinja's meaning),
// the parity runner counts the case as skipped, never as passed.
import { rng } from "./conversations.mjs";

export const FUZZ_CONTEXT = {
  i: 7, j: -3, z: 0, x: 2.5, y: -0.75, w: 4.0, s: "Hello, World", e: "", u: "ünï 👋 日本", sp: "  pad me \n",
  l: [3, 1, 2], ls: ["b", "A", "c"], le: [], lm: [1, "a", null, true, 2.5], d: { k: "v", n: 1, a: [1, 2] }, de: {},
  t: true, f: false, nn: null, m: [{ role: "user", content: "hi" }, { role: "assistant", content: "yo", x: 1 }],
};

const LEAVES = ["i", "j", "z", "x", "y", "w", "s", "e", "u", "sp", "l", "ls", "le", "lm", "d", "de", "t", "f", "nn", "undef",
  "m", "1", "0", "-2", "3.5", "'abc'", "'a,b'", "''", "[1, 2]", "['x', 'y']", "{'p': 1}", "none", "true", "false"];
const BINOPS = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or"];
const FILTERS = ["length", "upper", "lower", "trim", "first", "last", "join", "join(',')", "tojson", "tojson(indent=2)", "string",
  "int", "float", "abs", "list", "reverse", "sort", "unique", "default('D')", "default('D', true)", "items", "capitalize",
  "title", "replace('a', 'b')", "indent(2)", "safe", "map(attribute='role')", "selectattr('x')", "dictsort"];
const TESTS = ["defined", "undefined", "none", "string", "number", "integer", "mapping", "iterable", "sequence", "odd", "even",
  "true", "false", "boolean", "callable", "lower", "upper"];
const METHODS = [".upper()", ".lower()", ".strip()", ".split(',')", ".split()", ".startswith('H')", ".endswith('d')",
  ".get('k')", ".get('zz', 'dflt')", ".items()", ".keys()", ".values()", ".replace('l', 'L')", ".title()", ".length", ".rstrip()"];
const SUBSCRIPTS = ["[0]", "[-1]", "[1]", "[1:]", "[:2]", "[::-1]", "[::2]", "['k']", "[1:-1]", "[-2:]"];

function pick(r, xs) { return xs[Math.floor(r() * xs.length)]; }

function expr(r, depth) {
  if (depth <= 0 || r() < 0.25) return pick(r, LEAVES);
  const roll = r();
  if (roll < 0.3) {
    const op = pick(r, BINOPS);
    let right = expr(r, depth - 1);
    // Division by zero is left out on purpose: Folio raises (as Python) where JavaScript gives Infinity/NaN.
    if (["/", "//", "%"].includes(op) && ["z", "0", "f", "false", "nn", "none"].includes(right)) right = "i";
    return `(${expr(r, depth - 1)} ${op} ${right})`;
  }
  if (roll < 0.45) return `${pick(r, LEAVES)} | ${pick(r, FILTERS)}`;
  if (roll < 0.55) return `(${expr(r, depth - 1)} is ${r() < 0.3 ? "not " : ""}${pick(r, TESTS)})`;
  if (roll < 0.67) return `${pick(r, ["s", "u", "sp", "d", "de", "'a,b'", "e"])}${pick(r, METHODS)}`;
  if (roll < 0.79) return `${pick(r, ["l", "ls", "lm", "s", "u", "d", "m", "le", "e", "[1, 2, 3]"])}${pick(r, SUBSCRIPTS)}`;
  if (roll < 0.87) return `(${expr(r, depth - 1)} if ${expr(r, depth - 1)} else ${expr(r, depth - 1)})`;
  if (roll < 0.94) return `(not ${expr(r, depth - 1)})`;
  return `(-${pick(r, ["i", "x", "j", "t", "s", "1"])})`;
}

export function fuzzTemplates(seed, count) {
  const r = rng(seed);
  const out = [];
  for (let n = 0; n < count; n++) {
    const e = expr(r, 3);
    const shape = r();
    const template = shape < 0.6 ? `{{ ${e} }}`
      : shape < 0.8 ? `{% if ${e} %}T{% else %}F{% endif %}`
      : `{% for v in ${e} %}{{ v }}|{% else %}empty{% endfor %}`;
    out.push([`fuzz-${n}`, template]);
  }
  return out;
}
