using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Folio.Server;

/// <summary>
/// The OpenAI-compatible server: Kestrel with minimal-API routes over one <see cref="ServedModel"/>. The engine runs
/// on its own background loop (<see cref="Core.Engine.LlmEngine.RunAsync"/>); each handler submits its requests and
/// reads their streams. Start with <see cref="StartAsync"/>, stop with <see cref="DisposeAsync"/>.
/// </summary>
public sealed class FolioServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ServerState _state;
    private readonly CancellationTokenSource _stopLoop = new();
    private Task? _loop;

    private FolioServer(WebApplication app, ServerState state)
    {
        _app = app;
        _state = state;
    }

    /// <summary>The port it listens on (the one the OS picked when <see cref="ServerOptions.Port"/> is 0); valid after start.</summary>
    public int Port { get; private set; }

    /// <summary>Submitted requests whose end the metrics have not seen (0 once every request has ended).</summary>
    public int LiveRequestTimings => _state.Metrics.Timings.Live;

    public Uri BaseAddress => new($"http://{(_state.Options.Host.Contains(':') ? $"[{_state.Options.Host}]" : _state.Options.Host)}:{Port}/");

    public static FolioServer Create(ServedModel model, ServerOptions options, LogLevel logLevel = LogLevel.Warning)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(logLevel);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            k.AddServerHeader = false;
            if (IPAddress.TryParse(options.Host, out var ip))
                k.Listen(ip, options.Port);
            else if (options.Host == "localhost")
                k.Listen(IPAddress.Loopback, options.Port);
            else
                throw new ArgumentException($"--host {options.Host}: expected an IP address (127.0.0.1, 0.0.0.0, ::) or localhost");
        });
        var app = builder.Build();
        var state = new ServerState(model, options, new ServerMetrics(model));
        var server = new FolioServer(app, state);
        server.Map(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Folio.Server"));
        return server;
    }

    private void Map(ILogger logger)
    {
        var state = _state;
        if (state.Options.ApiKey is { } key)
        {
            var check = new ApiKeyCheck(key);
            _app.Use(async (http, next) =>
            {
                if (check.Applies(http) && !check.Allows(http))
                {
                    await ApiErrors.WriteAsync(http, 401, "missing or wrong API key: send 'Authorization: Bearer <key>'", null).ConfigureAwait(false);
                    return;
                }
                await next(http).ConfigureAwait(false);
            });
        }
        RequestDelegate Guarded(Func<HttpContext, ServerState, Task> endpoint) =>
            http => ApiErrors.HandleAsync(http, () => endpoint(http, state), logger);

        _app.MapPost("/v1/completions", Guarded(CompletionEndpoint.HandleAsync));
        _app.MapPost("/v1/chat/completions", Guarded(ChatEndpoint.HandleAsync));
        _app.MapGet("/v1/models", Guarded(static (http, s) => Json.WriteAsync(http, 200, new ModelList("list",
            [new ModelCard(s.Model.Name, "model", s.Model.Created, "folio", s.Model.MaxModelLen)]), ApiJson.Default.ModelList)));
        _app.MapGet("/health", static http => { http.Response.StatusCode = 200; return Task.CompletedTask; });
        _app.MapGet("/metrics", async http =>
        {
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await state.Metrics.WriteAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
        });
        _app.MapGet("/kv", Kv.KvEndpoints.PageAsync);
        _app.MapGet("/kv/state", Guarded(Kv.KvEndpoints.StateAsync));
        _app.MapPost("/tokenize", Guarded(TokenizeEndpoints.TokenizeAsync));
        _app.MapPost("/detokenize", Guarded(TokenizeEndpoints.DetokenizeAsync));
    }

    /// <summary>Starts the engine's loop and the listener.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _loop = _state.Model.Engine.RunAsync(_stopLoop.Token);
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Port = new Uri(addresses.First()).Port;
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled or the host stops (SIGINT/SIGTERM: the
    /// host's console lifetime handles them and stops the application).</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        var stopping = _app.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
        try
        {
            await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _stopLoop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null) await _loop.ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _state.Metrics.Detach();
        _stopLoop.Dispose();
    }
}
