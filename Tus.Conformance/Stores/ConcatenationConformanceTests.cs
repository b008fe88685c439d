using Tus.Conformance.Internal;
using Tus.Protocol;
using Tus.Stores;
using Xunit;

namespace Tus.Conformance;

/// <summary>
/// The concatenation capability (<see cref="ITusConcatenationStore"/>): partial and final uploads keep their roles, a
/// final upload may be created before its partials finish, and concatenation writes the partials' data in the listed
/// order, completes the final upload with the sum of their lengths, leaves the partials intact, and leaves the final
/// upload empty when cancelled. Subclass it when the store's <see cref="ITusStore.Concatenation"/> is not
/// <see langword="null"/>.
/// </summary>
/// <typeparam name="TFixture">The fixture that creates the store under test.</typeparam>
public abstract class ConcatenationConformanceTests<TFixture> : StoreConformanceTestBase<TFixture>
    where TFixture : class, IStoreFixture
{
    /// <summary>Creates the suite over the fixture xunit passes in.</summary>
    /// <param name="fixture">The fixture that creates the store under test.</param>
    protected ConcatenationConformanceTests(TFixture fixture)
        : base(fixture)
    {
    }

    /// <summary>The capability under test; fails the test when the store does not declare it.</summary>
    protected ITusConcatenationStore Concatenation => RequireCapability(Store.Concatenation, nameof(ITusStore.Concatenation));

    /// <summary>A partial upload is described as partial when created, when read, and after appends.</summary>
    [Fact]
    public virtual async Task CreateAsync_PartialUpload_KeepsItsRole()
    {
        _ = Concatenation;
        var created = await Store.CreateAsync(NewUpload(100) with { Concatenation = UploadConcatenation.Partial }, Ct);
        Assert.True(created.Concatenation is { IsPartial: true }, "CreateAsync returned a partial upload without its partial role.");

        var read = await GetExistingAsync(created.Id);
        Assert.True(read.Concatenation is { IsPartial: true }, "GetAsync describes a partial upload without its partial role.");

        var appended = await AppendPatternAsync(read, seed: 40, 100);
        Assert.True(appended.Concatenation is { IsPartial: true }, "A partial upload lost its partial role when bytes were appended.");
        Assert.True(appended.IsComplete, "The partial upload is not complete after all its bytes were appended.");
    }

    /// <summary>A final upload created before its partials finish has no length and no data yet, and keeps its partial
    /// ids in the listed order (fixed ids, listed in neither sorted nor creation order).</summary>
    [Fact]
    public virtual async Task CreateAsync_FinalUpload_KeepsItsPartialIdsInOrder()
    {
        _ = Concatenation;
        var a = await Store.CreateAsync(NewUpload(10) with { Id = "partial-b-created-first", Concatenation = UploadConcatenation.Partial }, Ct);
        var b = await Store.CreateAsync(NewUpload(20) with { Id = "partial-c-created-second", Concatenation = UploadConcatenation.Partial }, Ct);
        var c = await Store.CreateAsync(NewUpload(30) with { Id = "partial-a-created-third", Concatenation = UploadConcatenation.Partial }, Ct);
        string[] listed = [b.Id, c.Id, a.Id];

        var created = await Store.CreateAsync(NewUpload(null) with { Concatenation = UploadConcatenation.Final(listed) }, Ct);
        var read = await GetExistingAsync(created.Id);

        foreach (var (upload, what) in new[] { (created, "CreateAsync"), (read, "GetAsync") })
        {
            Assert.True(upload.Concatenation is { IsFinal: true }, $"{what} returned a final upload without its final role.");
            Assert.True(upload.Concatenation.PartialIds.SequenceEqual(listed, StringComparer.Ordinal), $"{what} returned the partial ids [{string.Join(", ", upload.Concatenation.PartialIds)}] instead of [{string.Join(", ", listed)}].");
            Assert.Null(upload.Length);
            Assert.Equal(0, upload.Offset);
            Assert.False(upload.IsComplete);
        }
    }

    /// <summary>Concatenation writes the partials' data in the order they are listed, not in the order they were created.</summary>
    [Fact]
    public virtual async Task ConcatenateAsync_CompletePartials_WritesTheirDataInListedOrder()
    {
        var first = await CreatePartialWithDataAsync(41, 1000);
        var second = await CreatePartialWithDataAsync(42, 70_000);
        var third = await CreatePartialWithDataAsync(43, 5);
        UploadInfo[] listed = [second, third, first];
        var final = await CreateFinalAsync(listed, knownLength: true);

        var result = await Concatenation.ConcatenateAsync(final, listed, Ct);

        var data = await ReadAsync(result, 0, 71_005);
        Assert.Equal(71_005, data.Length);
        Assert.True(Pattern.FirstMismatch(data.AsSpan(0, 70_000), 42, 0) < 0, "The final upload does not start with the first listed partial upload's data.");
        Assert.True(Pattern.FirstMismatch(data.AsSpan(70_000, 5), 43, 0) < 0, "The final upload does not continue with the second listed partial upload's data.");
        Assert.True(Pattern.FirstMismatch(data.AsSpan(70_005, 1000), 41, 0) < 0, "The final upload does not end with the third listed partial upload's data.");
    }

    /// <summary>A final upload created with its length comes back complete: offset and length are the partials' sum,
    /// from ConcatenateAsync and from GetAsync.</summary>
    [Fact]
    public virtual async Task ConcatenateAsync_FinalWithKnownLength_ReturnsItComplete()
    {
        UploadInfo[] partials = [await CreatePartialWithDataAsync(44, 3000), await CreatePartialWithDataAsync(45, 4000)];
        var final = await CreateFinalAsync(partials, knownLength: true);

        var result = await Concatenation.ConcatenateAsync(final, partials, Ct);
        var read = await GetExistingAsync(final.Id);

        foreach (var (upload, what) in new[] { (result, "ConcatenateAsync"), (read, "GetAsync") })
        {
            Assert.True(upload.Length == 7000 && upload.Offset == 7000, $"{what} describes the final upload with length {upload.Length} and offset {upload.Offset} instead of 7000 and 7000.");
            Assert.True(upload.Concatenation is { IsFinal: true }, $"{what} returned the final upload without its final role.");
            Assert.True(upload.IsComplete, $"{what} describes the final upload as not complete.");
        }
    }

    /// <summary>
    /// A final upload created while its partials are unfinished (length unknown) is completed once they finish: its
    /// length becomes their sum and its data theirs (the concatenation-unfinished extension).
    /// </summary>
    [Fact]
    public virtual async Task ConcatenateAsync_FinalCreatedBeforePartialsFinished_GetsTheirTotalLength()
    {
        var first = await AppendPatternAsync(await CreatePartialAsync(50_000), seed: 46, 20_000);
        var second = await CreatePartialAsync(10);
        var final = await Store.CreateAsync(NewUpload(null) with { Concatenation = UploadConcatenation.Final([first.Id, second.Id]) }, Ct);

        var waiting = await GetExistingAsync(final.Id);
        Assert.Null(waiting.Length);
        Assert.Equal(0, waiting.Offset);

        first = await AppendPatternAsync(first, seed: 46, 30_000);
        second = await AppendPatternAsync(second, seed: 47, 10);
        var result = await Concatenation.ConcatenateAsync(waiting, [first, second], Ct);
        var read = await GetExistingAsync(final.Id);

        foreach (var (upload, what) in new[] { (result, "ConcatenateAsync"), (read, "GetAsync") })
        {
            Assert.True(upload.Length == 50_010 && upload.Offset == 50_010, $"{what} describes the final upload with length {upload.Length} and offset {upload.Offset} instead of 50010 and 50010.");
        }

        var data = await ReadAsync(read, 0, 50_010);
        Assert.True(Pattern.FirstMismatch(data.AsSpan(0, 50_000), 46, 0) < 0, "The final upload does not hold the first partial upload's data.");
        Assert.True(Pattern.FirstMismatch(data.AsSpan(50_000), 47, 0) < 0, "The final upload does not hold the second partial upload's data.");
    }

    /// <summary>Concatenation leaves the partial uploads as they were: same role, offset and data.</summary>
    [Fact]
    public virtual async Task ConcatenateAsync_CompletePartials_LeavesThemIntact()
    {
        UploadInfo[] partials = [await CreatePartialWithDataAsync(48, 1234), await CreatePartialWithDataAsync(49, 4321)];
        var final = await CreateFinalAsync(partials, knownLength: true);

        await Concatenation.ConcatenateAsync(final, partials, Ct);

        var seed = 48;
        foreach (var partial in partials)
        {
            var kept = await GetExistingAsync(partial.Id);
            Assert.True(kept.Concatenation is { IsPartial: true }, "A partial upload lost its role in the concatenation.");
            Assert.Equal(partial.Length, kept.Offset);
            await AssertDataIsPatternAsync(kept, seed++, kept.Offset);
        }
    }

    /// <summary>An empty partial upload among others contributes no bytes.</summary>
    [Fact]
    public virtual async Task ConcatenateAsync_EmptyPartial_ContributesNothing()
    {
        var before = await CreatePartialWithDataAsync(50, 100);
        var empty = await GetExistingAsync((await CreatePartialAsync(0)).Id);
        var after = await CreatePartialWithDataAsync(51, 50);
        UploadInfo[] partials = [before, empty, after];
        var final = await CreateFinalAsync(partials, knownLength: false);

        var result = await Concatenation.ConcatenateAsync(final, partials, Ct);

        Assert.Equal(150, result.Offset);
        Assert.Equal(150, result.Length);
        var data = await ReadAsync(result, 0, 150);
        Assert.True(Pattern.FirstMismatch(data.AsSpan(0, 100), 50, 0) < 0 && Pattern.FirstMismatch(data.AsSpan(100), 51, 0) < 0, "The final upload does not hold the partial uploads' data in order.");
    }

    /// <summary>A concatenation whose token has fired throws <see cref="OperationCanceledException"/> and leaves the
    /// final upload empty and unfinished, so that it can be assembled later.</summary>
    [Fact]
    public virtual async Task ConcatenateAsync_CancelledToken_ThrowsAndLeavesTheFinalEmpty()
    {
        UploadInfo[] partials = [await CreatePartialWithDataAsync(52, 200_000), await CreatePartialWithDataAsync(53, 100)];
        var final = await CreateFinalAsync(partials, knownLength: false);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Concatenation.ConcatenateAsync(final, partials, cancelled.Token));

        var read = await GetExistingAsync(final.Id);
        Assert.True(read.Offset == 0, $"The final upload holds {read.Offset} bytes after a cancelled concatenation; it must stay empty.");
        Assert.False(read.IsComplete, "The final upload reads as complete after a cancelled concatenation.");
        var completed = await Concatenation.ConcatenateAsync(read, partials, Ct);
        Assert.Equal(200_100, completed.Offset);
    }

    /// <summary>
    /// A partial upload concatenated into a second (and third) final upload gives each exactly the same data: reading a
    /// partial for a concatenation changes nothing about it (no cursor left at its end, no data moved or consumed), and
    /// the partial itself still reads back as written.
    /// </summary>
    [Fact]
    public virtual async Task ConcatenateAsync_PartialInSeveralFinals_GivesEachTheSameData()
    {
        var shared = await CreatePartialWithDataAsync(52, 70_001);
        var other = await CreatePartialWithDataAsync(53, 999);
        UploadInfo[][] orders = [[shared, other], [other, shared], [shared]];
        foreach (var listed in orders)
        {
            var final = await CreateFinalAsync(listed, knownLength: listed.Length != 2);
            var result = await Concatenation.ConcatenateAsync(final, listed, Ct);
            var expected = listed.Sum(p => p.Length!.Value);
            var read = await GetExistingAsync(final.Id);
            Assert.True(
                result.Offset == expected && read.Offset == expected && read.Length == expected,
                $"Final upload '{final.Id}' of partials [{string.Join(", ", listed.Select(p => p.Id))}] reads offset {read.Offset} and length {read.Length} (ConcatenateAsync returned offset {result.Offset}) instead of {expected}; partial '{shared.Id}' was concatenated before.");
            var data = await ReadAsync(read, 0, expected);
            long position = 0;
            foreach (var partial in listed)
            {
                var seed = partial.Id == shared.Id ? 52 : 53;
                var mismatch = Pattern.FirstMismatch(data.AsSpan((int)position, (int)partial.Length!.Value), seed, 0);
                Assert.True(
                    mismatch < 0,
                    $"Final upload '{final.Id}' holds a wrong byte at offset {position + mismatch} (byte {mismatch} of partial '{partial.Id}'): " +
                    $"{(mismatch < 0 ? string.Empty : Pattern.DescribeMismatch(data.AsSpan((int)position, (int)partial.Length.Value), seed, 0, mismatch))}; the partial was concatenated into another final upload before.");
                position += partial.Length.Value;
            }
        }

        var kept = await GetExistingAsync(shared.Id);
        Assert.True(kept.Offset == 70_001 && kept.Concatenation is { IsPartial: true }, $"Partial upload '{shared.Id}' reads offset {kept.Offset} after three concatenations, instead of 70001.");
        await AssertDataIsPatternAsync(kept, 52, 70_001);
    }

    /// <summary>Creates a partial upload of the given length, with no data.</summary>
    /// <param name="length">The length.</param>
    /// <returns>The upload as created.</returns>
    protected async Task<UploadInfo> CreatePartialAsync(long length) =>
        await Store.CreateAsync(NewUpload(length) with { Concatenation = UploadConcatenation.Partial }, Ct);

    private async Task<UploadInfo> CreatePartialWithDataAsync(int seed, long length) =>
        await AppendPatternAsync(await CreatePartialAsync(length), seed, length);

    private async Task<UploadInfo> CreateFinalAsync(IReadOnlyList<UploadInfo> partials, bool knownLength)
    {
        _ = Concatenation;
        long? length = knownLength ? partials.Sum(p => p.Length!.Value) : null;
        return await Store.CreateAsync(NewUpload(length) with { Concatenation = UploadConcatenation.Final(partials.Select(p => p.Id).ToArray()) }, Ct);
    }
}
