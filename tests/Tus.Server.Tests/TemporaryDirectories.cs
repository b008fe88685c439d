[assembly: AssemblyFixture(typeof(Tus.Server.Tests.TemporaryDirectories))]

namespace Tus.Server.Tests;

/// <summary>Removes the run's temporary upload directories once every test has finished.</summary>
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
