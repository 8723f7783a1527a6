using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Folio.Core.KvCache;

/// <summary>
/// The default 64-bit chained block hash, wyhash-style: each 16 bytes of token ids are folded in with one
/// 64×64→128-bit multiply whose halves are XORed ("mum"). Two independent lanes take alternate 16-byte
/// halves of each 32-byte stripe, so a 16-token block costs two rounds of two multiplies plus a final fold.
/// The parent hash, mixed first, seeds one lane; the extra key the other. Not cryptographic: the prefix cache confirms
/// every hit by comparing token ids, so a collision costs a hit, never correctness.
/// </summary>
public sealed class DefaultBlockHasher : IBlockHasher
{
    /// <summary>The shared stateless instance.</summary>
    public static readonly DefaultBlockHasher Instance = new();

    // Odd 64-bit constants with about half their bits set (from the golden ratio and the xxHash primes).
    private const ulong K0 = 0x9E3779B97F4A7C15UL;
    private const ulong K1 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong K2 = 0x165667B19E3779F9UL;
    private const ulong K3 = 0x85EBCA77C2B2AE63UL;
    private const ulong K4 = 0x27D4EB2F165667C5UL;
    private const ulong K5 = 0xD6E8FEB86659FD93UL;
    private const ulong P1 = 0x9E3779B185EBCA87UL;
    private const ulong P2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong P3 = 0x165667B19E3779F9UL;

    public ulong Hash(ulong parentHash, ReadOnlySpan<int> blockTokens, ulong extraKey)
    {
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<int, ulong>(blockTokens);
        // Mix parent and extra key before they meet token ids, so that a parent hash and a token id XORed into
        // the same lane position cannot stand in for each other.
        ulong a = Mum(parentHash ^ K0, K5);
        ulong b = Mum(extraKey ^ K1, K4);
        int i = 0;
        for (; i + 4 <= words.Length; i += 4)
        {
            a = Mum(words[i] ^ K2, words[i + 1] ^ a);
            b = Mum(words[i + 2] ^ K3, words[i + 3] ^ b);
        }
        for (; i < words.Length; i++)
            a = Mum(words[i] ^ K4, a ^ K5);
        if ((blockTokens.Length & 1) != 0)
            b = Mum((uint)blockTokens[^1] ^ K4, b ^ K3);
        return Mum(a ^ K5 ^ (ulong)blockTokens.Length, b ^ K2);
    }

    /// <summary>A deterministic 64-bit hash of a string (ordinal, UTF-16 code units); 0 for null.</summary>
    public static ulong HashString(string? s)
    {
        if (s is null)
            return 0;
        ulong h = K4 + (ulong)s.Length;
        foreach (char c in s)
            h = BitOperations.RotateLeft(h ^ (c * P1), 31) * P2;
        h = Avalanche(h);
        return h == 0 ? P3 : h;   // 0 means "no key"; a present key (even "") never hashes to it
    }

    /// <summary>The extra key of block <paramref name="blockIndex"/>: salt on the first block only, adapter on all.</summary>
    public static ulong ExtraKey(ulong saltHash, ulong adapterHash, int blockIndex)
        => blockIndex == 0 && saltHash != 0 ? Avalanche(saltHash * P2 + adapterHash) : adapterHash;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mum(ulong x, ulong y)
    {
        ulong hi = Math.BigMul(x, y, out ulong lo);
        return hi ^ lo;
    }

    private static ulong Avalanche(ulong h)
    {
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        h ^= h >> 32;
        return h;
    }
}
