using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Folio.Core.Simulation;
using Spectre.Console;

namespace Folio.Cli;

/// <summary>
/// <c>folio simulate</c>: the allocator simulator (issue 2). Replays a synthetic or traced workload through
/// each KV policy with the queue kept saturated and reports where the KV memory went (the paper's Fig. 2),
/// then the blocks saved by sharing for parallel sampling and beam search. See docs/SIMULATOR.md.
/// </summary>
public static class SimulateCommand
{
    private const string DefaultPolicies = "orca-max,orca-pow2,orca-oracle,paged";

    public static Command Create()
    {
        var workload = new Option<string>("--workload")
        {
            Description = "Synthetic workload: sharegpt-like or alpaca-like (ignored with --trace).",
            DefaultValueFactory = _ => "sharegpt-like",
        };
        var trace = new Option<string?>("--trace") { Description = "JSONL trace, one {\"input_len\":N,\"output_len\":N} a line." };
        var requests = new Option<int>("--requests")
        {
            Description = "Number of synthetic requests.",
            DefaultValueFactory = _ => 10000,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the synthetic workload and the beam model.", DefaultValueFactory = _ => 1 };
        var kvTokens = new Option<int>("--kv-tokens")
        {
            Description = "KV cache capacity in token slots (15728 = OPT-13B on an A100-40GB).",
            DefaultValueFactory = _ => SimulationOptions.DefaultKvTokens,
        };
        var blockSize = new Option<string>("--block-size")
        {
            Description = "Paged block size in tokens, or a comma-separated list for a sweep (e.g. 1,8,16,32,64,128,256).",
            DefaultValueFactory = _ => "16",
        };
        var policies = new Option<string>("--policies")
        {
            Description = "Comma-separated policies: orca-max, orca-pow2, orca-oracle, paged.",
            DefaultValueFactory = _ => DefaultPolicies,
        };
        var samples = new Option<string>("--n")
        {
            Description = "Parallel-sampling widths to measure sharing for (comma-separated; 'none' to skip).",
            DefaultValueFactory = _ => "2,4,6",
        };
        var beams = new Option<string>("--beam")
        {
            Description = "Beam-search widths to measure sharing for (comma-separated; 'none' to skip).",
            DefaultValueFactory = _ => "2,4,6",
        };
        var sharingRequests = new Option<int>("--sharing-requests")
        {
            Description = "Measure sharing on the first N requests (0 = all); beam search is the slow part.",
            DefaultValueFactory = _ => 2000,
        };
        var orcaAllocator = new Option<string>("--orca-allocator")
        {
            Description = "Contiguous allocator of the Orca policies: buddy (the paper's) or first-fit.",
            DefaultValueFactory = _ => "buddy",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of tables." };
        var plot = new Option<string?>("--plot") { Description = "Write the paper-style stacked bars to this SVG file." };
        var kvMap = new Option<string?>("--kv-map") { Description = "Also run the workload through the engine (fake model, swap space, a shared system prompt, n = 2 on every fourth request) and draw its KV blocks at its busiest step to this SVG file, as the server's /kv page does." };

        var command = new Command("simulate", "Simulate KV allocation policies (Orca baselines vs paged) on a workload.");
        foreach (Option option in new Option[] { workload, trace, requests, seed, kvTokens, blockSize, policies, samples, beams, sharingRequests, orcaAllocator, json, plot, kvMap })
            command.Options.Add(option);

        command.SetAction(parsed => Run(new Arguments(
            parsed.GetValue(workload)!, parsed.GetValue(trace), parsed.GetValue(requests), parsed.GetValue(seed),
            parsed.GetValue(kvTokens), parsed.GetValue(blockSize)!, parsed.GetValue(policies)!,
            parsed.GetValue(samples)!, parsed.GetValue(beams)!, parsed.GetValue(sharingRequests), parsed.GetValue(orcaAllocator)!, parsed.GetValue(json),
            parsed.GetValue(plot), parsed.GetValue(kvMap))));
        return command;
    }

    private sealed record Arguments(
        string Workload, string? Trace, int Requests, int Seed, int KvTokens, string BlockSizes, string Policies,
        string Samples, string Beams, int SharingRequests, string OrcaAllocator, bool Json, string? Plot, string? KvMap);

    private static int Run(Arguments args)
    {
        var allocatorKind = args.OrcaAllocator switch
        {
            "buddy" => ContiguousAllocatorKind.Buddy,
            "first-fit" => ContiguousAllocatorKind.FirstFit,
            _ => throw new UsageException($"--orca-allocator must be buddy or first-fit, got '{args.OrcaAllocator}'"),
        };
        var options = new SimulationOptions { KvTokens = args.KvTokens, ContiguousAllocator = allocatorKind };
        if (options.Validate() is { } optionsError) throw new UsageException(optionsError);

        int[] blockSizes = ParseList("--block-size", args.BlockSizes, allowNone: false);
        List<PolicySpec> specs = ParsePolicies(args.Policies, blockSizes);
        foreach (var spec in specs)
            if (spec.Validate(options) is { } specError) throw new UsageException(specError);
        if (args.SharingRequests < 0) throw new UsageException($"--sharing-requests must be 0 (all) or more, got {args.SharingRequests}");
        int[] sampleWidths = ParseList("--n", args.Samples, allowNone: true);
        int[] beamWidths = ParseList("--beam", args.Beams, allowNone: true);
        foreach (int width in sampleWidths.Concat(beamWidths))
            if (width > SharingSimulation.MaxWidth) throw new UsageException($"sharing width {width} is above the limit of {SharingSimulation.MaxWidth}");

        string workloadName;
        SimRequest[] requests;
        if (args.Trace is not null)
        {
            requests = ReadTrace(args.Trace, options.MaxSequenceTokens);
            workloadName = "trace";
        }
        else
        {
            if (!SyntheticWorkload.TryParse(args.Workload, out WorkloadKind kind))
                throw new UsageException($"--workload must be sharegpt-like or alpaca-like, got '{args.Workload}'");
            if (args.Requests < 1) throw new UsageException($"--requests must be at least 1, got {args.Requests}");
            requests = SyntheticWorkload.Generate(kind, args.Requests, args.Seed, options.MaxSequenceTokens);
            workloadName = SyntheticWorkload.Name(kind);
        }

        var results = specs.Select(spec => AllocatorSimulator.Run(requests, spec, options)).ToList();
        // Sharing is measured at the paper's block size 16 when the sweep includes it, else the first size given.
        int sharingBlock = blockSizes.Contains(16) ? 16 : blockSizes[0];
        SimRequest[] sharingSet = args.SharingRequests == 0 ? requests : requests[..Math.Min(args.SharingRequests, requests.Length)];
        var sharing = new List<SharingResult>();
        foreach (int n in sampleWidths)
            sharing.Add(SharingSimulation.Run(sharingSet, SharingMode.ParallelSampling, n, sharingBlock, args.Seed));
        foreach (int k in beamWidths)
            sharing.Add(SharingSimulation.Run(sharingSet, SharingMode.BeamSearch, k, sharingBlock, args.Seed));

        var report = new SimulateReport(
            workloadName, args.Trace, requests.Length, sharingSet.Length, args.Seed,
            Round(requests.Average(r => r.InputTokens)), Round(requests.Average(r => r.OutputTokens)), options.KvTokens,
            [.. results.Select(ToReport)], [.. sharing.Select(ToReport)]);

        if (args.Plot is not null)
        {
            string svg = SvgMemoryChart.Render(report);
            try
            {
                File.WriteAllText(args.Plot, svg);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new UsageException($"--plot: cannot write '{args.Plot}': {e.Message}");
            }
        }

        string? kvMapLine = args.KvMap is null ? null : WriteKvMap(args.KvMap, requests, options.KvTokens, sharingBlock, args.Seed, workloadName);

        if (args.Json) Console.Out.WriteLine(JsonSerializer.Serialize(report, SimulateJsonContext.Default.SimulateReport));
        else PrintTables(report, args.Plot);
        if (kvMapLine is not null && !args.Json) Console.Out.WriteLine(kvMapLine);
        return ExitCodes.Ok;
    }

    /// <summary>--kv-map: the first 300 requests through the engine on the same KV capacity (a CPU swap pool of a
    /// quarter of it), drawn at its busiest step (see KvMapSimulation). Returns the line that says what was drawn.</summary>
    private static string WriteKvMap(string path, SimRequest[] requests, int kvTokens, int blockSize, int seed, string workload)
    {
        int gpuBlocks = kvTokens / blockSize;
        var result = KvMapSimulation.Run(requests[..Math.Min(300, requests.Length)], gpuBlocks, Math.Max(1, gpuBlocks / 4), blockSize, seed);
        try
        {
            File.WriteAllText(path, SvgKvMap.Render(result, workload));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"--kv-map: cannot write '{path}': {e.Message}");
        }
        return $"KV map: step {result.Step} of {result.TotalSteps} ({result.Running} running, {result.Swapped} swapped) written to {path}";
    }

    private static SimRequest[] ReadTrace(string path, int maxSequenceTokens)
    {
        TraceReadResult result;
        try
        {
            using var reader = new StreamReader(path);
            result = TraceReader.Read(reader, path, maxSequenceTokens);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new UsageException($"--trace: cannot read '{path}': {e.Message}");
        }
        if (!result.Ok) throw new UsageException(result.Error!);
        return result.Requests!;
    }

    private static int[] ParseList(string option, string text, bool allowNone)
    {
        if (allowNone && text.Trim() is "none" or "") return [];
        var values = new List<int>();
        foreach (string part in text.Split(','))
        {
            string item = part.Trim();
            if (!int.TryParse(item, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
                throw new UsageException($"{option} expects comma-separated integers, got '{item}' in '{text}'");
            if (value <= 0)
                throw new UsageException(option == "--block-size"
                    ? $"--block-size must be a positive number of tokens, got {value}"
                    : $"{option} widths must be at least 1, got {value}");
            if (!values.Contains(value)) values.Add(value);
        }
        return [.. values];
    }

    private static List<PolicySpec> ParsePolicies(string text, int[] blockSizes)
    {
        var specs = new List<PolicySpec>();
        foreach (string part in text.Split(','))
        {
            string name = part.Trim();
            if (!PolicySpec.TryParseKind(name, out PolicyKind kind))
                throw new UsageException($"--policies: unknown policy '{name}' (known: {DefaultPolicies})");
            if (kind == PolicyKind.Paged) specs.AddRange(blockSizes.Select(b => new PolicySpec(kind, b)));
            else specs.Add(new PolicySpec(kind));
        }
        return [.. specs.Distinct()];
    }

    private static double Round(double value) => Math.Round(value, 2, MidpointRounding.AwayFromZero);

    private static PolicyReport ToReport(PolicyResult r) => new(
        r.Policy.Name, r.Policy.IsContiguous ? null : r.Policy.BlockSizeTokens,
        Round(r.TokenStatePct), Round(r.ReservedPct), Round(r.InternalFragPct), Round(r.ExternalFragPct),
        Round(r.MeanBatch), r.SaturatedSteps, r.Preemptions);

    private static SharingReport ToReport(SharingResult s) => new(
        s.ModeName, s.Width, s.BlockSizeTokens, Round(s.SavedPct), Round(s.MeanBlocksShared), Round(s.MeanBlocksUnshared));

    private static void PrintTables(SimulateReport report, string? plotPath)
    {
        // Spectre assumes 80 columns when the output is not a terminal; the tables need a little more.
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (Console.IsOutputRedirected) console.Profile.Width = Math.Max(console.Profile.Width, 110);
        string source = report.TraceFile is null ? $"{report.Workload}, seed {report.Seed}" : $"trace {report.TraceFile}";
        console.MarkupLine(Markup.Escape(
            $"Workload: {source}; {report.Requests} requests, mean {report.MeanInputTokens} in / {report.MeanOutputTokens} out tokens; KV capacity {report.KvTokens} slots"));
        var table = new Table().Title("KV memory, time-averaged over saturated steps (% of capacity)");
        foreach (string column in new[] { "policy", "block", "tokens", "reserved", "int. frag", "ext. frag", "batch", "preempt" })
            table.AddColumn(new TableColumn(column).RightAligned());
        foreach (var p in report.Policies)
        {
            table.AddRow(p.Name, p.BlockSize?.ToString(CultureInfo.InvariantCulture) ?? "-", Pct(p.TokenStatePct), Pct(p.ReservedPct),
                Pct(p.InternalFragPct), Pct(p.ExternalFragPct), p.MeanBatch.ToString("F2", CultureInfo.InvariantCulture),
                p.Preemptions.ToString(CultureInfo.InvariantCulture));
        }
        console.Write(table);

        if (report.Sharing.Count > 0)
        {
            var sharing = new Table().Title("Blocks saved by sharing (Fork + copy-on-write)");
            foreach (string column in new[] { "method", "width", "block", "blocks shared", "unshared", "saved" })
                sharing.AddColumn(new TableColumn(column).RightAligned());
            foreach (var s in report.Sharing)
            {
                sharing.AddRow(s.Mode, s.Width.ToString(CultureInfo.InvariantCulture), s.BlockSize.ToString(CultureInfo.InvariantCulture),
                    s.MeanBlocksShared.ToString("F2", CultureInfo.InvariantCulture),
                    s.MeanBlocksUnshared.ToString("F2", CultureInfo.InvariantCulture), Pct(s.SavedPct));
            }
            console.Write(sharing);
        }
        if (plotPath is not null) console.MarkupLine(Markup.Escape($"Wrote {plotPath}"));
    }

    private static string Pct(double value) => value.ToString("F1", CultureInfo.InvariantCulture) + "%";
}
