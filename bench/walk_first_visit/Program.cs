// First-visit mask cost (issue 17, TBM p99.9): for each schema, a fresh GrammarCompiler (empty walk caches), the
// document prefix accepted token by token, then the thread CPU time of the next ComputeMask, which walks the token
// trie for the string body's state. Thread CPU time (clock_gettime CLOCK_THREAD_CPUTIME_ID), not wall time: on the
// shared machine a wall-clock walk includes waits for a core. Prints min and median over REPS.
// Usage: dotnet WalkFirstVisit.dll TOKENIZER_JSON REPS [case,case,...]   (run with DOTNET_TieredCompilation=0)
using System.Runtime.InteropServices;
using Folio.Core.Models;
using Folio.Structured;

string tokenizer = args[0];
int reps = int.Parse(args[1]);
var only = args.Length > 2 ? args[2].Split(',') : null;
const int Eos = 128009;   // Llama 3.1's <|eot_id|>
var vocab = ByteLevelVocabulary.Load(tokenizer, eosTokenId: Eos);
var text = TextTokenizer.FromTokenizerJson(tokenizer, eosTokenId: Eos);

static string Obj(string a) => $$"""{"type":"object","properties":{"a":{{a}}},"required":["a"]}""";
var cases = new (string Name, string Schema, string Prefix)[]
{
    ("string", Obj("""{"type":"string"}"""), "{\"a\": \""),
    ("uri", Obj("""{"type":"string","format":"uri"}"""), "{\"a\": \"http"),
    ("email", Obj("""{"type":"string","format":"email"}"""), "{\"a\": \"ab"),
    ("pattern", Obj("""{"type":"string","pattern":"^[a-zA-Z0-9_ -]+$"}"""), "{\"a\": \"ab"),
    ("maxlen255", Obj("""{"type":"string","maxLength":255}"""), "{\"a\": \""),
    ("minmax", Obj("""{"type":"string","minLength":3,"maxLength":40}"""), "{\"a\": \""),
};

foreach (var (name, schema, prefix) in cases)
{
    if (only is not null && !only.Contains(name)) continue;
    var times = new List<double>();
    int allowed = 0;
    for (int r = 0; r < reps; r++)
    {
        var g = new GrammarCompiler(vocab).CompileJsonSchema(schema);
        var m = g.CreateMatcher();
        var mask = new ulong[vocab.MaskWords];
        foreach (int id in text.Encode(prefix))
        {
            m.ComputeMask(mask);
            if (!m.Accept(id)) throw new InvalidOperationException($"{name}: token {id} of the prefix refused");
        }
        long t0 = ThreadCpu.Nanoseconds();
        m.ComputeMask(mask);
        times.Add((ThreadCpu.Nanoseconds() - t0) / 1000.0);
        allowed = BitMask.Count(mask);
    }
    times.Sort();
    Console.WriteLine($"{name,-10} allowed {allowed,6}  thread CPU us: min {times[0],8:F0}  median {times[times.Count / 2],8:F0}");
}

static unsafe class ThreadCpu
{
    private const int ClockThreadCpuTimeId = 3;

    [DllImport("libc")]
    private static extern int clock_gettime(int clock, long* timespec);

    public static long Nanoseconds()
    {
        long* ts = stackalloc long[2];
        clock_gettime(ClockThreadCpuTimeId, ts);
        return ts[0] * 1_000_000_000L + ts[1];
    }
}
