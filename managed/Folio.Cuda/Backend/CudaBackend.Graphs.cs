using Folio.Core.Compute;

namespace Folio.Cuda.Backend;

// CUDA graphs for decode steps (IDecodeGraphs): a decode step's forward pass is captured once per (padded batch,
// block-table width) and replayed. Sampling stays outside the graph (its parameter lists vary in length per step).
public sealed partial class CudaBackend : IDecodeGraphs
{
    // Batch sizes a decode step is padded to: small steps exactly in powers of two, then steps of 32 or 64.
    private static readonly int[] Batches = [1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 160, 192, 224, 256, 320, 384, 448, 512];
    private const int MaxTableWidth = 4096;

    private readonly Dictionary<(int Batch, int Width), (CudaGraphExec Exec, DeviceTensor Logits)> _graphs = [];
    private long _buffersGeneration;     // bumped whenever a buffer a graph reads or writes is (re)allocated
    private long _graphsGeneration = -1;
    private int _contextBound;           // > 0 while a graphed step runs: the decode kernel's max_context_len

    /// <summary>Whether decode steps are replayed from CUDA graphs (on by default).</summary>
    public bool GraphsEnabled { get; init; } = true;

    public int GraphsCaptured { get; private set; }

    public int PaddedBatch(int numSequences)
    {
        foreach (int b in Batches)
            if (numSequences <= b)
                return b;
        return 0;
    }

    public int BlockTableWidth(int columns)
    {
        int width = 8;
        while (width < columns)
            width *= 2;
        return width <= MaxTableWidth ? width : 0;
    }

    public DeviceTensor RunGraphed(StepContext step, Func<StepContext, DeviceTensor> forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        var s = S(step);
        if (!s.IsDecode)
            throw new ArgumentException("RunGraphed: only decode steps (one token per sequence) are graphed", nameof(step));
        // A graph replays the addresses it was captured with: any buffer (re)allocated since invalidates them all.
        long generation = Generation;
        if (generation != _graphsGeneration)
        {
            DropGraphs();
            _graphsGeneration = generation;
        }
        var key = (s.NumSequences, s.BlockTableStride);
        // The decode kernel's bound of the context lengths (it sizes its split): fixed per width, so a replay is
        // right for every step of that width.
        _contextBound = s.BlockTableStride * s.CudaCache.BlockSizeTokens;
        try
        {
            if (_graphs.TryGetValue(key, out var graph))
            {
                graph.Exec.Launch(_stream);
                return graph.Logits;
            }
            // Run the step eagerly (its results, and every allocation and cuBLASLt plan the launches need), then
            // capture the same launches: the capture records them without running them.
            var logits = forward(step);
            if (Generation != generation)
            {
                _graphsGeneration = -1;   // something grew during this step: capture at the next one
                return logits;
            }
            _stream.BeginCapture();
            DeviceTensor captured;
            CudaGraph recorded;
            try
            {
                captured = forward(step);
            }
            finally
            {
                recorded = _stream.EndCapture();   // leaves capture mode even when the forward threw
            }
            using (recorded)
                _graphs[key] = (recorded.Instantiate(), captured);
            GraphsCaptured++;
            return logits;
        }
        finally
        {
            _contextBound = 0;
        }
    }

    private long Generation => _buffersGeneration + _step.UploadGeneration;

    private void DropGraphs()
    {
        foreach (var (exec, _) in _graphs.Values)
            exec.Dispose();
        _graphs.Clear();
    }
}
