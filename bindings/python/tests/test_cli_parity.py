"""The Python package reproduces `folio generate` exactly: same model, prompt and seed give the same text."""

import shutil
import subprocess
from pathlib import Path

import pytest

import folio

ROOT = Path(__file__).resolve().parents[3]


def folio_generate(*args: str) -> str:
    if shutil.which("dotnet") is None:
        pytest.skip("the folio CLI needs the .NET SDK")
    run = subprocess.run([str(ROOT / "folio"), "generate", *args], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith("\n")
    return run.stdout[:-1]


@pytest.mark.parametrize("prompt,seed", [("Hello", "7"), ("The paged KV cache", None)])
def test_generate_matches_the_cli(prompt, seed):
    cli_args = ["--model", "tiny", "--prompt", prompt, "--max-tokens", "12"]
    if seed is not None:
        cli_args += ["--seed", seed]
    expected = folio_generate(*cli_args)
    # folio generate's defaults: temperature 0.8, top_p 1, no top_k; the seed also seeds the built-in weights.
    s = int(seed) if seed is not None else None
    params = folio.SamplingParams(max_tokens=12, temperature=0.8, seed=s)
    with folio.LLM("builtin:tiny", seed=s or 0) as llm:
        out = llm.generate(prompt, params)[0].outputs[0]
        streamed = "".join(o.text for o in llm.stream(prompt, params))
    assert out.text == expected
    assert streamed == expected
    assert len(out.token_ids) == 12
