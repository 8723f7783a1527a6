// client.mjs PLAIN_URL CHAT_URL API_KEY: the official `openai` package against two `folio serve` processes:
//   PLAIN_URL  folio serve --model tiny (no chat template), no API key
//   CHAT_URL   the tiny shape in a folder carrying Qwen3's real chat template, with --api-key API_KEY
// Prints "ok NAME" or "FAIL NAME: why" per test and "CLIENT <passed> <failed>" last (server.sh counts them).
import OpenAI from "openai";

const [plainUrl, chatUrl, apiKey] = process.argv.slice(2);
const plain = new OpenAI({ baseURL: `${plainUrl}v1`, apiKey: "unused", maxRetries: 0 });
const chat = new OpenAI({ baseURL: `${chatUrl}v1`, apiKey, maxRetries: 0 });
const wrongKey = new OpenAI({ baseURL: `${chatUrl}v1`, apiKey: apiKey + "x", maxRetries: 0 });
let passed = 0, failed = 0;

function assert(cond, what) { if (!cond) throw new Error(what); }
function eq(a, b, what) { assert(JSON.stringify(a) === JSON.stringify(b), `${what}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`); }

async function test(name, body) {
  try {
    await body();
    passed++;
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
  }
}

async function rejects(promise, cls, status, text, what) {
  try {
    await promise;
  } catch (e) {
    assert(e instanceof cls, `${what}: expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`);
    eq(e.status, status, `${what}: status`);
    assert(e.message.includes(text), `${what}: message '${e.message}' lacks '${text}'`);
    return;
  }
  throw new Error(`${what}: succeeded`);
}

async function tokenCount(url, body) {
  const r = await fetch(`${url}tokenize`, { method: "POST", body: JSON.stringify(body) });
  return (await r.json()).count;
}

/** Per choice index: the streamed text and finish reason, and the usage chunk (which must come last). */
async function gather(stream, chatMode) {
  const text = {}, reasons = {};
  let usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    assert(usage === null, "a chunk after the usage chunk");
    if (chunk.usage) { usage = chunk.usage; eq(chunk.choices, [], "usage chunk choices"); continue; }
    for (const c of chunk.choices) {
      const piece = chatMode ? (c.delta.content ?? "") : c.text;
      text[c.index] = (text[c.index] ?? "") + piece;
      if (c.finish_reason) { assert(!(c.index in reasons), `choice ${c.index} finished twice`); reasons[c.index] = c.finish_reason; }
    }
  }
  return { text, reasons, usage, chunks };
}

const prompt = "The paged KV cache stores";
const seeded = { model: "tiny", prompt, max_tokens: 10, n: 2, seed: 7, temperature: 0.9 };

await test("models.list names the served model", async () => {
  const models = await plain.models.list();
  eq(models.data.map((m) => m.id), ["tiny"], "model ids");
});

let whole;
await test("completions: n=2, finish reasons, usage", async () => {
  whole = await plain.completions.create(seeded);
  eq(whole.object, "text_completion", "object");
  eq(whole.choices.map((c) => c.index), [0, 1], "indices");
  for (const c of whole.choices) { eq(c.finish_reason, "length", "finish_reason"); assert(c.text.length > 0, "empty text"); }
  const promptTokens = await tokenCount(plainUrl, { prompt });
  eq(whole.usage, { prompt_tokens: promptTokens, completion_tokens: 20, total_tokens: promptTokens + 20 }, "usage");
});

await test("completions: the stream equals the whole response (seeded), usage last", async () => {
  const s = await gather(await plain.completions.create({ ...seeded, stream: true, stream_options: { include_usage: true } }), false);
  assert(s.chunks > 4, `only ${s.chunks} chunks`);
  eq([s.text[0], s.text[1]], whole.choices.map((c) => c.text), "streamed text");
  eq(s.reasons, { 0: "length", 1: "length" }, "finish reasons");
  eq(s.usage, whole.usage, "usage");
});

await test("completions: a stop string ends the text before it, finish_reason stop", async () => {
  const base = { ...seeded, n: 1, max_tokens: 16 };
  const full = (await plain.completions.create(base)).choices[0].text;
  const stop = full.slice(Math.floor(full.length / 2), Math.floor(full.length / 2) + 3);
  const expected = full.slice(0, full.indexOf(stop));
  const r = await plain.completions.create({ ...base, stop: [stop] });
  eq(r.choices[0].text, expected, "stopped text");
  eq(r.choices[0].finish_reason, "stop", "finish_reason");
  const s = await gather(await plain.completions.create({ ...base, stop: [stop], stream: true }), false);
  eq(s.text[0], expected, "stopped stream");
  eq(s.reasons[0], "stop", "stream finish_reason");
});

await test("chat on a model without a template is a 400", () =>
  rejects(plain.chat.completions.create({ model: "tiny", messages: [{ role: "user", content: "Hi" }] }),
    OpenAI.BadRequestError, 400, "no chat template", "chat on tiny"));

await test("an unknown model is a 404", () =>
  rejects(plain.completions.create({ ...seeded, model: "gpt-4o" }), OpenAI.NotFoundError, 404, "does not exist", "unknown model"));

await test("max_tokens beyond the context is a 400", () =>
  rejects(plain.completions.create({ ...seeded, max_tokens: 100000 }), OpenAI.BadRequestError, 400, "maximum context length", "max_tokens"));

const messages = [{ role: "system", content: "You are brief." }, { role: "user", content: "Name a prime number." }];
const chatSeeded = { model: "tiny-chat", messages, max_tokens: 8, n: 2, seed: 3, temperature: 0.9 };
let chatWhole;
await test("chat completions with Qwen3's template: n=2, role, usage", async () => {
  chatWhole = await chat.chat.completions.create(chatSeeded);
  eq(chatWhole.object, "chat.completion", "object");
  eq(chatWhole.choices.map((c) => [c.index, c.message.role, c.finish_reason]), [[0, "assistant", "length"], [1, "assistant", "length"]], "choices");
  const promptTokens = await tokenCount(chatUrl, { messages });
  assert(promptTokens > 10, `prompt of ${promptTokens} tokens`);
  eq(chatWhole.usage, { prompt_tokens: promptTokens, completion_tokens: 16, total_tokens: promptTokens + 16 }, "usage");
});

await test("chat completions: the stream equals the whole response (seeded)", async () => {
  const s = await gather(await chat.chat.completions.create({ ...chatSeeded, stream: true, stream_options: { include_usage: true } }), true);
  eq([s.text[0], s.text[1]], chatWhole.choices.map((c) => c.message.content), "streamed content");
  eq(s.reasons, { 0: "length", 1: "length" }, "finish reasons");
  eq(s.usage, chatWhole.usage, "usage");
});

await test("a wrong API key is a 401", () =>
  rejects(wrongKey.chat.completions.create(chatSeeded), OpenAI.AuthenticationError, 401, "API key", "wrong key"));

console.log(`CLIENT ${passed} ${failed}`);
