using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Tus.Bench;
using Tus.Stores;

// Two modes: the driver (default), and "direct", a child process that uploads the bytes with the AWS SDK alone, so that
// its CPU and memory are measured like a server's.
if (args.Length > 0 && args[0] == "direct")
{
    return await Direct.RunAsync(args[1], long.Parse(args[2], CultureInfo.InvariantCulture), args.Length > 3 ? long.Parse(args[3], CultureInfo.InvariantCulture) : 0);
}

return await Driver.RunAsync(args);

internal static class Settings
{
    public const string Bucket = "tus-bench";
    public const long MiB = 1024 * 1024;
    public const long PartSize = 8 * MiB; // Tus.Server's default preferred part size
    public const int Concurrency = 8;    // Tus.Server's default concurrent part uploads

    public static string Endpoint => Environment.GetEnvironmentVariable("TUS_S3_ENDPOINT") ?? throw new InvalidOperationException("TUS_S3_ENDPOINT is not set: source artifacts/services/ceph/env.");

    public static IAmazonS3 Client() => new AmazonS3Client(
        new BasicAWSCredentials(Environment.GetEnvironmentVariable("TUS_S3_ACCESS_KEY"), Environment.GetEnvironmentVariable("TUS_S3_SECRET_KEY")),
        S3Store.CreateClientConfig(new S3StoreOptions { Bucket = Bucket, Endpoint = new Uri(Endpoint), ForcePathStyle = true, Region = "us-east-1" }));

    /// <summary>The 1 MiB block every body repeats (random, so nothing compresses or deduplicates it).</summary>
    public static byte[] Pattern()
    {
        var pattern = new byte[MiB];
        new Random(42).NextBytes(pattern);
        return pattern;
    }
}

/// <summary>A direct multipart upload with the AWS SDK: 8 MiB parts, 8 at a time, from memory, no tus, no server.</summary>
/// <remarks>With <c>drainEvery</c>, it waits for every part in flight after each <c>drainEvery</c> bytes, as a server must
/// before it answers a tus PATCH of that size: the bound for an upload sent in such PATCHes.</remarks>
internal static class Direct
{
    public static async Task<int> RunAsync(string key, long size, long drainEvery)
    {
        using var client = Settings.Client();
        var pattern = Settings.Pattern();
        var started = Stopwatch.StartNew();
        var upload = await client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = Settings.Bucket, Key = key, ContentType = "application/octet-stream" });
        using var slots = new SemaphoreSlim(Settings.Concurrency);
        var parts = new List<Task<PartETag>>();
        var partNumber = 0;
        for (long offset = 0; offset < size; offset += Settings.PartSize)
        {
            if (drainEvery > 0 && offset > 0 && offset % drainEvery == 0)
            {
                await Task.WhenAll(parts);
            }

            var length = (int)Math.Min(Settings.PartSize, size - offset);
            var number = ++partNumber;
            await slots.WaitAsync();
            parts.Add(Task.Run(async () =>
            {
                try
                {
                    // A part buffer filled from the "body", as a server fills one from its request.
                    var buffer = new byte[length];
                    for (var i = 0; i < length; i += pattern.Length)
                    {
                        pattern.AsSpan(0, Math.Min(pattern.Length, length - i)).CopyTo(buffer.AsSpan(i));
                    }

                    var response = await client.UploadPartAsync(new UploadPartRequest
                    {
                        BucketName = Settings.Bucket, Key = key, UploadId = upload.UploadId, PartNumber = number,
                        InputStream = new MemoryStream(buffer), PartSize = length, UseChunkEncoding = false,
                    });
                    return new PartETag(number, response.ETag);
                }
                finally
                {
                    slots.Release();
                }
            }));
        }

        var etags = await Task.WhenAll(parts);
        await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = Settings.Bucket, Key = key, UploadId = upload.UploadId, PartETags = [.. etags] });
        Console.WriteLine($"elapsed {started.Elapsed.TotalSeconds.ToString("F3", CultureInfo.InvariantCulture)}");
        return 0;
    }
}

internal sealed record Run(string Name, int Round, double Seconds, double CpuSeconds, long PeakRss, long PeakTemp, bool Ok, string? Error)
{
    /// <summary>CPU seconds of the S3 server's own processes (radosgw and ceph-osd) over the run, when their pid files are found.</summary>
    public double S3ServerCpuSeconds { get; init; }
}

internal static partial class Driver
{
    private static readonly string Root = FindRoot();

    public static async Task<int> RunAsync(string[] args)
    {
        var size = 1024 * Settings.MiB;
        var rounds = 2;
        var only = new List<string>();
        var tls = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--size-mib": size = long.Parse(args[++i], CultureInfo.InvariantCulture) * Settings.MiB; break;
                case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--only": only.Add(args[++i]); break;
                case "--tls": tls = true; break;
            }
        }

        // --tls: bench/s3.sh points TUS_S3_ENDPOINT at RGW's HTTPS port and trusts its CA (SSL_CERT_FILE).
        if (tls && !Settings.Endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"--tls needs an https:// TUS_S3_ENDPOINT (run bench/s3.sh --tls); it is {Settings.Endpoint}.");
            return 2;
        }

        using var client = Settings.Client();
        try
        {
            await client.PutBucketAsync(new PutBucketRequest { BucketName = Settings.Bucket });
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }

        var scenarios = new (string Name, Func<long, Task<Run>> Run)[]
        {
            ("Tus.Server S3, 1 PATCH", s => TusAsync("Tus.Server S3, 1 PATCH", node: false, s, s)),
            ("Tus.Server S3, 64 MiB PATCHes", s => TusAsync("Tus.Server S3, 64 MiB PATCHes", node: false, s, 64 * Settings.MiB)),
            ("Tus.Server S3 --s3-memory-buffers, 1 PATCH", s => TusAsync("Tus.Server S3 --s3-memory-buffers, 1 PATCH", node: false, s, s, "--s3-memory-buffers")),
            ("Tus.Server S3 --s3-memory-buffers, 64 MiB PATCHes", s => TusAsync("Tus.Server S3 --s3-memory-buffers, 64 MiB PATCHes", node: false, s, 64 * Settings.MiB, "--s3-memory-buffers")),
            ("direct AWS SDK multipart", s => DirectAsync(s, 0)),
            ("direct AWS SDK multipart, drained every 64 MiB", s => DirectAsync(s, 64 * Settings.MiB)),
            ("@tus/s3-store, 1 PATCH", s => TusAsync("@tus/s3-store, 1 PATCH", node: true, s, s)),
            ("@tus/s3-store, 64 MiB PATCHes", s => TusAsync("@tus/s3-store, 64 MiB PATCHes", node: true, s, 64 * Settings.MiB)),
        };

        if (tls)
        {
            // After the four signed Tus.Server rows.
            scenarios = [.. scenarios[..4], .. UnsignedScenarios(), .. scenarios[4..]];
        }

        // --only NAME (repeatable): the scenarios whose names contain one of them (the direct upload always runs, as the yardstick).
        if (only.Count > 0)
        {
            scenarios = [.. scenarios.Where(s => s.Name.StartsWith("direct", StringComparison.Ordinal) || only.Any(o => s.Name.Contains(o, StringComparison.Ordinal)))];
        }

        var runs = new List<Run>();
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (name, run) in scenarios)
            {
                Console.Error.WriteLine($"round {round}: {name} ...");
                Run result;
                try
                {
                    var s3Before = S3ServerCpu();
                    result = await run(size) with { Round = round };
                    result = result with { S3ServerCpuSeconds = S3ServerCpu() - s3Before };
                }
                catch (Exception e)
                {
                    result = new Run(name, round, 0, 0, 0, 0, false, e.Message);
                }

                Console.Error.WriteLine(result.Ok
                    ? $"  {size / Settings.MiB / result.Seconds:F1} MiB/s, CPU {result.CpuSeconds:F2} s, S3 server CPU {result.S3ServerCpuSeconds:F2} s, peak RSS {result.PeakRss / Settings.MiB} MiB, peak temp {result.PeakTemp / Settings.MiB} MiB"
                    : $"  FAILED: {result.Error}");
                runs.Add(result);
                await CleanAsync(client);
            }
        }

        var report = Report(runs, size, rounds, tls);
        Console.WriteLine(report);
        var results = Path.Combine(Root, "bench", "results");
        Directory.CreateDirectory(results);
        await File.WriteAllTextAsync(Path.Combine(results, tls ? "s3-tls.md" : "s3-latest.md"), report);
        return runs.All(r => r.Ok) ? 0 : 1;
    }

    /// <summary>The rows only HTTPS makes meaningful: Tus.Server sending parts as UNSIGNED-PAYLOAD (over http:// the store keeps signing).</summary>
    private static (string Name, Func<long, Task<Run>> Run)[] UnsignedScenarios()
    {
        const string Unsigned = "Tus.Server S3 --s3-disable-content-hashes";
        const string UnsignedInMemory = "Tus.Server S3 --s3-disable-content-hashes --s3-memory-buffers";
        return
        [
            (Unsigned + ", 1 PATCH", s => TusAsync(Unsigned + ", 1 PATCH", node: false, s, s, "--s3-disable-content-hashes")),
            (Unsigned + ", 64 MiB PATCHes", s => TusAsync(Unsigned + ", 64 MiB PATCHes", node: false, s, 64 * Settings.MiB, "--s3-disable-content-hashes")),
            (UnsignedInMemory + ", 1 PATCH", s => TusAsync(UnsignedInMemory + ", 1 PATCH", node: false, s, s, "--s3-disable-content-hashes", "--s3-memory-buffers")),
            (UnsignedInMemory + ", 64 MiB PATCHes", s => TusAsync(UnsignedInMemory + ", 64 MiB PATCHes", node: false, s, 64 * Settings.MiB, "--s3-disable-content-hashes", "--s3-memory-buffers")),
        ];
    }

    private static string Report(List<Run> runs, long size, int rounds, bool tls)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"# S3 benchmark: {size / Settings.MiB} MiB into Ceph RGW (memstore) on 127.0.0.1{(tls ? " over HTTPS" : "")}, {rounds} interleaved rounds, medians");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores; parts: Tus.Server and direct SDK 8 MiB x 8 concurrent; @tus/s3-store with its defaults.");
        text.AppendLine();
        text.AppendLine(tls
            ? "| Upload | MB/s | MiB/s | CPU s | RGW+OSD CPU s | peak RSS MiB | peak temp disk MiB | vs direct SDK (signed) | vs @tus/s3-store (same PATCHes) | min-max MB/s |"
            : "| Upload | MB/s | MiB/s | CPU s | RGW+OSD CPU s | peak RSS MiB | peak temp disk MiB | vs direct SDK | vs @tus/s3-store (same PATCHes) | min-max MB/s |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var medians = runs.GroupBy(r => r.Name).ToDictionary(g => g.Key, g =>
        {
            var ok = g.Where(r => r.Ok).ToList();
            return ok.Count == 0 ? null : new
            {
                Seconds = Median(ok.Select(r => r.Seconds)),
                Cpu = Median(ok.Select(r => r.CpuSeconds)),
                Rss = Median(ok.Select(r => (double)r.PeakRss)),
                Temp = Median(ok.Select(r => (double)r.PeakTemp)),
                S3Cpu = Median(ok.Select(r => r.S3ServerCpuSeconds)),
                Fastest = ok.Min(r => r.Seconds),
                Slowest = ok.Max(r => r.Seconds),
                Failed = g.Count() - ok.Count,
            };
        });
        double? Throughput(string name) => medians.GetValueOrDefault(name) is { } m ? size / m.Seconds : null;
        foreach (var (name, m) in medians)
        {
            if (m is null)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"| {name} | failed | | | | | | | | |");
                continue;
            }

            var mbps = size / m.Seconds / 1e6;
            var vsDirect = Throughput("direct AWS SDK multipart") is { } d && name.StartsWith("Tus.Server", StringComparison.Ordinal) ? $"{size / m.Seconds / d:F2}x" : "";
            if (name.EndsWith("64 MiB PATCHes", StringComparison.Ordinal) && name.StartsWith("Tus.Server", StringComparison.Ordinal) && Throughput("direct AWS SDK multipart, drained every 64 MiB") is { } drained)
            {
                vsDirect += $" ({size / m.Seconds / drained:F2}x drained)";
            }
            var peer = name.Replace("Tus.Server S3 --s3-memory-buffers", "@tus/s3-store", StringComparison.Ordinal).Replace("Tus.Server S3", "@tus/s3-store", StringComparison.Ordinal);
            var vsPeer = name.StartsWith("Tus.Server", StringComparison.Ordinal) && Throughput(peer) is { } p ? $"{size / m.Seconds / p:F2}x" : "";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {name}{(m.Failed > 0 ? $" ({m.Failed} failed)" : "")} | {mbps:F0} | {size / m.Seconds / Settings.MiB:F0} | {m.Cpu:F2} | {m.S3Cpu:F2} | {m.Rss / Settings.MiB:F0} | {m.Temp / Settings.MiB:F0} | {vsDirect} | {vsPeer} | {size / m.Slowest / 1e6:F0}-{size / m.Fastest / 1e6:F0} |");
        }

        text.AppendLine();
        if (tls)
        {
            // The target: with payload hashing skipped, Tus.Server at least as fast as the signed direct upload.
            var direct = Throughput("direct AWS SDK multipart");
            var ratios = medians.Keys.Where(n => n.Contains("--s3-disable-content-hashes", StringComparison.Ordinal))
                .Select(n => Throughput(n) is { } t && direct is { } d ? $"{n["Tus.Server S3 --s3-disable-content-hashes".Length..].TrimStart(' ', ',')} {t / d:F2}x" : null)
                .OfType<string>().ToList();
            text.AppendLine(ratios.Count > 0
                ? $"Unsigned Tus.Server (--s3-disable-content-hashes) vs the signed direct AWS SDK multipart upload, both over HTTPS: {string.Join("; ", ratios)} (target: >= 1.0x)."
                : "Unsigned Tus.Server vs signed direct upload: not measured in this run (no --s3-disable-content-hashes row or no direct row succeeded).");
            text.AppendLine();
        }

        text.AppendLine("Each run: a fresh process (server, or the direct-upload child), its CPU (utime + stime from /proc) over the upload, its peak RSS (VmHWM, warm-up included), and the peak size of the temporary directory it was given (TMPDIR), sampled every 20 ms. The servers get a 32 MiB warm-up upload first; throughput is timed by the client from POST to the last answer. RGW+OSD CPU: the S3 server's own processes (radosgw, ceph-osd) over the run; on a 2-core machine it bounds every row."
            + (tls
                ? " Every row goes over HTTPS (RGW's beast ssl_endpoint, a throw-away CA from eng/services/ceph.sh with TUS_CEPH_TLS=1). The direct SDK rows and the Tus.Server rows without --s3-disable-content-hashes sign each part's payload (SHA-256, the SDK's default); the --s3-disable-content-hashes rows send part and object bodies as UNSIGNED-PAYLOAD."
                : " Payload hashing cannot be skipped here: the SDK sends UNSIGNED-PAYLOAD over HTTPS only, and this RGW speaks HTTP."));
        foreach (var failed in runs.Where(r => !r.Ok))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- round {failed.Round} {failed.Name} failed: {failed.Error}");
        }

        return text.ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static async Task<Run> TusAsync(string name, bool node, long size, long patchSize, params string[] extraArgs)
    {
        var temp = Directory.CreateTempSubdirectory("tus-bench-s3-");
        var prefix = "run-" + Guid.NewGuid().ToString("N")[..8] + "/";
        var start = node
            ? new ProcessStartInfo("node", [Path.Combine(Root, "bench", "node", "s3-server.mjs")])
            : new ProcessStartInfo("dotnet", [
                Path.Combine(Root, "Tus.Server", "bin", "Release", "net10.0", "Tus.Server.dll"), "--host", "127.0.0.1", "--port", "0",
                "--store", "s3", "--s3-bucket", Settings.Bucket, "--s3-endpoint", Settings.Endpoint, "--s3-force-path-style", "--s3-object-prefix", prefix, .. extraArgs]);
        start.Environment["TMPDIR"] = temp.FullName;
        start.Environment["AWS_ACCESS_KEY_ID"] = Environment.GetEnvironmentVariable("TUS_S3_ACCESS_KEY");
        start.Environment["AWS_SECRET_ACCESS_KEY"] = Environment.GetEnvironmentVariable("TUS_S3_SECRET_KEY");
        start.Environment["AWS_REGION"] = "us-east-1";
        start.Environment["BENCH_S3_BUCKET"] = Settings.Bucket;
        start.Environment["NODE_ENV"] = "production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Tus.Server"] = "Information";
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        using var process = Process.Start(start)!;
        var endpoint = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new StringBuilder();
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (log)
            {
                log.AppendLine(line);
            }

            var at = line.IndexOf("tus endpoint: ", StringComparison.Ordinal);
            if (at >= 0)
            {
                endpoint.TrySetResult(new Uri(line[(at + 14)..].Trim()));
            }
        }

        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var uri = await endpoint.Task.WaitAsync(TimeSpan.FromSeconds(60));
            using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(10) };
            var tus = new TusClient(http);
            var pattern = Settings.Pattern();
            using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));

            // Warm-up: a 32 MiB upload, not timed.
            var warm = await tus.CreateAsync(uri, 32 * Settings.MiB, 0, pattern, cts.Token);
            await tus.PatchAsync(warm, 0, 32 * Settings.MiB, pattern, cts.Token);

            using var sampler = new TempSampler(temp.FullName);
            var cpuBefore = Cpu(process.Id);
            var watch = Stopwatch.StartNew();
            var upload = await tus.CreateAsync(uri, size, 0, pattern, cts.Token);
            for (long offset = 0; offset < size; offset += patchSize)
            {
                await tus.PatchAsync(upload, offset, Math.Min(patchSize, size - offset), pattern, cts.Token);
            }

            var seconds = watch.Elapsed.TotalSeconds;
            var cpu = Cpu(process.Id) - cpuBefore;
            var rss = PeakRss(process.Id);
            return new Run(name, 0, seconds, cpu, rss, await sampler.StopAsync(), true, null);
        }
        catch (Exception e)
        {
            string text;
            lock (log)
            {
                text = log.ToString();
            }

            return new Run(name, 0, 0, 0, 0, 0, false, e.Message + " | " + text[Math.Max(0, text.Length - 1500)..].ReplaceLineEndings(" / "));
        }
        finally
        {
            Stop(process);
            temp.Delete(recursive: true);
        }
    }

    private static async Task<Run> DirectAsync(long size, long drainEvery)
    {
        var name = drainEvery > 0 ? $"direct AWS SDK multipart, drained every {drainEvery / Settings.MiB} MiB" : "direct AWS SDK multipart";
        var temp = Directory.CreateTempSubdirectory("tus-bench-s3-");
        var start = new ProcessStartInfo("dotnet", [typeof(Driver).Assembly.Location, "direct", "direct-" + Guid.NewGuid().ToString("N")[..8], size.ToString(CultureInfo.InvariantCulture), drainEvery.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
        };
        start.Environment["TMPDIR"] = temp.FullName;
        using var process = Process.Start(start)!;
        using var sampler = new TempSampler(temp.FullName);
        long peakRss = 0;
        double cpu = 0;
        var watch = Stopwatch.StartNew();
        var output = process.StandardOutput.ReadToEndAsync();
        while (!process.HasExited)
        {
            try
            {
                // Max: the last sample may find the process a zombie, with no memory figures left.
                peakRss = Math.Max(peakRss, PeakRss(process.Id));
                cpu = Math.Max(cpu, Cpu(process.Id));
            }
            catch (IOException)
            {
            }

            await Task.Delay(20);
        }

        var text = await output;
        var elapsed = text.Split(' ', StringSplitOptions.TrimEntries) is [.., var value] && double.TryParse(value, CultureInfo.InvariantCulture, out var s) ? s : watch.Elapsed.TotalSeconds;
        temp.Delete(recursive: true);
        return process.ExitCode == 0
            ? new Run(name, 0, elapsed, cpu, peakRss, await sampler.StopAsync(), true, null)
            : new Run(name, 0, 0, 0, 0, 0, false, "exit " + process.ExitCode);
    }

    private static async Task CleanAsync(IAmazonS3 client)
    {
        var uploads = await client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Settings.Bucket });
        foreach (var upload in uploads.MultipartUploads ?? [])
        {
            await client.AbortMultipartUploadAsync(Settings.Bucket, upload.Key, upload.UploadId);
        }

        while (true)
        {
            var page = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Settings.Bucket });
            if (page.S3Objects is not { Count: > 0 } objects)
            {
                return;
            }

            await client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = Settings.Bucket, Objects = objects.Select(o => new KeyVersion { Key = o.Key }).ToList() });
            await CollectGarbageAsync();
        }
    }

    /// <summary>RGW frees deleted data hours later by default; the memstore OSD holds it in RAM, so it is freed now.</summary>
    private static async Task CollectGarbageAsync()
    {
        var conf = Path.Combine(CephDirectory, "ceph.conf");
        if (!File.Exists(conf))
        {
            return;
        }

        using var gc = Process.Start(new ProcessStartInfo("radosgw-admin", ["-c", conf, "gc", "process", "--include-all"]) { RedirectStandardOutput = true, RedirectStandardError = true });
        if (gc is not null)
        {
            await gc.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token);
        }
    }

    private static string CephDirectory => Environment.GetEnvironmentVariable("TUS_CEPH_DIR") ?? Path.Combine(Root, "artifacts", "services", "ceph");

    /// <summary>CPU seconds so far of the S3 server's processes (radosgw and the OSD), from eng/services/ceph.sh's pid files; 0 when absent.</summary>
    private static double S3ServerCpu()
    {
        double total = 0;
        foreach (var name in new[] { "client.rgw.tus", "osd.0" })
        {
            var pidFile = Path.Combine(CephDirectory, "run", name + ".pid");
            try
            {
                if (File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture, out var pid))
                {
                    total += Cpu(pid);
                }
            }
            catch (IOException)
            {
            }
        }

        return total;
    }

    private static readonly long TicksPerSecond = Math.Max(1, Sysconf(2)); // _SC_CLK_TCK

    private static double Cpu(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / (double)TicksPerSecond;
    }

    private static long PeakRss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    private static void Stop(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        _ = Kill(process.Id, 15);
        if (!process.WaitForExit(30_000))
        {
            process.Kill(entireProcessTree: true);
        }
    }

    private static string FindRoot()
    {
        var directory = AppContext.BaseDirectory;
        while (directory is not null && !File.Exists(Path.Combine(directory, "Tus.slnx")))
        {
            directory = Path.GetDirectoryName(directory);
        }

        return directory ?? throw new InvalidOperationException("Run from within the repository.");
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long Sysconf(int name);
}

/// <summary>Samples the total size of the files under a directory every 20 ms and keeps the peak.</summary>
internal sealed class TempSampler : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task<long> _loop;

    public TempSampler(string directory)
    {
        _loop = Task.Run(async () =>
        {
            long peak = 0;
            while (!_stop.IsCancellationRequested)
            {
                long total = 0;
                try
                {
                    foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
                    {
                        try
                        {
                            total += file.Length;
                        }
                        catch (IOException)
                        {
                        }
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                }

                peak = Math.Max(peak, total);
                try
                {
                    await Task.Delay(20, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }

            return peak;
        });
    }

    public async Task<long> StopAsync()
    {
        await _stop.CancelAsync();
        return await _loop;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
