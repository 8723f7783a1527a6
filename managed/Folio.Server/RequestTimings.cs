using System.Diagnostics;
using Folio.Core.Engine;
using Folio.Core.Sampling;
using Folio.Core.Scheduling;
using Prometheus;

namespace Folio.Server;

/// <summary>
/// Per-request latencies, measured on the engine's stepping thread (<see cref="OnStep"/>, under the engine lock)
/// and at submission (<see cref="Track"/>, on the handler's thread). A step may see a request before its handler
/// registers it (the loop steps as soon as Submit returns): then the first-token and end times wait in its entry
/// until <see cref="Track"/> supplies the arrival time.
/// </summary>
internal sealed class RequestTimings(Counter success, Histogram ttft, Histogram itl, Histogram e2e, Histogram queue)
{
    private sealed class Entry
    {
        public Request? Request;
        public long Arrival, FirstToken, LastToken, LastStep = -1, Ended;
        public bool Queued = true;
        public FinishReason Reason;
    }

    private readonly Lock _gate = new();
    private readonly Dictionary<long, Entry> _live = [];
    private long _step;

    /// <summary>Requests the server submitted whose end has not been seen yet (tests: 0 after the load).</summary>
    public int Live
    {
        get { lock (_gate) return _live.Count; }
    }

    public void Track(Request request, long arrival)
    {
        lock (_gate)
        {
            var e = Get(request.Id);
            e.Request = request;
            e.Arrival = arrival;
            if (e.FirstToken != 0)
            {
                Observe(queue, e.FirstToken - arrival);
                e.Queued = false;
                Observe(ttft, e.FirstToken - arrival);
            }
            if (e.Ended != 0) End(request.Id, e);
        }
    }

    public void OnStep(IReadOnlyList<OutputDelta> deltas)
    {
        long now = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            _step++;
            foreach (var e in _live.Values)
            {
                // Scheduled this step: its time in the queue ends now.
                if (e.Queued && e.Arrival != 0 && e.Request is { Status: not SequenceStatus.Waiting })
                {
                    Observe(queue, now - e.Arrival);
                    e.Queued = false;
                }
            }
            foreach (var d in deltas)
            {
                var e = Get(d.Request.Id);
                if (d.NumNewTokens > 0 && e.LastStep != _step)
                {
                    e.LastStep = _step;
                    if (e.FirstToken == 0)
                    {
                        e.FirstToken = now;
                        if (e.Arrival != 0) Observe(ttft, now - e.Arrival);
                    }
                    else
                    {
                        itl.Observe(Seconds(now - e.LastToken), d.NumNewTokens);
                    }
                    e.LastToken = now;
                }
                if (d.RequestFinished)
                {
                    e.Ended = now;
                    e.Reason = d.FinishReason;
                    if (e.Arrival != 0) End(d.Request.Id, e);
                }
            }
        }
    }

    private Entry Get(long id)
    {
        if (!_live.TryGetValue(id, out var e)) _live[id] = e = new Entry();
        return e;
    }

    private void End(long id, Entry e)
    {
        _live.Remove(id);
        if (e.Reason == FinishReason.Rejected) return;   // refused with a 400: not a processed request
        Observe(e2e, e.Ended - e.Arrival);
        success.WithLabels(FinishReasons.Name(e.Reason) ?? "stop").Inc();
    }

    private static void Observe(Histogram h, long ticks) => h.Observe(Seconds(ticks));

    private static double Seconds(long ticks) => Math.Max(0, ticks) / (double)Stopwatch.Frequency;
}
