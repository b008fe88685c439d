using Tus.Server.Tests;

namespace Tus.MultiInstance.Tests;

/// <summary>Several Tus.Server processes on their own ports, sharing one upload directory (and a locker).</summary>
internal sealed class Cluster : IAsyncDisposable
{
    private Cluster(IReadOnlyList<ServerProcess> servers, string directory)
    {
        Servers = servers;
        Directory = directory;
    }

    public IReadOnlyList<ServerProcess> Servers { get; }

    public IReadOnlyList<Uri> Endpoints => [.. Servers.Select(s => s.Endpoint)];

    public string Directory { get; }

    public static async Task<Cluster> StartAsync(int instances, IReadOnlyList<string> lockerArgs, IReadOnlyDictionary<string, string>? environment = null)
    {
        var directory = ServerProcess.NewDirectory();
        var starting = Enumerable.Range(0, instances).Select(_ => ServerProcess.StartAsync(
            ["--host", "127.0.0.1", "--port", "0", "--upload-dir", directory, "--lock-timeout", "10", .. lockerArgs],
            environment)).ToList();
        try
        {
            return new Cluster(await Task.WhenAll(starting), directory);
        }
        catch
        {
            foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await started.Result.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Every server's output, for a failure message.</summary>
    public string Output => string.Join("\n", Servers.Select((s, i) => $"--- instance {i} ---\n{Tail(s.StandardOutput)}"));

    /// <summary>Instances that do not answer GET /health (a process that died, or hangs).</summary>
    public async Task<List<int>> UnhealthyAsync()
    {
        var unhealthy = new List<int>();
        for (var i = 0; i < Servers.Count; i++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                var answer = await Servers[i].Client.GetStringAsync(new Uri(Servers[i].Root, "health"), timeout.Token);
                if (answer != "ok")
                {
                    unhealthy.Add(i);
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
            {
                unhealthy.Add(i);
            }
        }

        return unhealthy;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in Servers)
        {
            await server.DisposeAsync();
        }
    }

    private static string Tail(string text) => text.Length <= 4000 ? text : text[^4000..];
}
