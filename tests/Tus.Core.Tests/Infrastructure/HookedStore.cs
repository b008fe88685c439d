using System.Collections.Concurrent;
using Tus.Stores;

namespace Tus.Core.Tests.Infrastructure;

/// <summary>What happened, in order, across a store and a locker: store calls by name, and markers such as "LOST".</summary>
internal sealed class CallLog
{
    private readonly ConcurrentQueue<string> _entries = new();

    public IReadOnlyList<string> Entries => [.. _entries];

    public void Add(string entry) => _entries.Enqueue(entry);

    /// <summary>The entries after the first <paramref name="marker"/>; empty when it never happened.</summary>
    public IReadOnlyList<string> After(string marker) => Entries.SkipWhile(e => e != marker).Skip(1).ToList();
}

/// <summary>
/// Forwards to an <see cref="InMemoryStore"/>, recording every call and the upload it was given, with a hook before each
/// call that may hang or throw, and a replaceable append.
/// </summary>
internal sealed class HookedStore(InMemoryStore inner, CallLog? log = null) :
    ITusStore, ITusTerminationStore, ITusConcatenationStore, ITusDeferredLengthStore, ITusExpirationStore, ITusChecksumStore, ITusListingStore
{
    public InMemoryStore Inner { get; } = inner;

    public CallLog Log { get; } = log ?? new CallLog();

    /// <summary>Every call with the upload it was given (null for calls that take an id).</summary>
    public ConcurrentQueue<(string Method, UploadInfo? Upload)> Calls { get; } = new();

    /// <summary>Runs before every forwarded call with the method's name and the call's token.</summary>
    public Func<string, CancellationToken, ValueTask>? Before { get; set; }

    /// <summary>Replaces the append when set.</summary>
    public Func<UploadInfo, Stream, CancellationToken, ValueTask<long>>? Append { get; set; }

    /// <summary>The token of the most recent call of each method.</summary>
    public ConcurrentDictionary<string, CancellationToken> Tokens { get; } = new();

    public ITusTerminationStore? Termination => this;

    public ITusConcatenationStore? Concatenation => this;

    public ITusDeferredLengthStore? DeferredLength => this;

    public ITusExpirationStore? Expiration => this;

    public ITusChecksumStore? Checksum => this;

    public ITusListingStore? Listing => this;

    /// <summary>Waits on <paramref name="cancellationToken"/> forever: a backend that does not answer.</summary>
    public static async ValueTask HangAsync(CancellationToken cancellationToken) => await Task.Delay(Timeout.Infinite, cancellationToken);

    /// <summary>Reads the whole body, then persists only its first <paramref name="keep"/> bytes.</summary>
    public async ValueTask<byte[]> ReadAllThenPersistAsync(UploadInfo upload, Stream data, int keep, CancellationToken cancellationToken)
    {
        using var all = new MemoryStream();
        await data.CopyToAsync(all, cancellationToken);
        var bytes = all.ToArray();
        await Inner.AppendAsync(upload, new MemoryStream(bytes, 0, Math.Min(keep, bytes.Length)), cancellationToken);
        return bytes;
    }

    public async ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken)
    {
        await EnterAsync("Create", null, cancellationToken);
        return await Inner.CreateAsync(upload, cancellationToken);
    }

    public async ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken)
    {
        await EnterAsync("Get", null, cancellationToken);
        return await Inner.GetAsync(uploadId, cancellationToken);
    }

    async ValueTask<long> ITusStore.AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken)
    {
        await EnterAsync("Append", upload, cancellationToken);
        try
        {
            return Append is { } append ? await append(upload, data, cancellationToken) : await Inner.AppendAsync(upload, data, cancellationToken);
        }
        finally
        {
            Log.Add("Append:returned");
        }
    }

    /// <summary>Streams opened for reading ignore the token of their reads, as some SDKs' streams do.</summary>
    public bool ReadsIgnoreTheirToken { get; set; }

    public async ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken)
    {
        await EnterAsync("OpenRead", upload, cancellationToken);
        var stream = await Inner.OpenReadAsync(upload, offset, length, cancellationToken);
        return ReadsIgnoreTheirToken ? new DeafStream(stream) : stream;
    }

    private sealed class DeafStream(Stream inner) : ScriptedBodyStream([])
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.ReadAsync(buffer, CancellationToken.None);

        protected override ValueTask<int> AfterFirstBytesAsync(CancellationToken cancellationToken) => ValueTask.FromResult(0);
    }

    public async ValueTask DeleteAsync(string uploadId, CancellationToken cancellationToken)
    {
        await EnterAsync("Delete", null, cancellationToken);
        await Inner.DeleteAsync(uploadId, cancellationToken);
    }

    public async ValueTask<UploadInfo> ConcatenateAsync(UploadInfo final, IReadOnlyList<UploadInfo> partials, CancellationToken cancellationToken)
    {
        await EnterAsync("Concatenate", final, cancellationToken);
        return await Inner.ConcatenateAsync(final, partials, cancellationToken);
    }

    public async ValueTask<UploadInfo> SetLengthAsync(UploadInfo upload, long length, CancellationToken cancellationToken)
    {
        await EnterAsync("SetLength", upload, cancellationToken);
        return await Inner.SetLengthAsync(upload, length, cancellationToken);
    }

    public async ValueTask<UploadInfo> SetExpiryAsync(UploadInfo upload, DateTimeOffset? expiresAt, CancellationToken cancellationToken)
    {
        await EnterAsync("SetExpiry", upload, cancellationToken);
        return await Inner.SetExpiryAsync(upload, expiresAt, cancellationToken);
    }

    public async ValueTask RemoveExpiredAsync(string uploadId, CancellationToken cancellationToken)
    {
        await EnterAsync("RemoveExpired", null, cancellationToken);
        await Inner.RemoveExpiredAsync(uploadId, cancellationToken);
    }

    public async ValueTask<UploadInfo> DiscardFromAsync(UploadInfo upload, long offset, CancellationToken cancellationToken)
    {
        await EnterAsync("DiscardFrom", upload, cancellationToken);
        return await Inner.DiscardFromAsync(upload, offset, cancellationToken);
    }

    public IAsyncEnumerable<UploadInfo> ListAsync(CancellationToken cancellationToken)
    {
        Log.Add("List");
        return Inner.ListAsync(cancellationToken);
    }

    private async ValueTask EnterAsync(string method, UploadInfo? upload, CancellationToken cancellationToken)
    {
        Log.Add(method);
        Calls.Enqueue((method, upload));
        Tokens[method] = cancellationToken;
        if (Before is { } before)
        {
            await before(method, cancellationToken);
        }
    }
}
