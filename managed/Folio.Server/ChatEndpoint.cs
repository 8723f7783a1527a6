using Folio.Core.Engine;
using Folio.Core.Sampling;
using Microsoft.AspNetCore.Http;

namespace Folio.Server;

/// <summary>POST /v1/chat/completions: the conversation through the model's chat template, answered whole or as
/// chat.completion.chunk events (a role delta first, content deltas, an empty delta with the finish reason).</summary>
internal static class ChatEndpoint
{
    public static async Task HandleAsync(HttpContext http, ServerState state)
    {
        var (document, fields) = await RequestBody.ReadAsync(http).ConfigureAwait(false);
        GenerationRequest request;
        using (document)
            request = ChatRequestParser.Parse(fields, state.Model);
        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        string model = state.Model.Name;
        var ct = http.RequestAborted;
        using var submission = Submission.Start(state, request);
        int promptTokens = request.Prompts[0].Length;
        int n = request.Sampling.N;
        // Logprobs come from the per-step outputs (ChoiceLogprobs), so a whole response reads the stream too.
        var logprobs = request.TopLogprobs is null ? null : new ChoiceLogprobs(state.Model.Tokenizer);
        if (!request.Stream)
        {
            if (logprobs is not null)
            {
                await foreach (var (_, step) in submission.ReadAllAsync(ct).ConfigureAwait(false))
                    foreach (var o in step.Outputs) logprobs.Next(o.Index, o);
            }
            var output = (await submission.CompleteAsync(ct).ConfigureAwait(false))[0];
            var choices = new List<ChatChoice>();
            int completionTokens = 0;
            foreach (var o in output.Outputs.OrderBy(o => o.Index))
            {
                completionTokens += o.TokenIds.Count;
                var reason = output.FinishReason is FinishReason.Abort or FinishReason.Rejected ? output.FinishReason : o.FinishReason;
                choices.Add(new ChatChoice(o.Index, new ChatMessage("assistant", o.Text),
                    logprobs is null ? null : ChoiceLogprobs.ToChat(logprobs.All(o.Index)), FinishReasons.Name(reason)));
            }
            await Json.WriteAsync(http, 200, new ChatResponse(id, "chat.completion", created, model, choices,
                new Usage(promptTokens, completionTokens, promptTokens + completionTokens)), ApiJson.Default.ChatResponse).ConfigureAwait(false);
            return;
        }
        using var sse = new SseWriter(http.Response);
        // OpenAI's first event of each choice carries the role and empty content.
        var first = new ChatChunk(id, "chat.completion.chunk", created, model,
            [.. Enumerable.Range(0, n).Select(i => new ChatChunkChoice(i, new ChatDelta("assistant", ""), null, null))], null);
        sse.Write(first, ApiJson.Default.ChatChunk);
        await sse.FlushAsync(ct).ConfigureAwait(false);
        int generated = 0;
        var open = new HashSet<int>(Enumerable.Range(0, n));
        await foreach (var (_, output) in submission.ReadAllAsync(ct).ConfigureAwait(false))
        {
            foreach (var o in output.Outputs)
            {
                generated += o.TokenIds.Count;
                string? reason = FinishReasons.Name(o.FinishReason);
                var entries = logprobs?.Next(o.Index, o);
                if (o.Text.Length > 0 || entries is { Count: > 0 })
                    Write(new ChatChunkChoice(o.Index, new ChatDelta(null, o.Text), entries is { Count: > 0 } ? ChoiceLogprobs.ToChat(entries) : null, null));
                if (reason is not null && open.Remove(o.Index))
                    Write(new ChatChunkChoice(o.Index, new ChatDelta(null, null), null, reason));
            }
            if (output.Finished)
            {
                foreach (int i in open.Order().ToList())   // ended as a whole (aborted server-side)
                    Write(new ChatChunkChoice(i, new ChatDelta(null, null), null, "abort"));
                open.Clear();
            }
            if (!submission.HasPendingOutput)
                await sse.FlushAsync(ct).ConfigureAwait(false);
        }
        if (request.IncludeUsage)
        {
            var usage = new ChatChunk(id, "chat.completion.chunk", created, model, [], new Usage(promptTokens, generated, promptTokens + generated));
            sse.Write(usage, ApiJson.Default.ChatChunk);
        }
        await sse.DoneAsync(ct).ConfigureAwait(false);

        void Write(ChatChunkChoice choice) =>
            sse.Write(new ChatChunk(id, "chat.completion.chunk", created, model, [choice], null), ApiJson.Default.ChatChunk);
    }
}
