using Folio.Core.Compute;
using Folio.Core.Scheduling;

namespace Folio.Core.Sampling;

/// <summary>
/// The reference <see cref="ISampler"/>: each logits row on the host through <see cref="LogitsSampler"/>
/// (penalties, suppression, greedy or temperature → top-k → top-p → min-p, seeded draws, top logprobs, beam
/// candidates). A backend whose logits live in host memory overrides <see cref="HostLogits"/> to read them in
/// place (the CPU backend); any other backend gets them through <see cref="IComputeBackend.Download"/>, which is
/// correct but moves every row. A backend with threads of its own passes their count and overrides
/// <see cref="RunWorkers"/>: the rows of a step are then sampled on those threads, each with its own
/// <see cref="RowSampler"/>, and copied into the outputs in plan order. A row's result depends on the row alone, not
/// on the thread or the batch. Its scratch is reused: a steady step on one thread allocates nothing.
/// </summary>
public class HostSampler : ISampler
{
    /// <summary>Rough operations per logit of a row (copy, max, exponential, sums): the work the runner weighs.</summary>
    private const long WorkPerLogit = 8;

    private readonly IComputeBackend _backend;
    /// <summary>One per thread the rows may run on, made once; [0] also samples every serial step.</summary>
    private readonly RowSampler[] _workers;
    private readonly long _defaultSeed;
    /// <summary>Threads for the exponentials of a row sampled on the calling thread (null: that thread alone).</summary>
    private readonly IRowChunkRunner? _rowChunks;
    private readonly int _validTokenCount;
    private float[] _logits = [];

    // The step being sampled on several threads (set for the span of RunWorkers).
    private StepPlan? _plan;
    private ReadOnlyMemory<float> _stepLogits;
    private int _vocab;
    private int _nextRow;
    /// <summary>Per logits row: the worker that sampled it, and its entry in that worker's outputs.</summary>
    private int[] _rowWorker = [];
    private int[] _rowEntry = [];

    /// <summary>The seed of requests without one.</summary>
    protected long DefaultSeed => _defaultSeed;

    /// <summary>Ids the tokenizer can produce; rows past it are never sampled.</summary>
    protected int ValidTokenCount => _validTokenCount;

    public HostSampler(IComputeBackend backend, SamplerSettings settings) : this(backend, settings, 1)
    {
    }

    /// <param name="workers">Threads a step's rows may be sampled on (<see cref="RunWorkers"/>'s items).</param>
    /// <param name="rowChunks">The same threads for one row's exponentials, used when a step's rows are sampled on the
    /// calling thread (one row: batch-1 decode); never inside <see cref="RunWorkers"/>.</param>
    protected HostSampler(IComputeBackend backend, SamplerSettings settings, int workers, IRowChunkRunner? rowChunks = null)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.ValidTokenCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        _backend = backend;
        _rowChunks = rowChunks;
        _defaultSeed = settings.DefaultSeed;
        _validTokenCount = settings.ValidTokenCount;
        int[] eos = [.. settings.EosTokenIds];
        _workers = new RowSampler[workers];
        for (int w = 0; w < workers; w++)
            _workers[w] = new RowSampler(eos, _validTokenCount, _defaultSeed);
    }

    /// <summary>All rows of <paramref name="logits"/> as host floats, row-major (valid until the next call).</summary>
    protected virtual ReadOnlyMemory<float> HostLogits(DeviceTensor logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        int count = checked(logits.Rows * logits.Cols);
        if (_logits.Length < count)
            _logits = new float[count];
        _backend.Download(logits, _logits.AsSpan(0, count));
        return _logits.AsMemory(0, count);
    }

    public virtual void Sample(StepContext step, DeviceTensor logits, StepPlan plan, StepOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(outputs);
        int rows = plan.NumLogitsRows;
        if (logits.Rows != rows)
            throw new ArgumentException($"Sample: {logits.Rows} logits rows for a plan with {rows}", nameof(logits));
        outputs.Clear();
        int vocab = logits.Cols;
        var all = rows > 0 ? HostLogits(logits) : default;
        bool spread = Math.Min(_workers.Length, rows) > 1;
        if (spread)
            SampleOnWorkers(plan, all, vocab);
        var logitsRows = plan.LogitsSequenceRow;
        int l = 0;
        for (int k = 0; k < plan.NumSequences; k++)
        {
            outputs.BeginEntry();
            if (l == rows || logitsRows[l] != k)
                continue;
            if (spread)
                CopyRow(l, outputs);
            else
                _workers[0].SampleRow(all.Span.Slice(l * vocab, vocab), plan, l, outputs, _rowChunks);
            l++;
        }
    }

    /// <summary>Samples every row on up to <c>workers</c> threads into their own outputs.</summary>
    private void SampleOnWorkers(StepPlan plan, ReadOnlyMemory<float> logits, int vocab)
    {
        int rows = plan.NumLogitsRows;
        if (_rowWorker.Length < rows)
        {
            _rowWorker = new int[Math.Max(rows, 2 * _rowWorker.Length)];
            _rowEntry = new int[_rowWorker.Length];
        }
        foreach (var worker in _workers)
            worker.Outputs.Clear();
        _plan = plan;
        _stepLogits = logits;
        _vocab = vocab;
        _nextRow = 0;
        try
        {
            RunWorkers(Math.Min(_workers.Length, rows), (long)rows * vocab * WorkPerLogit);
        }
        finally
        {
            _plan = null;
            _stepLogits = default;
        }
    }

    /// <summary>Appends row <paramref name="l"/>'s samples, as its worker wrote them, to the entry opened in
    /// <paramref name="outputs"/>.</summary>
    private void CopyRow(int l, StepOutputs outputs)
    {
        var from = _workers[_rowWorker[l]].Outputs;
        foreach (var sample in from.SamplesOf(_rowEntry[l]))
            outputs.AddSample(sample.TokenId, sample.LogProb, from.TopLogprobsOf(sample));
    }

    /// <summary>
    /// Runs <see cref="SampleRows"/>(w) once for each w in [0, <paramref name="workers"/>), no two with the same w at
    /// once, and returns when all have run. <paramref name="work"/> estimates the step's operations (a backend may
    /// run a small step on one thread). This default runs them in order on the calling thread; a backend runs them on
    /// its own threads.
    /// </summary>
    protected virtual void RunWorkers(int workers, long work)
    {
        for (int w = 0; w < workers; w++)
            SampleRows(w);
    }

    /// <summary>Worker <paramref name="worker"/>'s part of a step: takes rows from a shared counter (a late thread
    /// takes fewer) and samples each with its own <see cref="RowSampler"/> into its own outputs. Which worker takes
    /// a row does not change the row's result.</summary>
    protected void SampleRows(int worker)
    {
        var plan = _plan ?? throw new InvalidOperationException("SampleRows runs only inside RunWorkers.");
        var sampler = _workers[worker];
        var outputs = sampler.Outputs;
        int rows = plan.NumLogitsRows, vocab = _vocab, l;
        while ((l = Interlocked.Increment(ref _nextRow) - 1) < rows)
        {
            outputs.BeginEntry();
            sampler.SampleRow(_stepLogits.Span.Slice(l * vocab, vocab), plan, l, outputs);
            _rowWorker[l] = worker;
            _rowEntry[l] = outputs.NumEntries - 1;
        }
    }

    /// <summary>Samples the plan's logits row <paramref name="l"/> (<paramref name="rowLogits"/>, its vocabulary's
    /// values on the host) into the entry the caller has opened: its samples, or its beam candidates. On the calling
    /// thread, with the first worker's scratch.</summary>
    protected void SampleRow(ReadOnlySpan<float> rowLogits, StepPlan plan, int l, StepOutputs outputs)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(outputs);
        _workers[0].SampleRow(rowLogits, plan, l, outputs);
    }

    /// <summary>The model's EOS ids and the request's stop token ids, in a reused buffer.</summary>
    protected ReadOnlySpan<int> Suppressed(SamplingParams p) => _workers[0].Suppressed(p);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}
