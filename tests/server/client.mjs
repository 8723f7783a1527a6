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

const close = (a, b) => Math.abs(a - b) < 1e-4;

await test("completions: logprobs (k = 2) per token, the stream equal to the whole response", async () => {
  const req = { ...seeded, max_tokens: 6, logprobs: 2 };
  const r = await plain.completions.create(req);
  for (const c of r.choices) {
    const lp = c.logprobs;
    eq(lp.tokens.length, 6, "one entry per token");
    eq([lp.token_logprobs.length, lp.top_logprobs.length, lp.text_offset.length], [6, 6, 6], "parallel lists");
    assert(lp.token_logprobs.every((x) => x <= 0 && Number.isFinite(x)), `logprobs ${lp.token_logprobs}`);
    lp.text_offset.forEach((o, i) => eq(o, lp.tokens.slice(0, i).join("").length, `text_offset ${i}`));
    lp.top_logprobs.forEach((top, i) => {
      const keys = Object.keys(top);
      assert(keys.length >= 1 && keys.length <= 3, `top ${i} has ${keys.length} entries`);
      assert(close(top[lp.tokens[i]], lp.token_logprobs[i]), `top ${i} lacks the sampled token with its logprob`);
      assert(Object.values(top).every((v) => v <= 0), `top ${i} values`);
    });
  }
  const streamed = { 0: [], 1: [] };
  for await (const chunk of await plain.completions.create({ ...req, stream: true }))
    for (const c of chunk.choices) if (c.logprobs) streamed[c.index].push(...c.logprobs.token_logprobs);
  eq([streamed[0], streamed[1]], r.choices.map((c) => c.logprobs.token_logprobs), "streamed token_logprobs");
});

await test("completions: echo puts the prompt first; with logprobs it is a 400", async () => {
  const r = await plain.completions.create({ ...seeded, n: 1, echo: true });
  const plainText = (await plain.completions.create({ ...seeded, n: 1 })).choices[0].text;
  eq(r.choices[0].text, prompt + plainText, "echoed text");
  await rejects(plain.completions.create({ ...seeded, echo: true, logprobs: 1 }), OpenAI.BadRequestError, 400, "prompt logprobs", "echo + logprobs");
});

await test("chat completions: logprobs with top_logprobs = 3, whole and streamed", async () => {
  const req = { ...chatSeeded, n: 1, logprobs: true, top_logprobs: 3 };
  const r = await chat.chat.completions.create(req);
  const content = r.choices[0].logprobs.content;
  eq(content.length, r.usage.completion_tokens, "one entry per token");
  for (const e of content) {
    assert(e.logprob <= 0 && e.bytes.every((b) => b >= 0 && b < 256), `entry ${JSON.stringify(e)}`);
    eq(e.top_logprobs.length, 3, "top_logprobs per token");
    for (let j = 1; j < 3; j++) assert(e.top_logprobs[j].logprob <= e.top_logprobs[j - 1].logprob, "top_logprobs in order");
    assert(e.logprob <= e.top_logprobs[0].logprob + 1e-4, "no token above the most likely");
  }
  const streamed = [];
  for await (const chunk of await chat.chat.completions.create({ ...req, stream: true }))
    for (const c of chunk.choices) if (c.logprobs) streamed.push(...c.logprobs.content.map((e) => e.logprob));
  eq(streamed, content.map((e) => e.logprob), "streamed logprobs");
});

await test("a wrong API key is a 401", () =>
  rejects(wrongKey.chat.completions.create(chatSeeded), OpenAI.AuthenticationError, 401, "API key", "wrong key"));

console.log(`CLIENT ${passed} ${failed}`);
