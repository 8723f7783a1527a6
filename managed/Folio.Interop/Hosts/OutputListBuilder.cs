using System.Runtime.InteropServices;
using System.Text;
using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Interop.Abi;

namespace Folio.Interop.Hosts;

/// <summary>Collects outputs, then lays them out in three pinned arrays (ints, floats, UTF-8 text).</summary>
public sealed unsafe class OutputListBuilder
{
    private readonly List<Entry> _entries = [];
    private readonly List<int> _ints = [];
    private readonly List<float> _floats = [];
    private readonly List<byte> _text = [];

    private readonly record struct Entry(
        ulong RequestId, int SeqIndex, FolioFinishReason Finish, bool RequestFinished,
        int TokenStart, int NumTokens, double CumulativeLogprob, int TopK, int TopIdStart, int TopLpStart,
        int TextStart, int TextLen, ulong NumPromptTokens, int ReasonStart, int ReasonLen);

    public int Count => _entries.Count;

    /// <summary>Adds one output. <paramref name="topIds"/>/<paramref name="topLogprobs"/> hold tokens × topK entries;
    /// <paramref name="rejectReason"/> is "" unless the output is FOLIO_FINISH_REJECTED.</summary>
    public void Add(ulong requestId, int seqIndex, FolioFinishReason finish, bool requestFinished,
        ReadOnlySpan<int> tokens, double cumulativeLogprob, int topK, ReadOnlySpan<int> topIds,
        ReadOnlySpan<float> topLogprobs, string text, ulong numPromptTokens, string rejectReason = "")
    {
        int tokenStart = Append(_ints, tokens);
        int topIdStart = topK > 0 ? Append(_ints, topIds) : 0;
        int topLpStart = topK > 0 ? Append(_floats, topLogprobs) : 0;
        var (textStart, textLen) = AppendText(text);
        var (reasonStart, reasonLen) = AppendText(rejectReason);
        _entries.Add(new Entry(requestId, seqIndex, finish, requestFinished, tokenStart, tokens.Length,
            cumulativeLogprob, topK, topIdStart, topLpStart, textStart, textLen, numPromptTokens, reasonStart, reasonLen));
    }

    // UTF-8 and its NUL into the text storage; (start, bytes without the NUL).
    private (int Start, int Length) AppendText(string text)
    {
        int start = _text.Count;
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        _text.AddRange(utf8);
        _text.Add(0);
        return (start, utf8.Length);
    }

    /// <summary>Adds one step output of Core (<paramref name="withLogprobs"/>: the request's top-k logprobs of its new tokens).</summary>
    public void Add(in OutputDelta delta, bool withLogprobs)
    {
        Folio.Core.Scheduling.Request request = delta.Request;
        ulong promptTokens = (ulong)request.PromptLength;
        if (delta.Sequence is not { } seq)
        {
            Add((ulong)request.Id, -1, Map(delta.FinishReason), true, [], 0, 0, [], [], "", promptTokens,
                delta.FinishReason == FinishReason.Rejected ? request.RejectReason ?? "" : "");
            return;
        }
        int k = withLogprobs ? request.Params.Logprobs ?? 0 : 0;
        var (topIds, topLps) = TopLogprobs(seq.Logprobs, delta.FirstNewToken, delta.NumNewTokens, k);
        Add((ulong)request.Id, delta.Index, Map(delta.FinishReason), false, delta.NewTokenIds, seq.CumulativeLogProb, k,
            topIds, topLps, delta.Text, promptTokens);
    }

    /// <summary>Adds one whole output of a finished request (folio_engine_generate).</summary>
    public void Add(RequestOutput output, CompletionOutput completion, int topK, bool last)
    {
        // A request that ended as a whole (abort, rejection) reports that reason for each of its outputs.
        FinishReason reason = output.FinishReason != FinishReason.None ? output.FinishReason : completion.FinishReason;
        var (topIds, topLps) = TopLogprobs(completion.Logprobs, 0, completion.TokenIds.Count, topK);
        Add((ulong)output.RequestId, completion.Index, Map(reason), last, completion.TokenIds.ToArray(),
            completion.CumulativeLogProb, topK, topIds, topLps, completion.Text, (ulong)output.PromptTokenIds.Count,
            reason == FinishReason.Rejected ? output.RejectReason ?? "" : "");
    }

    /// <summary>Top-k ids and logprobs per token, laid out tokens × k; fewer candidates than k (a tiny
    /// vocabulary) are padded with id -1 and -inf.</summary>
    private static (int[] Ids, float[] Logprobs) TopLogprobs(IReadOnlyList<TokenLogprob[]>? perToken, int first, int count, int k)
    {
        if (k == 0 || perToken is null) return ([], []);
        var ids = new int[count * k];
        var lps = new float[count * k];
        for (int t = 0; t < count; t++)
        {
            TokenLogprob[] top = first + t < perToken.Count ? perToken[first + t] : [];
            for (int j = 0; j < k; j++)
            {
                ids[t * k + j] = j < top.Length ? top[j].TokenId : -1;
                lps[t * k + j] = j < top.Length ? top[j].LogProb : float.NegativeInfinity;
            }
        }
        return (ids, lps);
    }

    public static FolioFinishReason Map(FinishReason reason) => reason switch
    {
        FinishReason.None => FolioFinishReason.None,
        FinishReason.Stop => FolioFinishReason.Stop,
        FinishReason.Length => FolioFinishReason.Length,
        FinishReason.Abort => FolioFinishReason.Abort,
        FinishReason.Rejected => FolioFinishReason.Rejected,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "unknown finish reason"),
    };

    public OutputList Build()
    {
        // Pinned (POH) arrays: their addresses never move, so the records can point into them.
        int[] ints = GC.AllocateArray<int>(Math.Max(1, _ints.Count), pinned: true);
        float[] floats = GC.AllocateArray<float>(Math.Max(1, _floats.Count), pinned: true);
        byte[] text = GC.AllocateArray<byte>(Math.Max(1, _text.Count), pinned: true);
        CollectionsMarshal.AsSpan(_ints).CopyTo(ints);
        CollectionsMarshal.AsSpan(_floats).CopyTo(floats);
        CollectionsMarshal.AsSpan(_text).CopyTo(text);
        int* ip = (int*)Marshal.UnsafeAddrOfPinnedArrayElement(ints, 0);
        float* fp = (float*)Marshal.UnsafeAddrOfPinnedArrayElement(floats, 0);
        byte* tp = (byte*)Marshal.UnsafeAddrOfPinnedArrayElement(text, 0);
        var items = new FolioRequestOutput[_entries.Count];
        for (int i = 0; i < items.Length; i++)
        {
            Entry e = _entries[i];
            items[i] = new FolioRequestOutput
            {
                StructSize = (uint)sizeof(FolioRequestOutput),
                FinishReason = (int)e.Finish,
                RequestId = e.RequestId,
                SeqIndex = e.SeqIndex,
                RequestFinished = e.RequestFinished ? 1 : 0,
                TokenIds = ip + e.TokenStart,
                NumTokens = (ulong)e.NumTokens,
                CumulativeLogprob = e.CumulativeLogprob,
                NumTopLogprobs = e.TopK,
                TopTokenIds = e.TopK > 0 ? ip + e.TopIdStart : null,
                TopLogprobs = e.TopK > 0 ? fp + e.TopLpStart : null,
                Text = tp + e.TextStart,
                TextLen = (ulong)e.TextLen,
                NumPromptTokens = e.NumPromptTokens,
                RejectReason = tp + e.ReasonStart,
                RejectReasonLen = (ulong)e.ReasonLen,
            };
        }
        return new OutputList(items, ints, floats, text);
    }

    private static int Append<T>(List<T> list, ReadOnlySpan<T> values)
    {
        int start = list.Count;
        list.AddRange(values);
        return start;
    }
}
