namespace Tus.Bench;

/// <summary>What a scenario's throughput counts.</summary>
internal enum Unit
{
    /// <summary>MiB/s of upload data.</summary>
    Bytes,

    /// <summary>Finished uploads per second.</summary>
    Uploads,
}

/// <summary>One workload: a name for the table, what it counts, and how to drive a server with it.</summary>
internal sealed record Scenario(string Key, string Title, Unit Unit, long TotalBytes, int Uploads, Func<TusClient, Uri, byte[], CancellationToken, Task> Run)
{
    public static IReadOnlyList<Scenario> All(bool quick)
    {
        const long MiB = 1024 * 1024;
        var big = quick ? 128 * MiB : 1024 * MiB;
        var chunk = quick ? 16 * MiB : 64 * MiB;
        var small = 64 * 1024L;
        var smallCount = quick ? 400 : 2000;
        var many = 256;
        var manySize = quick ? 1 * MiB : 4 * MiB;
        return
        [
            new("single", $"one {Size(big)} upload, one stream", Unit.Bytes, big, 1,
                (client, endpoint, pattern, ct) => OneUploadAsync(client, endpoint, big, big, pattern, ct)),
            new("chunked", $"one {Size(big)} upload, {Size(chunk)} chunks", Unit.Bytes, big, 1,
                (client, endpoint, pattern, ct) => OneUploadAsync(client, endpoint, big, chunk, pattern, ct)),
            new("small", $"{smallCount:N0} × {Size(small)}, 32 concurrent", Unit.Uploads, smallCount * small, smallCount,
                (client, endpoint, pattern, ct) => ManyAsync(smallCount, 32, i => OneUploadAsync(client, endpoint, small, small, pattern, ct))),
            new("small-cwu", $"{smallCount:N0} × {Size(small)}, 32 concurrent, creation-with-upload", Unit.Uploads, smallCount * small, smallCount,
                (client, endpoint, pattern, ct) => ManyAsync(smallCount, 32, i => client.CreateAsync(endpoint, small, small, pattern, ct))),
            new("many", $"{many} concurrent × {Size(manySize)}", Unit.Bytes, many * manySize, many,
                (client, endpoint, pattern, ct) => ManyAsync(many, many, i => OneUploadAsync(client, endpoint, manySize, manySize, pattern, ct))),
        ];
    }

    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        _ => $"{bytes >> 10} KiB",
    };

    /// <summary>Creates an upload and sends it in PATCHes of <paramref name="chunk"/> bytes.</summary>
    private static async Task OneUploadAsync(TusClient client, Uri endpoint, long length, long chunk, byte[] pattern, CancellationToken cancellationToken)
    {
        var upload = await client.CreateAsync(endpoint, length, 0, pattern, cancellationToken);
        for (var offset = 0L; offset < length; offset += chunk)
        {
            await client.PatchAsync(upload, offset, Math.Min(chunk, length - offset), pattern, cancellationToken);
        }
    }

    /// <summary>Runs <paramref name="count"/> operations with at most <paramref name="concurrency"/> in flight.</summary>
    private static async Task ManyAsync(int count, int concurrency, Func<int, Task> operation)
    {
        var next = -1;
        async Task WorkerAsync()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                await operation(i);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, Math.Min(count, concurrency)).Select(_ => Task.Run(WorkerAsync)));
    }
}
