using Tus.Server.Tests;

[assembly: AssemblyFixture(typeof(Tus.MultiInstance.Tests.TemporaryDirectories))]

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
