using Tus.Http;
using Tus.Lockers.Memory;

namespace Tus.Core.Tests.Infrastructure;

/// <summary>An engine over an in-memory store and the memory locker, with helpers for the common requests.</summary>
internal sealed class EngineHarness
{
    private EngineHarness(InMemoryStore store, TusOptions options, ManualClock clock, IEnumerable<Tus.Hooks.ITusHook> hooks, CancellationToken stopping)
    {
        Store = store;
        Options = options;
        Clock = clock;
        Engine = new TusEngine(store, Locker, options, clock, Logger, hooks, stopping);
    }

    public InMemoryStore Store { get; }

    public CapturingLogger Logger { get; } = new();

    public MemoryLocker Locker { get; } = new();

    public TusOptions Options { get; }

    public ManualClock Clock { get; }

    public TusEngine Engine { get; }

    public static EngineHarness Create(Action<TusOptions>? configure = null, InMemoryStore? store = null, CancellationToken stopping = default, params Tus.Hooks.ITusHook[] hooks)
    {
        var options = new TusOptions();
        configure?.Invoke(options);
        return new EngineHarness(store ?? new InMemoryStore(), options, new ManualClock(), hooks, stopping);
    }

    /// <summary>An engine with hooks and default options.</summary>
    public static EngineHarness WithHooks(params Tus.Hooks.ITusHook[] hooks) => Create(hooks: hooks);

    /// <summary>Waits until the post-hooks queued so far have run.</summary>
    public Task PostHooksRunAsync() => Engine.Hooks.WaitForIdleAsync(TestContext.Current.CancellationToken);

    public async Task<TusResponse> SendAsync(TestRequest request) => await Engine.HandleAsync(request);

    /// <summary>Creates an upload and returns its id.</summary>
    public async Task<string> CreateAsync(long? length, string? metadata = null, string? concat = null)
    {
        var request = new TestRequest("POST");
        if (length is { } l)
        {
            request.Header("Upload-Length", l.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        else if (concat is null || !concat.StartsWith("final", StringComparison.Ordinal))
        {
            request.Header("Upload-Defer-Length", "1");
        }

        request.Header("Upload-Metadata", metadata).Header("Upload-Concat", concat);
        var response = await SendAsync(request);
        response.StatusCode.Should().Be(201, "creating an upload must succeed: {0}", System.Text.Encoding.UTF8.GetString(response.Body.Span));
        return IdOf(response);
    }

    public static string IdOf(TusResponse response)
    {
        var location = response.GetHeader("Location") ?? throw new InvalidOperationException("The response has no Location header.");
        return location[(location.LastIndexOf('/') + 1)..];
    }

    public Task<TusResponse> PatchAsync(string id, long offset, byte[] body, Action<TestRequest>? configure = null)
    {
        var request = TestRequest.WithBytes("PATCH", id, body).OffsetStream().Header("Upload-Offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture));
        configure?.Invoke(request);
        return SendAsync(request);
    }

    public Task<TusResponse> HeadAsync(string id) => SendAsync(new TestRequest("HEAD", id));

    public static async Task<byte[]> ReadBodyAsync(TusResponse response)
    {
        if (response.BodyStream is null)
        {
            return response.Body.ToArray();
        }

        await using var stream = response.BodyStream;
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    public static string Text(TusResponse response) => System.Text.Encoding.UTF8.GetString(response.Body.Span);
}
