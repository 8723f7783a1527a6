using Folio.Core.Engine;
using Folio.Core.Sampling;
using Microsoft.AspNetCore.Http;

namespace Folio.Server;

/// <summary>POST /v1/completions: text completions, whole or streamed; n choices per prompt (index = prompt × n + i).</summary>
internal static class CompletionEndpoint
{
    public static async Task HandleAsync(HttpContext http, ServerState state)
    {
        var (document, fields) = await RequestBody.ReadAsync(http).ConfigureAwait(false);
        GenerationRequest request;
        using (document)
            request = CompletionRequestParser.Parse(fields, state.Model);
        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var ct = http.RequestAborted;
        using var submission = Submission.Start(state, request);
        int n = request.Sampling.N;
        int promptTokens = request.Prompts.Sum(p => p.Length);
        // Logprobs come from the per-step outputs (ChoiceLogprobs), so a whole response reads the stream too.
        var logprobs = request.TopLogprobs is null ? null : new ChoiceLogprobs(state.Model.Tokenizer);
        if (!request.Stream)
        {
            if (logprobs is not null)
            {
                await foreach (var (p, output) in submission.ReadAllAsync(ct).ConfigureAwait(false))
                    foreach (var o in output.Outputs) logprobs.Next(p * n + o.Index, o);
            }
            var outputs = await submission.CompleteAsync(ct).ConfigureAwait(false);
            var choices = new List<CompletionChoice>();
            int completionTokens = 0;
            for (int p = 0; p < outputs.Length; p++)
            {
                foreach (var o in outputs[p].Outputs.OrderBy(o => o.Index))
                {
                    completionTokens += o.TokenIds.Count;
                    var reason = outputs[p].FinishReason is FinishReason.Abort or FinishReason.Rejected ? outputs[p].FinishReason : o.FinishReason;
                    int index = p * n + o.Index;
                    choices.Add(new CompletionChoice(index, (request.EchoTexts?[p] ?? "") + o.Text,
                        logprobs?.ToCompletion(index, logprobs.All(index)), FinishReasons.Name(reason), o.StopReason));
                }
            }
            var usage = new Usage(promptTokens, completionTokens, promptTokens + completionTokens);
            await Json.WriteAsync(http, 200, new CompletionResponse(id, "text_completion", created, state.Model.Name, choices, usage),
                ApiJson.Default.CompletionResponse).ConfigureAwait(false);
            return;
        }
        using var sse = new SseWriter(http.Response);
        int generated = 0;
        var open = new HashSet<int>(Enumerable.Range(0, request.Prompts.Count * n));
        if (request.EchoTexts is { } echo)
        {
            // echo: each choice's first event is its prompt's text.
            var echoed = Enumerable.Range(0, request.Prompts.Count * n).Select(i => new CompletionChoice(i, echo[i / n], null, null)).ToList();
            sse.Write(new CompletionResponse(id, "text_completion", created, state.Model.Name, echoed, null), ApiJson.Default.CompletionResponse);
        }
        await foreach (var (p, output) in submission.ReadAllAsync(ct).ConfigureAwait(false))
        {
            foreach (var o in output.Outputs)
            {
                generated += o.TokenIds.Count;
                string? reason = FinishReasons.Name(o.FinishReason);
                if (reason is not null) open.Remove(p * n + o.Index);
                int index = p * n + o.Index;
                var entries = logprobs?.Next(index, o);
                // Tokens that add no text yet (a partial character, held-back text) send nothing, unless their logprobs.
                if (o.Text.Length == 0 && reason is null && entries is not { Count: > 0 }) continue;
                var chunk = new CompletionResponse(id, "text_completion", created, state.Model.Name,
                    [new CompletionChoice(index, o.Text, entries is { Count: > 0 } ? logprobs!.ToCompletion(index, entries) : null, reason, o.StopReason)], null);
                sse.Write(chunk, ApiJson.Default.CompletionResponse);
            }
            if (output.Finished)
            {
                // A request that ended as a whole (aborted server-side) leaves choices without a reason: "abort".
                var left = Enumerable.Range(p * n, n).Where(open.Remove).ToList();
                if (left.Count > 0)
                {
                    var chunk = new CompletionResponse(id, "text_completion", created, state.Model.Name,
                        [.. left.Select(i => new CompletionChoice(i, "", null, "abort"))], null);
                    sse.Write(chunk, ApiJson.Default.CompletionResponse);
                }
            }
            if (!submission.HasPendingOutput)
                await sse.FlushAsync(ct).ConfigureAwait(false);
        }
        if (request.IncludeUsage)
        {
            var usage = new CompletionResponse(id, "text_completion", created, state.Model.Name, [],
                new Usage(promptTokens, generated, promptTokens + generated));
            sse.Write(usage, ApiJson.Default.CompletionResponse);
        }
        await sse.DoneAsync(ct).ConfigureAwait(false);
    }
}
