using System.Globalization;
using Tus.Http;

namespace Tus.Core.Tests.Infrastructure;

/// <summary>An engine over a <see cref="HookedStore"/> and a <see cref="LeaseLocker"/>, sharing one <see cref="CallLog"/>.</summary>
internal sealed class FaultHarness : IDisposable
{
    private FaultHarness(TusOptions options, TimeProvider time, InMemoryStore inner)
    {
        Options = options;
        Time = time;
        Store = new HookedStore(inner, Log);
        Locker = new LeaseLocker(Log);
        Engine = new TusEngine(Store, Locker, options, time, Logger, Stopping.Token);
    }

    public CallLog Log { get; } = new();

    public HookedStore Store { get; }

    public LeaseLocker Locker { get; }

    public CapturingLogger Logger { get; } = new();

    public CancellationTokenSource Stopping { get; } = new();

    public TusOptions Options { get; }

    public TimeProvider Time { get; }

    public TusEngine Engine { get; }

    public static FaultHarness Create(Action<TusOptions>? configure = null, TimeProvider? time = null, InMemoryStore? inner = null)
    {
        var options = new TusOptions();
        configure?.Invoke(options);
        return new FaultHarness(options, time ?? TimeProvider.System, inner ?? new InMemoryStore());
    }

    public async Task<TusResponse> SendAsync(TestRequest request) => await Engine.HandleAsync(request);

    /// <summary>Creates an upload (with the hooks not yet set) and returns its id.</summary>
    public async Task<string> CreateAsync(long? length)
    {
        var request = new TestRequest("POST");
        if (length is { } known)
        {
            request.Header("Upload-Length", known.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            request.Header("Upload-Defer-Length", "1");
        }

        var response = await SendAsync(request);
        response.StatusCode.Should().Be(201);
        return EngineHarness.IdOf(response);
    }

    public static TestRequest Patch(string id, long offset, Stream body, long? contentLength) =>
        new TestRequest("PATCH", id, body, contentLength).OffsetStream().Header("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));

    public static TestRequest Patch(string id, long offset, byte[] body) => Patch(id, offset, new MemoryStream(body), body.Length);

    public Task<TusResponse> HeadAsync(string id) => SendAsync(new TestRequest("HEAD", id));

    public void Dispose()
    {
        Engine.Dispose();
        Stopping.Dispose();
    }
}

/// <summary>Hands out one byte at a time with a pause before each: a slow but live client.</summary>
internal sealed class TricklingStream(byte[] data, TimeSpan gap) : ScriptedBodyStream([])
{
    private int _position;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || _position == data.Length)
        {
            return 0;
        }

        await Task.Delay(gap, cancellationToken);
        buffer.Span[0] = data[_position++];
        return 1;
    }

    protected override ValueTask<int> AfterFirstBytesAsync(CancellationToken cancellationToken) => ValueTask.FromResult(0);
}

/// <summary>Sends some bytes, then waits until the test lets it end (cleanly) or its reader cancels it.</summary>
internal sealed class GatedStream(byte[] first) : ScriptedBodyStream(first)
{
    public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async ValueTask<int> AfterFirstBytesAsync(CancellationToken cancellationToken)
    {
        Waiting.TrySetResult();
        await Gate.Task.WaitAsync(cancellationToken);
        return 0;
    }
}
