namespace Folio.Core.Scheduling;

/// <summary>
/// A deque of requests kept in service order (see <see cref="Request.ServedBefore"/>), on a ring buffer:
/// O(1) at both ends, ordered insertion scans from the end nearest the insertion point.
/// </summary>
internal sealed class RequestQueue(SchedulingPolicy policy)
{
    private Request[] _items = new Request[16];
    private int _head;

    public int Count { get; private set; }

    public Request this[int index] => _items[(_head + index) & (_items.Length - 1)];

    public Request First => Count > 0 ? _items[_head] : throw new InvalidOperationException("the queue is empty.");

    public Request RemoveFirst()
    {
        var r = First;
        _items[_head] = null!;
        _head = (_head + 1) & (_items.Length - 1);
        Count--;
        return r;
    }

    /// <summary>A new arrival: placed after every request served before it (scanning from the back).</summary>
    public void InsertFromBack(Request r)
    {
        int at = Count;
        while (at > 0 && !this[at - 1].ServedBefore(r, policy))
            at--;
        InsertAt(at, r);
    }

    /// <summary>A returning (preempted) request: placed before every request it is served before (scanning from the front).</summary>
    public void InsertFromFront(Request r)
    {
        int at = 0;
        while (at < Count && this[at].ServedBefore(r, policy))
            at++;
        InsertAt(at, r);
    }

    public bool Remove(Request r)
    {
        for (int i = 0; i < Count; i++)
        {
            if (ReferenceEquals(this[i], r))
            {
                for (int j = i; j < Count - 1; j++)
                    Set(j, this[j + 1]);
                Set(Count - 1, null!);
                Count--;
                return true;
            }
        }
        return false;
    }

    private void InsertAt(int index, Request r)
    {
        if (Count == _items.Length)
            Grow();
        if (index == 0)
        {
            _head = (_head - 1) & (_items.Length - 1);
            _items[_head] = r;
        }
        else
        {
            for (int j = Count; j > index; j--)
                Set(j, this[j - 1]);
            Set(index, r);
        }
        Count++;
    }

    private void Set(int index, Request r) => _items[(_head + index) & (_items.Length - 1)] = r;

    private void Grow()
    {
        var bigger = new Request[_items.Length * 2];
        for (int i = 0; i < Count; i++)
            bigger[i] = this[i];
        _items = bigger;
        _head = 0;
    }
}
