"""LLM.chat and LLM.apply_chat_template (folio_engine_apply_chat_template, ABI 1.3) on a model folder whose
tokenizer_config.json carries a chat template: exact rendered text, chat == generate on the rendered ids."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import folio

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ("{{ bos_token }}{% for m in messages %}"
            "{% if m.role == 'bad' %}{{ raise_exception('bad role: ' ~ m.content) }}{% endif %}"
            "<|{{ m.role }}|>{{ m.content }}\n{% endfor %}"
            "{% if tools %}tools: {{ tools | map(attribute='name') | join(',') }}\n{% endif %}"
            "{% if enable_thinking is defined and not enable_thinking %}(no thinking)\n{% endif %}"
            "{% if add_generation_prompt %}<|assistant|>{% endif %}")


@pytest.fixture(scope="module")
def chat_model(tmp_path_factory):
    """The built-in tiny shape written as a folder (GPT-2 vocabulary) plus a tokenizer_config.json template."""
    if shutil.which("dotnet") is None:
        pytest.skip("writing a model folder needs the folio CLI (.NET SDK)")
    folder = tmp_path_factory.mktemp("chat") / "tiny-chat"
    subprocess.run([str(ROOT / "folio"), "model", "init", "--shape", "tiny", "--out", str(folder)], check=True,
                   capture_output=True, timeout=600)
    (folder / "tokenizer_config.json").write_text(json.dumps({"bos_token": "<s>", "chat_template": TEMPLATE}))
    with folio.LLM(str(folder), block_size=16, num_gpu_blocks=64) as llm:
        yield llm


CONVERSATION = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi é 👋"}]


def test_apply_chat_template_renders_exactly(chat_model):
    assert chat_model.apply_chat_template(CONVERSATION) == "<s><|system|>Be brief.\n<|user|>Hi é 👋\n<|assistant|>"
    assert chat_model.apply_chat_template(CONVERSATION, add_generation_prompt=False,
                                          tools=[{"name": "get_weather"}, {"name": "add"}],
                                          chat_template_kwargs={"enable_thinking": False}) == \
        "<s><|system|>Be brief.\n<|user|>Hi é 👋\ntools: get_weather,add\n(no thinking)\n"


def test_chat_generates_from_the_rendered_prompt(chat_model):
    params = folio.SamplingParams(max_tokens=6, temperature=0.0, ignore_eos=True)
    out = chat_model.chat(CONVERSATION, params)
    assert len(out) == 1
    text = chat_model.apply_chat_template(CONVERSATION)
    assert out[0].prompt == text
    # The template wrote the special text itself: tokenized without added special tokens (as vLLM's chat does).
    want = chat_model.generate(chat_model.tokenize(text, add_special_tokens=False), params)[0]
    assert out[0].prompt_token_ids == want.prompt_token_ids
    assert out[0].outputs[0].token_ids == want.outputs[0].token_ids and len(want.outputs[0].token_ids) == 6
    two = chat_model.chat([CONVERSATION, CONVERSATION[1:]], params)
    assert [o.prompt for o in two] == [text, "<s><|user|>Hi é 👋\n<|assistant|>"]
    assert two[0].outputs[0].token_ids == out[0].outputs[0].token_ids
    assert chat_model.stats()["kv_blocks_used"] == 0


def test_template_errors_and_models_without_a_template(chat_model):
    with pytest.raises(folio.InvalidArgumentError, match="bad role: x"):
        chat_model.chat([{"role": "bad", "content": "x"}])
    with folio.LLM("builtin:fake", num_gpu_blocks=16, block_size=4) as fake:
        with pytest.raises(folio.UnsupportedError, match="no chat template"):
            fake.chat([{"role": "user", "content": "hi"}])
    # Still serving after the errors.
    assert chat_model.apply_chat_template([], add_generation_prompt=True) == "<s><|assistant|>"
