using Tus.Stores.Internal;

namespace Tus.Stores.S3.Tests;

/// <summary>Part sizing, options and the temporary-file sweep: no S3 server needed.</summary>
public sealed class S3StoreUnitTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    [InlineData(12_000L * 16 * MiB)]      // 12,000 preferred parts' worth: must fit in 10,000
    [InlineData(5L * 1024 * 1024 * MiB)]  // 5 TiB, the largest object
    [InlineData(10_000L * 16 * MiB)]      // exactly 10,000 preferred parts
    [InlineData(1L)]
    public void PartSizing_AnyObjectUpToTheMaximum_FitsInMaxPartsWithinTheSizeLimits(long length)
    {
        var sizing = PartSizing.For(5 * MiB, 16 * MiB, 5L * 1024 * MiB, 10_000, length);

        long total = 0;
        var parts = 0;
        while (total < length)
        {
            var size = sizing.SizeOf(++parts);
            size.Should().BeInRange(5 * MiB, 5L * 1024 * MiB);
            (size % MiB).Should().Be(0);
            total += size;
        }

        parts.Should().BeLessThanOrEqualTo(10_000, $"{length} bytes must fit in 10,000 parts");
    }

    [Fact]
    public void PartSizing_SmallUpload_KeepsThePreferredSize()
    {
        var sizing = PartSizing.For(5 * MiB, 16 * MiB, 5L * 1024 * MiB, 10_000, 1024 * MiB);

        sizing.SizeOf(1).Should().Be(16 * MiB);
        sizing.SizeOf(64).Should().Be(16 * MiB);
    }

    [Fact]
    public void PartSizing_12000PartsAtTheMaximumObjectSizeOfTinyParts_GrowsEvenly()
    {
        // 5 MiB parts could hold 50,000 MiB in 10,000 parts; 12,000 of them need larger ones.
        var sizing = PartSizing.For(5 * MiB, 5 * MiB, 5L * 1024 * MiB, 10_000, 12_000 * 5 * MiB);

        sizing.CapacityOf(10_000).Should().BeGreaterThanOrEqualTo(12_000 * 5 * MiB);
    }

    [Fact]
    public void Validate_BadOptions_ReportsEveryProblemAtOnce()
    {
        var problems = new S3StoreOptions { Bucket = "", MinPartSize = 1, MaxParts = 20_000, MaxConcurrentPartUploads = 0, MaxBufferedParts = 1 }.Validate();

        problems.Should().HaveCountGreaterThanOrEqualTo(5);
        problems.Should().Contain(p => p.Contains("Bucket", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("MaxParts", StringComparison.Ordinal));
    }

    [Fact]
    public void Constructor_CrashLeftPartFiles_AreSweptAndLiveOnesKept()
    {
        var directory = Path.Combine(Path.GetTempPath(), "tus-s3-sweep-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        try
        {
            var dead = Path.Combine(directory, "tus-s3-999999999-abc.part"); // no such process
            var mine = Path.Combine(directory, $"tus-s3-{Environment.ProcessId}-def.part");
            var other = Path.Combine(directory, "unrelated.txt");
            File.WriteAllBytes(dead, new byte[10]);
            File.WriteAllBytes(mine, new byte[10]);
            File.WriteAllBytes(other, new byte[10]);

            using var store = new S3Store(
                new S3StoreOptions { Bucket = "b", Region = "us-east-1", Endpoint = new Uri("http://127.0.0.1:9"), ForcePathStyle = true, TemporaryDirectory = directory },
                TimeProvider.System);

            File.Exists(dead).Should().BeFalse("a crashed process's part file is removed at start-up");
            File.Exists(mine).Should().BeTrue("a running process's part file is in use");
            File.Exists(other).Should().BeTrue("the sweep touches only part files");
            store.TemporaryDirectory.Should().Be(Path.GetFullPath(directory));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData("http://127.0.0.1:7480", false)]
    [InlineData("https://s3.example.test", true)]
    [InlineData("HTTPS://s3.example.test", true)]
    [InlineData(null, true)] // Amazon S3 by region: HTTPS
    public void UsesHttps_EndpointScheme_DecidesWhetherPayloadsMayGoUnsigned(string? endpoint, bool expected)
    {
        var config = S3Store.CreateClientConfig(new S3StoreOptions { Bucket = "b", Endpoint = endpoint is null ? null : new Uri(endpoint), Region = "us-east-1" });

        S3Store.UsesHttps(config).Should().Be(expected);
    }
}
