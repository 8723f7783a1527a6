// The decode attention of one b8 step, one thread: 12 layers, 32 sequences of 129-160 positions, 4 KV heads of 64,
// GQA group 3, blocks of 16 slots (prompt blocks allocated sequence by sequence, decode blocks interleaved, as the
// engine allocates them). Prints the kernel's thread-CPU ms per step (one KV head an item, and all four an item) and
// the GB/s of K and V it reads, beside one thread's sequential read of the same arrays (the bound for a kernel that
// must read every byte once). `--hot`: every sequence on the same blocks (K and V from cache: the compute alone).
//   dotnet run -c Release --project bench/cpu_attention_micro -- [--hot] [steps]
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Folio.Cpu;

bool hot = args.Contains("--hot");
int steps = args.Where(a => !a.StartsWith("--")).Select(int.Parse).DefaultIfEmpty(40).First();
const int layers = 12, seqs = 32, kvHeads = 4, d = 64, group = 3, bs = 16, maxBlocks = 10;
var rng = new Random(1);
int[] ctx = Enumerable.Range(0, seqs).Select(_ => 129 + rng.Next(32)).ToArray();
var table = new int[seqs, maxBlocks];
int next = 0;
for (int s = 0; s < seqs; s++) for (int b = 0; b < 8; b++) table[s, b] = next++;
for (int b = 8; b < maxBlocks; b++) for (int s = 0; s < seqs; s++) table[s, b] = hot ? table[0, b] : next++;
if (hot) for (int s = 0; s < seqs; s++) for (int b = 0; b < 8; b++) table[s, b] = table[0, b];
const int slotFloats = kvHeads * d;
long perLayer = (long)seqs * maxBlocks * bs * slotFloats;
var keys = new float[layers][];
var values = new float[layers][];
for (int l = 0; l < layers; l++)
{
    keys[l] = new float[perLayer];
    values[l] = new float[perLayer];
    for (long i = 0; i < perLayer; i++)
    {
        keys[l][i] = (float)(rng.NextDouble() * 2 - 1);
        values[l][i] = (float)(rng.NextDouble() * 2 - 1);
    }
}
var q = new float[seqs * kvHeads * group * d];
for (int i = 0; i < q.Length; i++) q[i] = (float)(rng.NextDouble() * 2 - 1) * 3;
// Slot offsets of KV head h of sequence s, padded to whole blocks of 16 with the last position's slot.
int[][] slots = new int[seqs * kvHeads][];
for (int s = 0; s < seqs; s++)
    for (int h = 0; h < kvHeads; h++)
    {
        var sl = slots[s * kvHeads + h] = new int[(ctx[s] + 15) / 16 * 16];
        for (int t = 0; t < sl.Length; t++)
        {
            int tt = Math.Min(t, ctx[s] - 1);
            sl[t] = (table[s, tt / bs] * bs + tt % bs) * slotFloats + h * d;
        }
    }
double bytesPerStep = ctx.Sum() * (double)slotFloats * 4 * 2 * layers;
var output = new float[q.Length];

void Step(bool wholeRows)
{
    for (int l = 0; l < layers; l++)
    {
        if (wholeRows)
            for (int s = 0; s < seqs; s++)
                OnlineSoftmaxAttention.Run(ref keys[l][0], ref values[l][0], slots[s * kvHeads], ctx[s],
                    q.AsSpan(s * kvHeads * group * d, kvHeads * group * d), output.AsSpan(s * kvHeads * group * d, kvHeads * group * d),
                    kvHeads, group, d, 0.125f);
        else
            for (int item = 0; item < seqs * kvHeads; item++)
                OnlineSoftmaxAttention.Run(ref keys[l][0], ref values[l][0], slots[item], ctx[item / kvHeads],
                    q.AsSpan(item * group * d, group * d), output.AsSpan(item * group * d, group * d), 1, group, d, 0.125f);
    }
}

float Read()
{
    var acc = Vector512<float>.Zero;
    for (int l = 0; l < layers; l++)
        foreach (var a in new[] { keys[l], values[l] })
            for (int i = 0; i + 16 <= a.Length; i += 16)
                acc += Vector512.LoadUnsafe(ref a[0], (nuint)i);
    return acc[0];
}

if (!OnlineSoftmaxAttention.Supports(d))
{
    Console.WriteLine("no AVX-512 here: the kernel does not run");
    return;
}
var ms = new Dictionary<string, List<double>> { ["one KV head an item"] = [], ["all KV heads an item"] = [], ["sequential read"] = [] };
for (int r = -5; r < steps; r++)
{
    foreach (var (name, run) in new (string, Action)[] { ("one KV head an item", () => Step(false)),
        ("all KV heads an item", () => Step(true)), ("sequential read", () => Read()) })
    {
        double t0 = ThreadCpu.Ms();
        run();
        if (r >= 0) ms[name].Add(ThreadCpu.Ms() - t0);
    }
}
Console.WriteLine($"{(hot ? "hot (every sequence on the same blocks)" : "cold")}: K+V {bytesPerStep / 1e6:F1} MB a step " +
    $"(the read: {layers * 2 * perLayer * 4 / 1e6:F1} MB); thread-CPU ms, median (min) of {steps}, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
foreach (var (name, v) in ms)
{
    v.Sort();
    double bytes = name == "sequential read" ? layers * 2 * perLayer * 4 : bytesPerStep;
    Console.WriteLine($"  {name,-22} {v[v.Count / 2],7:F2} ms ({v[0]:F2}), {bytes / v[v.Count / 2] / 1e6,5:F1} GB/s");
}

static unsafe class ThreadCpu
{
    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGettime(int clock, long* ts);

    /// <summary>This thread's CPU time (CLOCK_THREAD_CPUTIME_ID): what a crowded machine inflates least.</summary>
    public static double Ms()
    {
        long* ts = stackalloc long[2];
        ClockGettime(3, ts);
        return ts[0] * 1e3 + ts[1] / 1e6;
    }
}
