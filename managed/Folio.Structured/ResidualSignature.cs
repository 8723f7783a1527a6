using System.Text;

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

    /// <summary>The signature of <paramref name="state"/>, or null when it reaches more than <see cref="MaxStates"/> states.</summary>
    public static string? Of(ByteDfa dfa, int state)
    {
        var index = new Dictionary<int, int> { [state] = 0 };
        var order = new List<int> { state };
        var text = new StringBuilder();
        var runs = dfa.ClassRuns;
        for (int i = 0; i < order.Count; i++)
        {
            int s = order[i];
            text.Append(dfa.IsFinal(s) ? 'F' : 'N');
            // Byte runs of one target, maximal (adjacent class runs with the same target merged): the same text
            // whatever the automaton's byte classes are.
            int runStart = 0, runTarget = -1;
            foreach (var (lo, _, cls) in runs)
            {
                int t = Target(dfa.StepClass(s, cls), index, order);
                if (t == -2) return null;
                if (t == runTarget) continue;
                if (runTarget >= 0) text.Append(runStart).Append('-').Append(lo - 1).Append('>').Append(runTarget).Append(',');
                runStart = lo;
                runTarget = t;
            }
            if (runTarget >= 0) text.Append(runStart).Append('-').Append(255).Append('>').Append(runTarget).Append(',');
            text.Append(';');
        }
        return text.ToString();
    }

    /// <summary>The breadth-first number of state <paramref name="q"/>; -1 dead, -2 over the cap.</summary>
    private static int Target(int q, Dictionary<int, int> index, List<int> order)
    {
        if (q < 0) return -1;
        if (index.TryGetValue(q, out int n)) return n;
        if (order.Count >= MaxStates) return -2;
        index[q] = order.Count;
        order.Add(q);
        return order.Count - 1;
    }
}
