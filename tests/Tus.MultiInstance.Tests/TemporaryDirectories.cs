using Tus.Server.Tests;

[assembly: AssemblyFixture(typeof(Tus.MultiInstance.Tests.TemporaryDirectories))]

// One cluster at a time: the tests measure timings (a failing agent must be noticed within half a session TTL, new
// requests must fail within 2 s), which several clusters racing for two cores would blur.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Tus.MultiInstance.Tests;

/// <summary>Removes the run's shared upload directories once every test has finished.</summary>
public sealed class TemporaryDirectories : IDisposable
{
    public void Dispose()
    {
        try
        {
            Directory.Delete(ServerProcess.TemporaryRoot, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
