"""A real Hugging Face model folder (a committed random-weight fixture) on the CPU backend through libfolio."""

import json
from pathlib import Path

import pytest

import folio

FIXTURES = Path(__file__).resolve().parents[3] / "tests/fixtures/hf"


@pytest.mark.parametrize("name", ["llama3_rope", "qwen2_tied", "qwen3", "phi3_swa"])
def test_greedy_tokens_match_hugging_face(name):
    folder = FIXTURES / name
    reference = json.loads((folder / "reference.json").read_text())
    with folio.LLM(str(folder), block_size=4, num_gpu_blocks=128) as llm:
        params = folio.SamplingParams(temperature=0.0, max_tokens=len(reference["greedy"][0]["tokens"]),
                                      ignore_eos=True)
        outs = llm.generate(reference["prompts"], params)
        assert len(outs) == len(reference["prompts"]) == len(reference["greedy"]) == 4
        for out, want in zip(outs, reference["greedy"]):
            assert len(out.outputs[0].token_ids) == len(want["tokens"]) == 16
            # Exact up to the first near-tie in Hugging Face's own logits (margin < 1e-5), if any.
            n = next((i for i, m in enumerate(want["margins"]) if m < 1e-5), len(want["tokens"]))
            assert out.outputs[0].token_ids[:n] == want["tokens"][:n]
        assert llm.stats()["kv_blocks_used"] == 0


def test_model_folder_without_tokenizer_refuses_text_clearly():
    with folio.LLM(str(FIXTURES / "llama3_rope"), block_size=4, num_gpu_blocks=16) as llm:
        assert llm.vocab_size > 0
        with pytest.raises(folio.UnsupportedError, match="tokenizer"):
            llm.tokenize("hello")


def test_corrupt_model_folder_names_the_file(tmp_path):
    (tmp_path / "config.json").write_text("{ not json")
    with pytest.raises(folio.ModelLoadError, match="config.json"):
        folio.LLM(str(tmp_path))
    (tmp_path / "config.json").write_text((FIXTURES / "llama3_rope/config.json").read_text())
    (tmp_path / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{bad")
    with pytest.raises(folio.ModelLoadError, match="safetensors"):
        folio.LLM(str(tmp_path))


def test_requests_without_params_start_from_generation_config(tmp_path):
    folder = FIXTURES / "llama3_rope"
    for name in ("config.json", "model.safetensors"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    (tmp_path / "generation_config.json").write_text(json.dumps(
        {"bos_token_id": 1, "eos_token_id": 2, "temperature": 0.6, "top_p": 0.9, "top_k": 20, "min_p": 0.05,
         "repetition_penalty": 1.1, "max_new_tokens": 7}))
    with folio.LLM(str(tmp_path), block_size=4, num_gpu_blocks=64) as llm:
        d = llm.get_default_sampling_params()
        assert (d.temperature, d.top_p, d.top_k, d.min_p, d.repetition_penalty, d.max_tokens) == pytest.approx(
            (0.6, 0.9, 20, 0.05, 1.1, 7), rel=1e-6)
        assert (d.n, d.presence_penalty, d.ignore_eos, d.seed) == (1, 0.0, False, None)
        out = llm.generate([[234, 11, 12]])[0].outputs[0]
        assert len(out.token_ids) == 7 and out.finish_reason == "length"
    with folio.LLM(str(folder), block_size=4, num_gpu_blocks=16) as llm:  # no sampling values in its file
        assert llm.get_default_sampling_params() == folio.SamplingParams()
