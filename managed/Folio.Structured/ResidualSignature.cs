namespace Folio.Structured;

/// <summary>
/// A canonical text for what an automaton accepts from one state on (its residual language): the states reachable
/// from it numbered breadth-first, each written as its finality and its transitions as byte runs. Two states, of the
/// same automaton or of different ones, with equal signatures accept exactly the same continuations, so a walk of
/// the token trie from one serves the other: the "any characters, then a closing quote" state of every
/// additional-property key automaton (whatever names it excludes) is the same as the JSON string's.
/// </summary>
internal static class ResidualSignature
{
    /// <summary>Reachable sets larger than this get no signature (the walk is then keyed by automaton and state).</summary>
    public const int MaxStates = 128;

    // Per-thread scratch, reused across calls (a trie walk asks for the signature of every state it enters a large
    // subtree in, ~10^5 calls on MaskBench's split; a dictionary and a string per call were a quarter of walk time):
    // numbers of the states seen in this call, marked by a stamp that changes per call.
    [ThreadStatic] private static int[]? t_stamp;
    [ThreadStatic] private static int[]? t_number;
    [ThreadStatic] private static int t_call;
    [ThreadStatic] private static List<int>? t_text;

    private const int Final = -1, NotFinal = -2, EndOfState = -3;

    /// <summary>
    /// The signature of <paramref name="state"/> (content-compared with <see cref="BoundedSignature.Comparer"/>): per
    /// state in breadth-first order its finality, then (first byte, last byte, target number) per maximal run, then an
    /// end mark; null when it reaches more than <see cref="MaxStates"/> states.
    /// </summary>
    public static int[]? Of(ByteDfa dfa, int state)
    {
        var stamp = t_stamp;
        var number = t_number;
        if (stamp is null || number is null || stamp.Length < dfa.StateCount || t_call == int.MaxValue)
        {
            stamp = t_stamp = new int[Math.Max(dfa.StateCount, 1024)];
            number = t_number = new int[stamp.Length];
            t_call = 0;
        }
        int call = ++t_call;
        var text = t_text ??= new List<int>(1024);
        text.Clear();
        Span<int> order = stackalloc int[MaxStates];
        int count = 0;
        stamp[state] = call;
        number[state] = 0;
        order[count++] = state;
        var runs = dfa.ClassRuns;
        for (int i = 0; i < count; i++)
        {
            int s = order[i];
            text.Add(dfa.IsFinal(s) ? Final : NotFinal);
            // Byte runs of one target, maximal (adjacent class runs with the same target merged): the same text
            // whatever the automaton's byte classes are.
            int runStart = 0, runTarget = -1;
            foreach (var (lo, _, cls) in runs)
            {
                int q = dfa.StepClass(s, cls), t = -1;
                if (q >= 0)
                {
                    if (stamp[q] != call)
                    {
                        if (count >= MaxStates) return null;
                        stamp[q] = call;
                        number[q] = count;
                        order[count++] = q;
                    }
                    t = number[q];
                }
                if (t == runTarget) continue;
                if (runTarget >= 0) { text.Add(runStart); text.Add(lo - 1); text.Add(runTarget); }
                runStart = lo;
                runTarget = t;
            }
            if (runTarget >= 0) { text.Add(runStart); text.Add(255); text.Add(runTarget); }
            text.Add(EndOfState);
        }
        return [.. text];
    }
}
