using Microsoft.Extensions.DependencyInjection;

namespace Tus.Stores.Limited.Tests;

public sealed class RegistrationTests : QuotaTestBase
{
    [Fact]
    public async Task WithQuota_AfterAddFileStore_WrapsItAndRebuildsTheAccountingAtStartup()
    {
        var existing = NewInner();
        await existing.CreateAsync(New(123), Ct);
        var services = new ServiceCollection();
        services.AddTus().AddFileStore(o => o.Directory = Directory).WithQuota(o => o.MaxTotalBytes = 1_000).AddMemoryLocker();
        await using var provider = services.BuildServiceProvider();

        var problems = await RunStartupChecksAsync(provider);

        problems.Should().BeEmpty();
        var store = provider.GetRequiredService<ITusStore>();
        store.Should().BeOfType<LimitedStore>().Which.InnerStore.Should().BeOfType<FileStore>();
        provider.GetRequiredService<ITusQuota>().GetUsage().UsedBytes.Should().Be(123);
        var refused = async () => await store.CreateAsync(New(878), Ct);
        await refused.Should().ThrowAsync<QuotaExceededException>();
    }

    [Fact]
    public void WithQuota_WithoutAStore_ThrowsAtOnce()
    {
        var services = new ServiceCollection();

        var register = () => services.AddTus().WithQuota(o => o.MaxTotalBytes = 1);

        register.Should().Throw<InvalidOperationException>().WithMessage("*AddFileStore*");
    }

    [Fact]
    public async Task WithQuota_StoreAddedAfterIt_FailsTheStartup()
    {
        var services = new ServiceCollection();
        services.AddTus().AddFileStore(o => o.Directory = Directory).WithQuota(o => o.MaxTotalBytes = 1).AddFileStore(o => o.Directory = Directory).AddMemoryLocker();
        await using var provider = services.BuildServiceProvider();

        (await RunStartupChecksAsync(provider)).Should().ContainSingle(p => p.Contains("replaced the quota", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithQuota_InvalidOptions_FailTheStartup()
    {
        var services = new ServiceCollection();
        services.AddTus().AddFileStore(o => o.Directory = Directory).WithQuota(o => o.MaxTotalBytes = -1).AddMemoryLocker();
        await using var provider = services.BuildServiceProvider();

        (await RunStartupChecksAsync(provider)).Should().Contain(p => p.Contains("MaxTotalBytes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithQuota_StoreThatCannotList_FailsTheStartup()
    {
        var services = new ServiceCollection();
        services.AddTus().AddMemoryLocker();
        services.AddSingleton<ITusStore>(new UnlistableStore());
        services.AddTus().WithQuota(o => o.MaxTotalBytes = 1);
        await using var provider = services.BuildServiceProvider();

        (await RunStartupChecksAsync(provider)).Should().ContainSingle(p => p.Contains("cannot list its uploads", StringComparison.Ordinal));
    }

    private static async Task<List<string>> RunStartupChecksAsync(IServiceProvider provider)
    {
        var problems = new List<string>();
        foreach (var check in provider.GetServices<ITusStartupCheck>())
        {
            problems.AddRange(await check.CheckAsync(Ct));
        }

        return problems;
    }

    private sealed class UnlistableStore : ITusStore
    {
        public ITusTerminationStore? Termination => null;

        public ITusConcatenationStore? Concatenation => null;

        public ITusDeferredLengthStore? DeferredLength => null;

        public ITusExpirationStore? Expiration => null;

        public ITusChecksumStore? Checksum => null;

        public ITusListingStore? Listing => null;

        public ValueTask<UploadInfo> CreateAsync(NewUpload upload, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<UploadInfo?> GetAsync(string uploadId, CancellationToken cancellationToken) => ValueTask.FromResult<UploadInfo?>(null);

        public ValueTask<long> AppendAsync(UploadInfo upload, Stream data, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<Stream> OpenReadAsync(UploadInfo upload, long offset, long length, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
