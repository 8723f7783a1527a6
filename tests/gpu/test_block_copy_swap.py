"""block_copy (copy-on-write) and block_swap (GPU <-> pinned host): exact bytes, nothing else touched."""
import pytest
import torch

from folio import ops


def random_pairs(num_pairs, num_blocks, device="cuda"):
    # Sources and destinations drawn from disjoint sets; destinations distinct (the ABI's rule).
    perm = torch.randperm(num_blocks)
    dst = perm[:num_pairs]
    src = perm[num_pairs:][torch.randint(0, num_blocks - num_pairs, (num_pairs,))]
    return torch.stack([src, dst], dim=1).int().to(device)


def apply_pairs(caches, pairs):
    out = [c.clone() for c in caches]
    p = pairs.long().cpu()
    for c, o in zip(caches, out):
        o[p[:, 1].to(c.device)] = c[p[:, 0].to(c.device)]
    return out


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("num_pairs", [1, 19, 99, 1000])
def test_block_copy_exact(num_pairs, dtype):
    num_blocks = 2 * num_pairs + 11
    caches = [torch.randn(num_blocks, 16, 4, 128, device="cuda").to(dtype) for _ in range(4)]  # K, V of 2 layers
    pairs = random_pairs(num_pairs, num_blocks)
    expected = apply_pairs(caches, pairs)
    ops.block_copy(caches, pairs)
    torch.cuda.synchronize()
    for c, e in zip(caches, expected):
        assert torch.equal(c.view(torch.uint8), e.view(torch.uint8))


def test_block_copy_skips_out_of_range_ids():
    caches = [torch.randn(8, 16, 2, 64, device="cuda") for _ in range(2)]
    before = [c.clone() for c in caches]
    pairs = torch.tensor([[1, 8], [-1, 2], [9, 3]], dtype=torch.int32, device="cuda")
    ops.block_copy(caches, pairs)
    torch.cuda.synchronize()
    assert all(torch.equal(c, b) for c, b in zip(caches, before))


@pytest.mark.parametrize("num_pairs", [1, 19, 99, 500])
def test_block_swap_out_and_in(num_pairs):
    gpu_blocks, cpu_blocks = num_pairs + 13, num_pairs + 7
    gpu = [torch.randn(gpu_blocks, 16, 4, 128, device="cuda").to(torch.bfloat16) for _ in range(2)]
    cpu = [torch.randn(cpu_blocks, 16, 4, 128).to(torch.bfloat16).pin_memory() for _ in range(2)]
    gpu_before = [g.clone() for g in gpu]
    out_pairs = torch.stack([torch.randperm(gpu_blocks)[:num_pairs], torch.randperm(cpu_blocks)[:num_pairs]], 1)
    expected_cpu = [c.clone() for c in cpu]
    for e, g in zip(expected_cpu, gpu):
        e[out_pairs[:, 1]] = g[out_pairs[:, 0].cuda()].cpu()
    ops.block_swap(gpu, cpu, out_pairs.int().cuda())
    torch.cuda.synchronize()
    for c, e in zip(cpu, expected_cpu):
        assert torch.equal(c.view(torch.uint8), e.view(torch.uint8)), "swap-out bytes differ"
    assert all(torch.equal(g, b) for g, b in zip(gpu, gpu_before)), "swap-out changed its GPU source"

    in_pairs = torch.stack([torch.randperm(cpu_blocks)[:num_pairs], torch.randperm(gpu_blocks)[:num_pairs]], 1)
    expected_gpu = [g.clone() for g in gpu]
    for e, c in zip(expected_gpu, cpu):
        e[in_pairs[:, 1].cuda()] = c[in_pairs[:, 0]].cuda()
    ops.block_swap(cpu, gpu, in_pairs.int().cuda())
    torch.cuda.synchronize()
    for g, e in zip(gpu, expected_gpu):
        assert torch.equal(g.view(torch.uint8), e.view(torch.uint8)), "swap-in bytes differ"


def test_block_swap_rejects_pageable_host_memory():
    gpu = [torch.randn(4, 16, 2, 64, device="cuda")]
    cpu = [torch.randn(4, 16, 2, 64)]  # not pinned: the GPU cannot address it
    with pytest.raises(ValueError, match="pinned"):
        ops.block_swap(gpu, cpu, torch.zeros(1, 2, dtype=torch.int32, device="cuda"))
