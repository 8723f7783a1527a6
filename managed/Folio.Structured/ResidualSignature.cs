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
        for (int i = 0; i < order.Count; i++)
        {
            int s = order[i];
            text.Append(dfa.IsFinal(s) ? 'F' : 'N');
            int runStart = 0, runTarget = Target(dfa, s, 0, index, order);
            if (runTarget == -2) return null;
            for (int b = 1; b <= 256; b++)
            {
                int t = b < 256 ? Target(dfa, s, (byte)b, index, order) : int.MinValue;
                if (t == -2) return null;
                if (t == runTarget) continue;
                if (runTarget >= 0) text.Append(runStart).Append('-').Append(b - 1).Append('>').Append(runTarget).Append(',');
                runStart = b;
                runTarget = t;
            }
            text.Append(';');
        }
        return text.ToString();
    }

    /// <summary>The breadth-first number of the state <paramref name="b"/> leads to; -1 dead, -2 over the cap.</summary>
    private static int Target(ByteDfa dfa, int s, byte b, Dictionary<int, int> index, List<int> order)
    {
        int q = dfa.Step(s, b);
        if (q < 0) return -1;
        if (index.TryGetValue(q, out int n)) return n;
        if (order.Count >= MaxStates) return -2;
        index[q] = order.Count;
        order.Add(q);
        return order.Count - 1;
    }
}
