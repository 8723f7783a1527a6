"""Token constraints through libfolio.so on the built-in tiny model (random weights, GPT-2's tokenizer): only the
constraint makes its outputs valid."""

import json
import re

import pytest

import folio
from folio import StructuredOutputsParams


@pytest.fixture(scope="module")
def llm():
    engine = folio.LLM("builtin:tiny", num_gpu_blocks=256, num_threads=2)
    yield engine
    engine.close()


def test_fields_reach_the_c_struct():
    params = folio.SamplingParams(
        structured_outputs=StructuredOutputsParams(choice=["a", "bé"]), logit_bias={5: -1.5, 7: 2.0},
        allowed_token_ids=[1, 2], bad_words=["x y"])
    c, keep = params.to_c()
    assert c.structured_output_kind == 3 and c.num_choices == 2
    assert [c.choices[i][:c.choice_lens[i]] for i in range(2)] == [b"a", "bé".encode()]
    assert [c.logit_bias_token_ids[i] for i in range(2)] == [5, 7]
    assert [c.logit_bias_values[i] for i in range(2)] == [-1.5, 2.0]
    assert [c.allowed_token_ids[i] for i in range(c.num_allowed_token_ids)] == [1, 2]
    assert c.num_bad_words == 1 and c.bad_words[0][:c.bad_word_lens[0]] == b"x y"
    schema = {"type": "object"}
    c, keep = folio.SamplingParams(structured_outputs=StructuredOutputsParams(json=schema)).to_c()
    assert (c.structured_output_kind, c.structured_output[:c.structured_output_len]) == (1, json.dumps(schema).encode())
    c, keep = folio.SamplingParams().to_c()
    assert (c.structured_output_kind, c.num_logit_bias, c.num_allowed_token_ids, c.num_bad_words) == (0, 0, 0, 0)
    with pytest.raises(ValueError, match="exactly one of"):
        folio.SamplingParams(structured_outputs=StructuredOutputsParams(regex="a", grammar="root ::= \"a\"")).to_c()


def test_json_schema_outputs_parse_and_validate(llm):
    schema = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 8},
                                               "age": {"type": "integer", "minimum": 0, "maximum": 120},
                                               "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3}},
              "required": ["name", "age"], "additionalProperties": False}
    closers = {i: 12.0 for i in range(llm.vocab_size) if llm.detokenize([i]) in ('"', '}', ']', '",', '"}')}
    params = folio.SamplingParams(max_tokens=96, seed=4, n=4, logit_bias=closers,
                                  structured_outputs=StructuredOutputsParams(json=schema))
    finished = 0
    for out in llm.generate(["A person as JSON:"], params)[0].outputs:
        if out.finish_reason == "length":
            continue
        assert out.finish_reason == "stop"
        value = json.loads(out.text)
        finished += 1
        assert set(value) <= {"name", "age", "tags"} and {"name", "age"} <= set(value)
        assert isinstance(value["name"], str) and len(value["name"]) <= 8
        assert type(value["age"]) is int and 0 <= value["age"] <= 120
        assert all(t in ("a", "b") for t in value.get("tags", [])) and len(value.get("tags", [])) <= 3
    assert finished > 0


def test_regex_choice_and_allowed_ids(llm):
    out = llm.generate(["Code:"], folio.SamplingParams(
        max_tokens=32, seed=1, structured_outputs=StructuredOutputsParams(regex=r"[A-Z]{2}-\d{4}")))[0].outputs[0]
    assert out.finish_reason == "stop" and re.fullmatch(r"[A-Z]{2}-\d{4}", out.text)
    outs = llm.generate(["Mood:"], folio.SamplingParams(
        max_tokens=8, seed=2, n=3, structured_outputs=StructuredOutputsParams(choice=["happy", "sad"])))[0].outputs
    assert [o.text in ("happy", "sad") for o in outs] == [True, True, True]
    allowed = llm.tokenize(" one two three")
    out = llm.generate(["Count:"], folio.SamplingParams(max_tokens=6, seed=3, allowed_token_ids=allowed))[0].outputs[0]
    assert set(out.token_ids) <= set(allowed)


def test_bad_schema_is_refused_at_add_and_the_engine_keeps_serving(llm):
    bad = StructuredOutputsParams(json={"type": "object", "properties": {"x": {"type": "number", "multipleOf": 5}}})
    with pytest.raises(folio.InvalidArgumentError, match=r"unsupported keyword 'multipleOf' at #/properties/x"):
        llm.generate(["x"], folio.SamplingParams(structured_outputs=bad))
    with pytest.raises(folio.InvalidArgumentError, match=r"structured_outputs\.regex"):
        llm.generate(["x"], folio.SamplingParams(structured_outputs=StructuredOutputsParams(regex="(a")))
    out = llm.generate(["Yes or no:"], folio.SamplingParams(
        max_tokens=4, structured_outputs=StructuredOutputsParams(choice=["yes", "no"])))[0].outputs[0]
    assert out.text in ("yes", "no")
