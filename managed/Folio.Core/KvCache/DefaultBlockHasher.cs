using System.Numerics;
using System.Runtime.InteropServices;

namespace Folio.Core.KvCache;

/// <summary>
/// The default 64-bit chained block hash: an xxHash64-style construction (four independent multiply-rotate
/// lanes over 32-byte stripes, then a full avalanche) seeded by the parent hash and the extra key. Four lanes
/// keep the multiplies independent, so a 16-token block costs a few nanoseconds. Not cryptographic:
/// the prefix cache confirms every hit by comparing token ids.
/// </summary>
public sealed class DefaultBlockHasher : IBlockHasher
{
    /// <summary>The shared stateless instance.</summary>
    public static readonly DefaultBlockHasher Instance = new();

    private const ulong P1 = 0x9E3779B185EBCA87UL;
    private const ulong P2 = 0xC2B2AE3D27D4EB4FUL;
    private const ulong P3 = 0x165667B19E3779F9UL;
    private const ulong P4 = 0x85EBCA77C2B2AE63UL;
    private const ulong P5 = 0x27D4EB2F165667C5UL;

    public ulong Hash(ulong parentHash, ReadOnlySpan<int> blockTokens, ulong extraKey)
    {
        // The seed mixes parent and extra key so that (parent, extra) pairs do not cancel each other.
        ulong seed = parentHash ^ Round(P5, extraKey);
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<int, ulong>(blockTokens);
        ulong h;
        int i = 0;
        if (words.Length >= 4)
        {
            ulong v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
            for (; i + 4 <= words.Length; i += 4)
            {
                v1 = Round(v1, words[i]);
                v2 = Round(v2, words[i + 1]);
                v3 = Round(v3, words[i + 2]);
                v4 = Round(v4, words[i + 3]);
            }
            h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7)
              + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
            h = MergeLane(h, v1);
            h = MergeLane(h, v2);
            h = MergeLane(h, v3);
            h = MergeLane(h, v4);
        }
        else
        {
            h = seed + P5;
        }
        h += (ulong)blockTokens.Length * sizeof(int);
        for (; i < words.Length; i++)
            h = BitOperations.RotateLeft(h ^ Round(0, words[i]), 27) * P1 + P4;
        if ((blockTokens.Length & 1) != 0)
            h = BitOperations.RotateLeft(h ^ ((uint)blockTokens[^1] * P1), 23) * P2 + P3;
        return Avalanche(h);
    }

    /// <summary>A deterministic 64-bit hash of a string (ordinal, UTF-16 code units); 0 for null.</summary>
    public static ulong HashString(string? s)
    {
        if (s is null)
            return 0;
        ulong h = P5 + (ulong)s.Length;
        foreach (char c in s)
            h = BitOperations.RotateLeft(h ^ (c * P1), 31) * P2;
        h = Avalanche(h);
        return h == 0 ? P3 : h;   // 0 means "no key"; a present key (even "") never hashes to it
    }

    /// <summary>The extra key of block <paramref name="blockIndex"/>: salt on the first block only, adapter on all.</summary>
    public static ulong ExtraKey(ulong saltHash, ulong adapterHash, int blockIndex)
        => blockIndex == 0 && saltHash != 0 ? Avalanche(saltHash * P2 + adapterHash) : adapterHash;

    private static ulong Round(ulong acc, ulong lane)
    {
        acc += lane * P2;
        acc = BitOperations.RotateLeft(acc, 31);
        return acc * P1;
    }

    private static ulong MergeLane(ulong h, ulong v) => (h ^ Round(0, v)) * P1 + P4;

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
