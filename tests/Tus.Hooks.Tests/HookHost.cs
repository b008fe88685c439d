using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Tus.Core.Tests.Infrastructure;
using Tus.Http;
using Tus.Stores;

namespace Tus.Hooks.Tests;

/// <summary>The engine as an application gets it from <c>services.AddTus()</c>, with hooks registered on the builder.</summary>
internal sealed class HookHost : IDisposable
{
    private readonly ServiceProvider _provider;

    private HookHost(Action<ITusBuilder> hooks, Action<TusOptions>? configure)
    {
        var services = new ServiceCollection();
        services.AddSingleton<ILogger<TusEngine>>(Logger);
        var tus = services.AddTus(o => configure?.Invoke(o)).AddMemoryLocker();
        services.AddSingleton<ITusStore>(Store);
        hooks(tus);
        _provider = services.BuildServiceProvider();
        Engine = _provider.GetRequiredService<TusEngine>();
    }

    public InMemoryStore Store { get; } = new();

    public CapturingLogger Logger { get; } = new();

    public TusEngine Engine { get; }

    public static HookHost Create(Action<ITusBuilder> hooks, Action<TusOptions>? configure = null) => new(hooks, configure);

    public async Task<TusResponse> SendAsync(TestRequest request) => await Engine.HandleAsync(request);

    /// <summary>Creates an upload (as <paramref name="user"/>, in the X-User header) and returns its id.</summary>
    public async Task<string> CreateAsync(long length, string? user = null, string? metadata = null, string? concat = null)
    {
        var response = await SendAsync(new TestRequest("POST")
            .Header("Upload-Length", length.ToString(CultureInfo.InvariantCulture))
            .Header("Upload-Metadata", metadata).Header("Upload-Concat", concat).Header("X-User", user));
        response.StatusCode.Should().Be(201, Text(response));
        return IdOf(response);
    }

    public Task<TusResponse> PatchAsync(string id, long offset, string body, string? user = null) =>
        SendAsync(TestRequest.WithBytes("PATCH", id, Encoding.UTF8.GetBytes(body)).OffsetStream()
            .Header("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture)).Header("X-User", user));

    public Task<TusResponse> SendAsync(string method, string id, string? user = null) =>
        SendAsync(new TestRequest(method, id).Header("X-User", user));

    /// <summary>Waits until the post-hooks queued so far have run.</summary>
    public Task PostHooksRunAsync() => Engine.Hooks.WaitForIdleAsync(TestContext.Current.CancellationToken);

    public static string IdOf(TusResponse response)
    {
        var location = response.GetHeader("Location") ?? throw new InvalidOperationException("The response has no Location header.");
        return location[(location.LastIndexOf('/') + 1)..];
    }

    public static string Text(TusResponse response) => Encoding.UTF8.GetString(response.Body.Span);

    public void Dispose() => _provider.Dispose();
}

/// <summary>Records every event, with what each hook saw, in the order they ran.</summary>
internal sealed class Recorder :
    ITusAuthorizeHook, ITusPreCreateHook, ITusPostCreateHook, ITusPostReceiveHook,
    ITusPreFinishHook, ITusPostFinishHook, ITusPreTerminateHook, ITusPostTerminateHook
{
    private readonly List<Entry> _entries = [];

    public IReadOnlyList<Entry> Entries
    {
        get
        {
            lock (_entries)
            {
                return _entries.ToList();
            }
        }
    }

    public ValueTask OnAuthorizeAsync(AuthorizeContext context, CancellationToken cancellationToken) =>
        Add(HookEvents.Authorize, context.Upload.Id, context.Upload.Offset, context.Request, context.Intent.ToString());

    public ValueTask OnPreCreateAsync(PreCreateContext context, CancellationToken cancellationToken) =>
        Add(HookEvents.PreCreate, context.UploadId, context.Length ?? -1, context.Request, context.Metadata.GetString("filename"));

    public ValueTask OnPostCreateAsync(UploadEventContext context, CancellationToken cancellationToken) =>
        Add(HookEvents.PostCreate, context.Upload.Id, context.Upload.Offset, context.Request, context.Upload.Metadata.GetString("filename"));

    public ValueTask OnPostReceiveAsync(PostReceiveContext context, CancellationToken cancellationToken) =>
        Add(HookEvents.PostReceive, context.Upload.Id, context.Upload.Offset, context.Request, null);

    public ValueTask OnPreFinishAsync(PreFinishContext context, CancellationToken cancellationToken) =>
        Add(HookEvents.PreFinish, context.Upload.Id, context.Upload.Offset, context.Request, null);

    public ValueTask OnPostFinishAsync(UploadEventContext context, CancellationToken cancellationToken) =>
        Add(HookEvents.PostFinish, context.Upload.Id, context.Upload.Offset, context.Request, null);

    public ValueTask OnPreTerminateAsync(PreTerminateContext context, CancellationToken cancellationToken) =>
        Add(HookEvents.PreTerminate, context.Upload.Id, context.Upload.Offset, context.Request, null);

    public ValueTask OnPostTerminateAsync(UploadEventContext context, CancellationToken cancellationToken) =>
        Add(HookEvents.PostTerminate, context.Upload.Id, context.Upload.Offset, context.Request, null);

    private ValueTask Add(string hookEvent, string uploadId, long offset, TusHookRequest request, string? detail)
    {
        lock (_entries)
        {
            _entries.Add(new Entry(hookEvent, uploadId, offset, request.Method, request.Uri, detail));
        }

        return ValueTask.CompletedTask;
    }

    internal sealed record Entry(string Event, string UploadId, long Offset, string Method, string Uri, string? Detail);
}
