// Deterministic conversation generator for the parity suite: system/user/assistant/tool turns, tool calls
// and tool definitions, empty and long content, emoji/CJK/combining marks/RTL, quotes and backslashes,
// text that looks like template syntax, add_generation_prompt on and off. Same seed => same cases.

// mulberry32: a small seeded PRNG (the cases must not depend on Math.random).
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  "Hello", "How are you today?", "Explain paged attention in one sentence.", "ok", "Thanks!",
  "👋🏽 hi there 🚀🔥", "你好，世界。今天天气怎么样？", "こんにちは", "안녕하세요", "e\u0301 vs \u00e9, n\u0303",
  "مرحبا بالعالم", "Ελληνικά", "He said \"hi\" and left.", "back\\slash \\n not a newline", "it's 'quoted'",
  "{{ not a tag }} {% neither %} {# nor this #}", "tab\tseparated\tvalues", "line one\nline two\n\nline four",
  "  leading and trailing spaces  ", "\n\nnewlines around\n\n", "<b>markup</b> & entities &amp;", "100% sure; 3 < 4 > 2",
  "null", "true", "0", "-1.5e3", "a\u200bzero-width", "\u00a0non-breaking\u00a0", "🧑‍🤝‍🧑 family", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
];

// Cuts to at most n code points: never splits a surrogate pair (UTF-8 input, as the C ABI gets, cannot hold one).
export const cut = (s, n) => Array.from(s).slice(0, n).join("");

export function makeText(r, { allowEmpty = true } = {}) {
  const roll = r();
  if (allowEmpty && roll < 0.06) return "";
  if (roll < 0.1) return FRAGMENTS[Math.floor(r() * FRAGMENTS.length)].repeat(40 + Math.floor(r() * 60)); // long
  const n = 1 + Math.floor(r() * 4);
  const parts = [];
  for (let i = 0; i < n; i++) parts.push(FRAGMENTS[Math.floor(r() * FRAGMENTS.length)]);
  const seps = [" ", "\n", "", "  ", "\n\n"];
  return parts.join(seps[Math.floor(r() * seps.length)]);
}

const TOOL_NAMES = ["get_weather", "search_web", "run_python", "lookup_stock", "send_email"];

export function makeTools(r) {
  const n = 1 + Math.floor(r() * 3);
  const tools = [];
  for (let i = 0; i < n; i++) {
    const name = TOOL_NAMES[(i + Math.floor(r() * TOOL_NAMES.length)) % TOOL_NAMES.length] + (i > 0 ? `_${i}` : "");
    const props = {};
    const required = [];
    const np = Math.floor(r() * 4);
    for (let j = 0; j < np; j++) {
      const pname = ["location", "query", "unit", "code", "limit", "to"][(j + i) % 6];
      const kind = ["string", "integer", "number", "boolean", "array"][Math.floor(r() * 5)];
      const p = { type: kind, description: cut(makeText(r, { allowEmpty: false }), 60) };
      if (kind === "string" && r() < 0.4) p.enum = ["celsius", "fahrenheit", "kelvin \"K\""];
      if (kind === "array") p.items = { type: "string" };
      props[pname] = p;
      if (r() < 0.6) required.push(pname);
    }
    tools.push({
      type: "function",
      function: { name, description: cut(makeText(r, { allowEmpty: false }), 120), parameters: { type: "object", properties: props, required } },
    });
  }
  return tools;
}

function makeArguments(r) {
  const args = {};
  const n = Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const key = ["location", "query", "limit", "unit", "flags", "nested"][i];
    const roll = r();
    args[key] = roll < 0.35 ? cut(makeText(r), 40)
      : roll < 0.5 ? Math.floor(r() * 1000) - 100
      : roll < 0.6 ? Math.round(r() * 1e4) / 100
      : roll < 0.7 ? r() < 0.5
      : roll < 0.8 ? null
      : roll < 0.9 ? ["a", 1, true, null, "☃"]
      : { inner: "x\"y", list: [1.5, -2], deep: { k: "\\" } };
  }
  return args;
}

export function makeToolCall(r, stringArguments) {
  const args = makeArguments(r);
  return {
    id: `call_${Math.floor(r() * 1e6)}`,
    type: "function",
    function: { name: TOOL_NAMES[Math.floor(r() * TOOL_NAMES.length)], arguments: stringArguments ? JSON.stringify(args) : args },
  };
}

/**
 * One conversation in the shape `style` wants:
 *  - "plain": any roles in any order, string content (llama3_1);
 *  - "alternating": optional system, then user/assistant strictly alternating (gemma3);
 *  - "qwen3": system/user/assistant/tool with tool calls (object or string arguments), <think> blocks, reasoning_content;
 *  - "deepseek": user/assistant/tool, tool calls with string arguments and content none.
 */
function makeParts(r, text) {
  const parts = [{ type: "text", text }];
  const n = Math.floor(r() * 3);
  for (let i = 0; i < n; i++) parts.push(r() < 0.5 ? { type: "image" } : { type: "text", text: makeText(r) });
  if (r() < 0.3) parts.push({ type: "image", url: "https://example.com/cat.png" });
  return parts;
}

export function makeConversation(r, style) {
  const messages = [];
  const useTools = (style === "qwen3" || style === "deepseek") && r() < 0.5;
  if (r() < 0.5) messages.push({ role: "system", content: makeText(r) });
  const turns = Math.floor(r() * 7);
  for (let t = 0; t < turns; t++) {
    if (style === "plain") {
      const role = ["user", "assistant", "system", "tool"][Math.floor(r() * 4)];
      messages.push({ role, content: makeText(r) });
      continue;
    }
    let user = makeText(r);
    if (style === "qwen3" && r() < 0.1) user = `<tool_response>${user}</tool_response>`;
    messages.push({ role: "user", content: user });
    if (t === turns - 1 && r() < 0.5) break; // end on a user turn
    if (style === "alternating") {
      messages.push({ role: "assistant", content: makeText(r) });
      continue;
    }
    if (useTools && r() < 0.5) {
      const calls = [];
      const nc = 1 + Math.floor(r() * 2);
      for (let c = 0; c < nc; c++) calls.push(makeToolCall(r, style === "deepseek" || r() < 0.3));
      const content = style === "deepseek" ? null : r() < 0.5 ? "" : makeText(r);
      messages.push({ role: "assistant", content, tool_calls: calls });
      for (let c = 0; c < nc; c++) messages.push({ role: "tool", tool_call_id: calls[c].id, content: makeText(r) });
    }
    const msg = { role: "assistant", content: makeText(r) };
    if (style === "qwen3") {
      const roll = r();
      if (roll < 0.25) msg.content = `<think>\n${makeText(r)}\n</think>\n\n${msg.content}`;
      else if (roll < 0.4) msg.reasoning_content = makeText(r);
      else if (roll < 0.45) msg.reasoning_content = null;
    }
    messages.push(msg);
  }
  if (messages.length === 0) messages.push({ role: "user", content: makeText(r) });
  // Multimodal content parts (gemma3's template takes a list of {"type": "text"|"image"} parts).
  if (style === "alternating") {
    for (const m of messages) {
      if (r() < 0.25) m.content = makeParts(r, m.content);
    }
  }
  const options = { add_generation_prompt: r() < 0.5 };
  if (style === "qwen3") {
    const roll = r();
    if (roll < 0.33) options.enable_thinking = false;
    else if (roll < 0.66) options.enable_thinking = true;
  }
  return { messages, tools: useTools ? makeTools(r) : null, options };
}
