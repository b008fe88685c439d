namespace Tus.MultiInstance.Tests;

/// <summary>
/// Three Tus.Server processes on different ports share one upload directory (file store) and lock uploads in Consul; a
/// client switches instance on every request, breaks PATCHes off at random and races two PATCHes of one upload on two
/// instances. Every file must arrive intact and no two PATCHes of one upload may write at once. The same workload with
/// the memory locker (a lock per process, so none between instances) must be caught corrupting or refusing: proof that
/// the test can fail.
/// </summary>
public sealed class MultiInstanceTests(ITestOutputHelper output)
{
    private const int Instances = 3;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConsulLocker_ThreeInstancesSharingADirectory_EveryUploadIntactAndNoPatchesInterleave()
    {
        var address = ConsulAgent.Require();
        await using var cluster = await Cluster.StartAsync(Instances, ["--locker", "consul", "--consul-address", address, "--consul-key-prefix", ConsulAgent.NewKeyPrefix()]);
        var workload = new Workload(cluster.Endpoints, seed: Environment.TickCount);

        var report = await workload.RunAsync(files: 100, parallelism: 8, Ct);
        output.WriteLine($"consul locker, {Instances} instances: {report}");

        var unhealthy = await cluster.UnhealthyAsync();
        unhealthy.Should().BeEmpty($"every instance must survive the run\n{cluster.Output}");
        report.Races.Should().BeGreaterThan(0, "the workload must race PATCHes");
        report.Interruptions.Should().BeGreaterThan(0, "the workload must break PATCHes off");
        report.Interleavings.Should().BeEmpty(report.ToString());
        report.Corrupt.Should().BeEmpty(report.ToString());
        report.Unfinished.Should().BeEmpty(report.ToString());
        report.Verified.Should().Be(100, report.ToString());
    }

    [Fact]
    public async Task MemoryLocker_ThreeInstancesSharingADirectory_IsCaughtCorruptingOrInterleaving()
    {
        await using var cluster = await Cluster.StartAsync(Instances, ["--locker", "memory"]);
        var workload = new Workload(cluster.Endpoints, seed: Environment.TickCount) { RaceShare = 0.5, MaxRequestsPerFile = 60 };

        var report = await workload.RunAsync(files: 30, parallelism: 6, Ct);
        output.WriteLine($"memory locker, {Instances} instances: {report}");

        (report.Interleavings.Count + report.Corrupt.Count + report.Unfinished.Count).Should().BeGreaterThan(0,
            $"without a lock shared by the instances, racing PATCHes must be caught writing at once or corrupting a file: {report}");
    }
}
