using Tus.Conformance.Internal;
using Tus.Protocol;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The base of every store suite: gives each test a fresh store from the fixture, and the helpers the suites share.
/// Derive from it to write further tests of your own in the same style.
/// </summary>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class StoreConformanceTestBase<TFixture> : IClassFixture<TFixture>, IAsyncLifetime
    where TFixture : class, IStoreFixture
{
    private ITusStore? _store;

    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected StoreConformanceTestBase(TFixture fixture)
    {
        ArgumentNullException.ThrowIfNull(fixture);
        Fixture = fixture;
    }

    /// <summary>The fixture.</summary>
    protected TFixture Fixture { get; }

    /// <summary>The store of the running test, created for it alone.</summary>
    /// <exception cref="InvalidOperationException">Read outside a test (before <see cref="InitializeAsync"/>).</exception>
    protected ITusStore Store => _store ?? throw new InvalidOperationException("The store exists only while a test runs: InitializeAsync creates it.");

    /// <summary>The running test's cancellation token (<see cref="TestContext.Current"/>), passed to every call.</summary>
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The creation time the suites give uploads: whole seconds, so any store can keep it exactly.</summary>
    protected static DateTimeOffset CreatedAt { get; } = new(2031, 5, 6, 7, 8, 9, TimeSpan.Zero);

    /// <summary>Creates the test's store.</summary>
    public virtual async ValueTask InitializeAsync() => _store = await Fixture.CreateStoreAsync(Ct);

    /// <summary>Hands the test's store back to the fixture for clean-up.</summary>
    public virtual async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_store is { } store)
        {
            _store = null;
            await Fixture.DisposeStoreAsync(store, CancellationToken.None);
        }
    }

    /// <summary>A plain upload to create: a new random id, the given length, no metadata, <see cref="CreatedAt"/>.</summary>
    /// <param name="length">The length, or <see langword="null"/> for a deferred one.</param>
    protected static NewUpload NewUpload(long? length) => new() { Id = UploadId.New(), Length = length, CreatedAt = CreatedAt };

    /// <summary>Creates a plain upload in the store.</summary>
    /// <param name="length">The length, or <see langword="null"/> for a deferred one.</param>
    /// <returns>What the store returned.</returns>
    protected async Task<UploadInfo> CreateUploadAsync(long? length) => await Store.CreateAsync(NewUpload(length), Ct);

    /// <summary>Reads an upload that must exist.</summary>
    /// <param name="uploadId">The id.</param>
    /// <returns>The upload as the store describes it now.</returns>
    protected async Task<UploadInfo> GetExistingAsync(string uploadId)
    {
        var upload = await Store.GetAsync(uploadId, Ct);
        Assert.True(upload is not null, $"GetAsync(\"{uploadId}\") returned null for an upload that exists.");
        Assert.Equal(uploadId, upload.Id);
        return upload;
    }

    /// <summary>
    /// Appends <paramref name="count"/> pattern bytes with seed <paramref name="seed"/> at the upload's current offset,
    /// checks the count the store returns and reads the upload back.
    /// </summary>
    /// <param name="upload">The upload as last returned by the store.</param>
    /// <param name="seed">The pattern's seed: the bytes are the ones that belong at this offset for this seed.</param>
    /// <param name="count">How many bytes.</param>
    /// <param name="maxRead">The most bytes one read of the source returns.</param>
    /// <returns>The upload as the store describes it afterwards.</returns>
    protected async Task<UploadInfo> AppendPatternAsync(UploadInfo upload, int seed, long count, int maxRead = 64 * 1024)
    {
        ArgumentNullException.ThrowIfNull(upload);
        var source = new GeneratedStream(seed, upload.Offset, count) { MaxRead = maxRead };
        var appended = await Store.AppendAsync(upload, source, Ct);
        Assert.True(appended == count, $"AppendAsync to upload '{upload.Id}' at offset {upload.Offset} returned {appended} for a stream of {count} bytes; expected {count}.");
        var after = await GetExistingAsync(upload.Id);
        Assert.True(after.Offset == upload.Offset + count, $"GetAsync reports offset {after.Offset} for upload '{upload.Id}' after {count} bytes were appended at offset {upload.Offset}; expected {upload.Offset + count}.");
        return after;
    }

    /// <summary>Reads a range of an upload's data through <see cref="ITusStore.OpenReadAsync"/>.</summary>
    /// <param name="upload">The upload.</param>
    /// <param name="offset">The first byte.</param>
    /// <param name="length">How many bytes.</param>
    /// <returns>Every byte the stream gave.</returns>
    protected async Task<byte[]> ReadAsync(UploadInfo upload, long offset, long length)
    {
        var stream = await Store.OpenReadAsync(upload, offset, length, Ct);
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, Ct);
            return copy.ToArray();
        }
    }

    /// <summary>
    /// Whether the suites read <paramref name="upload"/>'s bytes back: always when the fixture reads unfinished uploads
    /// (<see cref="IStoreFixture.ReadsUnfinishedUploads"/>), otherwise only once the upload is complete.
    /// </summary>
    /// <param name="upload">The upload as the store last described it.</param>
    /// <returns><see langword="true"/> when <see cref="ITusStore.OpenReadAsync"/> must be able to read it.</returns>
    protected bool CanReadData(UploadInfo upload)
    {
        ArgumentNullException.ThrowIfNull(upload);
        return Fixture.ReadsUnfinishedUploads || upload.IsComplete;
    }

    /// <summary>Checks that an upload's first <paramref name="length"/> bytes are the pattern of <paramref name="seed"/>.
    /// For an unfinished upload of a store that cannot read one (<see cref="IStoreFixture.ReadsUnfinishedUploads"/>), it
    /// checks that the store reports at least <paramref name="length"/> bytes instead.</summary>
    /// <param name="upload">The upload.</param>
    /// <param name="seed">The pattern's seed.</param>
    /// <param name="length">How many bytes to check, from the start.</param>
    protected async Task AssertDataIsPatternAsync(UploadInfo upload, int seed, long length)
    {
        ArgumentNullException.ThrowIfNull(upload);
        if (!Fixture.ReadsUnfinishedUploads)
        {
            var current = await GetExistingAsync(upload.Id);
            if (!current.IsComplete)
            {
                Assert.True(
                    current.Offset >= length,
                    $"GetAsync reports offset {current.Offset} for unfinished upload '{upload.Id}', which should hold at least {length} bytes (its bytes are not read: the fixture says the store cannot read an unfinished upload).");
                return;
            }
        }

        var stream = await Store.OpenReadAsync(upload, 0, length, Ct);
        await using (stream)
        {
            var buffer = new byte[1024 * 1024];
            long position = 0;
            while (true)
            {
                var read = await stream.ReadAsync(buffer, Ct);
                if (read == 0)
                {
                    break;
                }

                Assert.True(position + read <= length, $"The stream of a {length}-byte range of upload '{upload.Id}' gave more than {length} bytes.");
                var mismatch = Pattern.FirstMismatch(buffer.AsSpan(0, read), seed, position);
                Assert.True(
                    mismatch < 0,
                    $"OpenReadAsync(upload '{upload.Id}', 0, {length}) gave a wrong byte at offset {mismatch}: {(mismatch < 0 ? string.Empty : Pattern.DescribeMismatch(buffer.AsSpan(0, read), seed, position, mismatch))} " +
                    $"(the upload was written with the test pattern of seed {seed}; shifted, repeated or foreign data never matches it).");
                position += read;
            }

            Assert.True(position == length, $"OpenReadAsync(upload '{upload.Id}', 0, {length}) gave {position} bytes instead of {length}.");
        }
    }

    /// <summary>Asserts that two metadata sets hold the same keys, in the same order, with byte-identical values.</summary>
    /// <param name="expected">The metadata sent.</param>
    /// <param name="actual">The metadata the store returned.</param>
    /// <param name="what">Which call returned <paramref name="actual"/>, for the message.</param>
    protected static void AssertMetadataEqual(UploadMetadata expected, UploadMetadata actual, string what)
    {
        ArgumentNullException.ThrowIfNull(expected);
        Assert.True(actual is not null, $"{what} returned null metadata.");
        Assert.True(
            expected.Count == actual.Count,
            $"{what} returned {actual.Count} metadata entries ({string.Join(", ", actual.Select(e => e.Key))}) instead of {expected.Count} ({string.Join(", ", expected.Select(e => e.Key))}).");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].Key == actual[i].Key, $"{what} returned metadata key '{actual[i].Key}' at position {i} instead of '{expected[i].Key}' (metadata is an ordered set).");
            Assert.True(
                expected[i].Value.Span.SequenceEqual(actual[i].Value.Span),
                $"{what} returned the value of '{expected[i].Key}' as [{Convert.ToHexString(actual[i].Value.Span)}] instead of [{Convert.ToHexString(expected[i].Value.Span)}].");
        }
    }

    /// <summary>Checks that a call for an upload that no longer exists throws <see cref="UploadNotFoundException"/> for
    /// that upload, as the store contract promises for every method given an upload (deletions aside).</summary>
    /// <param name="uploadId">The id of the upload that is gone.</param>
    /// <param name="what">The method called, for the message.</param>
    /// <param name="call">The call.</param>
    protected static async Task AssertThrowsUploadNotFoundAsync(string uploadId, string what, Func<Task> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var exception = await Record.ExceptionAsync(call);
        Assert.True(
            exception is UploadNotFoundException,
            $"{what} for the removed upload '{uploadId}' {(exception is null ? "succeeded" : $"threw {exception.GetType().Name}: {exception.Message}")}; it must throw UploadNotFoundException, which the engine answers 404.");
        Assert.Equal(uploadId, ((UploadNotFoundException)exception!).UploadId);
    }

    /// <summary>Removes an upload through whichever capability the store offers for it: termination, else expiration.</summary>
    /// <param name="uploadId">The upload.</param>
    /// <returns><see langword="false"/> when the store can remove no upload at all.</returns>
    protected async Task<bool> TryRemoveUploadAsync(string uploadId)
    {
        if (Store.Termination is { } termination)
        {
            await termination.DeleteAsync(uploadId, Ct);
            return true;
        }

        if (Store.Expiration is { } expiration)
        {
            await expiration.RemoveExpiredAsync(uploadId, Ct);
            return true;
        }

        return false;
    }

    /// <summary>Formats a time for a failure message: round-trip format, or "none".</summary>
    /// <param name="time">The time, or <see langword="null"/>.</param>
    /// <returns>The text.</returns>
    protected static string FormatTime(DateTimeOffset? time) => time?.ToString("O", System.Globalization.CultureInfo.InvariantCulture) ?? "none";

    /// <summary>Fails the test with a clear message when the store does not declare a capability its suite needs.</summary>
    /// <typeparam name="TCapability">The capability interface.</typeparam>
    /// <param name="capability">What the store's property returned.</param>
    /// <param name="property">The property's name on <see cref="ITusStore"/>.</param>
    /// <returns>The capability.</returns>
    protected TCapability RequireCapability<TCapability>(TCapability? capability, string property)
        where TCapability : class
    {
        if (capability is null)
        {
            Assert.Fail(
                $"{Store.GetType().Name}.{property} is null, so the store does not offer this capability, yet this suite tests it. " +
                $"Declare the capability, or remove the subclass of {GetType().BaseType?.Name ?? GetType().Name} from the test project.");
        }

        return capability;
    }
}
