// The CLI tests swap Console.Out and Console.Error, which are process-wide: run them one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
