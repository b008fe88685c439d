using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Fluent;

namespace Tus.Faults.Tests.Fuzzing;

/// <summary>
/// Property-based fuzzing of every tus header parser and of the router, over real Kestrel: for any input, an answer below
/// 500, no error-level log, and nothing read, written or removed outside the store's directory. A fixed budget per
/// property in CI; TUS_FUZZ_ITERATIONS runs longer on demand.
/// </summary>
public sealed class HeaderFuzzTests
{
    private static readonly int Iterations = Figures.Scale("TUS_FUZZ_ITERATIONS", 150);

    private static readonly string[] TusHeaders =
    [
        "Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Checksum", "Upload-Concat", "Tus-Resumable",
        "Upload-Defer-Length", "X-HTTP-Method-Override", "Content-Type",
    ];

    private static readonly string[] Methods = ["POST", "PATCH", "HEAD", "GET", "DELETE", "OPTIONS"];

    /// <summary>Numbers as clients get them wrong: signs, exponents, overflow, whitespace, other digits, hex, fractions.</summary>
    private static readonly Gen<string> AbsurdNumbers = Gen.OneOf(
        Gen.Elements(
            "", " ", "-1", "+5", "+0", "-0", "1e3", "1E3", " 5", "5 ", "\t5", "0x10", "1.0", "5,6", "5;6", "0005",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999999999999999",
            "١٢٣", "１２３", "NaN", "Infinity", "1_000", "12abc", "\u00a05", "00000000000000000000000000000001"),
        ArbMap.Default.GeneratorFor<long>().Select(n => n.ToString(CultureInfo.InvariantCulture)),
        Gen.Choose(0, 200).Select(n => n.ToString(CultureInfo.InvariantCulture)));

    private static readonly Gen<string> Base64Values = Gen.OneOf(
        Gen.Elements("", "=", "====", "!!!!", "aGVsbG8", "aGVsbG8=", "aGVsbG8==", "aGV sbG8=", "/w==", "wyg=", "7aCA", "gA==", "_-_-"),
        ArbMap.Default.GeneratorFor<byte[]>().Select(Convert.ToBase64String),
        Text());

    private static readonly Gen<string> MetadataValues = Gen.OneOf(
        Gen.Elements("", ",", ",,", "key", "key ", " key value", "key value extra", "k\u00e9y dmFsdWU=", "a YQ==,a YQ=="),
        Gen.Choose(0, 40).SelectMany(count => Gen.ArrayOf(Base64Values, count).Select(values =>
            string.Join(",", values.Select((value, i) => "key" + i.ToString(CultureInfo.InvariantCulture) + " " + value)))),
        Gen.ArrayOf(Gen.Zip(Text(), Base64Values)).Select(pairs => string.Join(",", pairs.Select(p => p.Item1 + " " + p.Item2))));

    private static readonly Gen<string> ChecksumValues = Gen.OneOf(
        Gen.Elements("sha1", "sha1 ", "md5 =", "sha256 AAAA", "sha512", "crc32 AAAA", "SHA1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
            "sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "sha1 2jmj7l5rSw0yVb/vlWAYkK/YBwk= extra", "sha1  2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
        Gen.Zip(Gen.Elements("md5", "sha1", "sha256", "sha512", "x", ""), Base64Values).Select(p => p.Item1 + " " + p.Item2));

    private static readonly Gen<string> ConcatValues = Gen.OneOf(
        Gen.Elements("partial", "final", "final;", "final; ", "final;/files/", "final;/files/../../etc/passwd", "final;http://127.0.0.1/files/x",
            "final;/files/%2e%2e/x", "partial;", "PARTIAL", "final;" + string.Join(" ", Enumerable.Repeat("/files/a", 500))),
        Text().Select(t => "final;" + t));

    private static readonly Gen<string> VersionValues = Gen.Elements("1.0.0", "1.0.0 ", "1.0", "0.2.2", "", "1.0.0,1.0.0", "2.0.0", "１.0.0");

    private static readonly Gen<string> OverrideValues = Gen.OneOf(Gen.Elements(Methods), Gen.Elements("", "TRACE", "CONNECT", "patch", "PATCH ", "GET,PATCH"), Text());

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Any text on one header line: CR and LF would end the line (that is Kestrel's framing, not a tus parser).</summary>
    private static Gen<string> Text() =>
        Gen.OneOf(
            ArbMap.Default.GeneratorFor<string>().Select(s => (s ?? string.Empty).Replace('\r', ' ').Replace('\n', ' ').Replace('\0', ' ')),
            Gen.Choose(1, 40).Select(n => new string('9', n)));

    private static Gen<string> ValueFor(string header) => header switch
    {
        "Upload-Offset" or "Upload-Length" or "Upload-Defer-Length" => Gen.OneOf(AbsurdNumbers, AbsurdNumbers, Text()),
        "Upload-Metadata" => MetadataValues,
        "Upload-Checksum" => ChecksumValues,
        "Upload-Concat" => ConcatValues,
        "Tus-Resumable" => Gen.OneOf(VersionValues, VersionValues, Text()),
        "X-HTTP-Method-Override" => OverrideValues,
        _ => Gen.OneOf(Gen.Elements("application/offset+octet-stream", "application/offset+octet-stream; charset=x", "text/plain"), Text()),
    };

    /// <summary>A header and a value for it; sometimes the header is sent twice.</summary>
    private static readonly Gen<KeyValuePair<string, string>[]> Headers =
        Gen.Frequency((1, Gen.Constant("Tus-Resumable")), (40, Gen.Elements(TusHeaders.Where(h => h != "Tus-Resumable").ToArray()))).SelectMany(name => ValueFor(name).Select(value => new KeyValuePair<string, string>(name, value)))
            .ArrayOf()
            .SelectMany(headers => Gen.Elements(true, false, false).Select(duplicate =>
                duplicate && headers.Length > 0 ? [.. headers, headers[0]] : headers));

    [Fact]
    public async Task AnyTusHeaders_OnAnyMethod_NeverAServerError()
    {
        var errors = new ErrorLog();
        await using var host = await KestrelHost.StartAsync(keepReceivedBytes: true, logs: errors);
        var upload = await TusWire.CreateAsync(host.Client, new Uri(host.BaseAddress, "files/"), 100, Ct);
        var targets = new[] { "/files/", "/files", upload.AbsolutePath };
        var cases =
            from method in Gen.Elements(Methods)
            from target in Gen.Elements(targets)
            from headers in Headers
            from body in Gen.Elements<byte[]?>(null, [], new byte[10], new byte[150])
            select (method, target, headers, body);
        var statuses = new Dictionary<int, int>();

        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (method, target, headers, body) = c;
            // Always a tus request unless the case says otherwise: the version check would hide the other parsers.
            var all = headers.Any(h => h.Key == "Tus-Resumable") ? headers : [new("Tus-Resumable", "1.0.0"), .. headers];
            var (status, response) = RawHttp.SendAsync(host.Port, method, target, all, body).GetAwaiter().GetResult();
            lock (statuses)
            {
                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }

            if (status is < 100 or >= 500)
            {
                throw new InvalidOperationException($"{method} {target} [{Describe(all)}] answered {status}: {Truncate(response)}");
            }
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Iterations * 4).WithQuietOnSuccess(true), property);

        Figures.Print($"fuzz (headers): {Iterations * 4} requests; statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}x{s.Value}"))}");
        errors.Entries.Should().BeEmpty();
    }

    [Fact]
    public async Task TraversalAndEncodedPaths_NeverLeaveTheStoreDirectory()
    {
        var root = Figures.Directory();
        var store = Path.Combine(root, "store");
        var secret = Path.Combine(root, "secret");
        const string SecretText = "do-not-serve-this";
        await File.WriteAllTextAsync(secret, SecretText, Ct);
        await File.WriteAllTextAsync(secret + ".info", "{}", Ct);
        var errors = new ErrorLog();
        await using var host = await KestrelHost.StartAsync(keepReceivedBytes: true, logs: errors, directory: store);
        await TusWire.CreateAsync(host.Client, new Uri(host.BaseAddress, "files/"), 10, Ct);

        var segments = Gen.Elements(
            "..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "..%2f", "..%2F", "..%5c", "..\\", "%2f", "%5c", "%00", "secret", "secret.info",
            "~", "%252e%252e", "", ".", "%c0%ae%c0%ae", "%u002e%u002e", "..;", "store", "a", "files", "%20", "....//", "..%00");
        var paths = Gen.Zip(Gen.Elements("/files/", "/files", "/", "//files/", "/files/%2e%2e/"), segments.ArrayOf())
            .Select(p => p.Item1 + string.Join("/", p.Item2));
        var cases = Gen.Zip(Gen.Elements("GET", "HEAD", "DELETE", "PATCH", "POST", "OPTIONS"), paths);

        var property = Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var (method, path) = c;
            List<KeyValuePair<string, string>> headers =
            [
                new("Tus-Resumable", "1.0.0"), new("Upload-Offset", "0"), new("Content-Type", "application/offset+octet-stream"),
                new("Upload-Concat", "final;" + path),
            ];
            var (status, response) = RawHttp.SendAsync(host.Port, method, path, headers, method == "PATCH" ? "xx"u8.ToArray() : null).GetAwaiter().GetResult();
            if (status is < 100 or >= 500 || response.Contains(SecretText, StringComparison.Ordinal) || !File.Exists(secret)
                || File.ReadAllText(secret) != SecretText)
            {
                throw new InvalidOperationException($"{method} {path} answered {status}, or reached outside the store: {Truncate(response)}");
            }
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(Iterations * 2).WithQuietOnSuccess(true), property);

        Directory.GetFileSystemEntries(root).Select(Path.GetFileName).Should().BeEquivalentTo(["store", "secret", "secret.info"], "nothing was written beside the store");
        errors.Entries.Should().BeEmpty();
        Figures.Print($"fuzz (paths): {Iterations * 2} traversal and encoded-path requests, none left the store directory");
    }

    [Fact]
    public async Task OversizedHeadersAndAThousandMetadataPairs_AnsweredWithoutAServerError()
    {
        var errors = new ErrorLog();
        await using var host = await KestrelHost.StartAsync(keepReceivedBytes: true, logs: errors);
        var thousandPairs = string.Join(",", Enumerable.Range(0, 1000).Select(i => $"k{i} {Convert.ToBase64String(Encoding.UTF8.GetBytes("value" + i))}"));
        var invalidUtf8 = "name " + Convert.ToBase64String([0xC3, 0x28, 0xFF, 0xFE]);
        List<List<KeyValuePair<string, string>>> requests =
        [
            [new("Upload-Length", "10"), new("Upload-Metadata", thousandPairs)],
            [new("Upload-Length", "10"), new("Upload-Metadata", invalidUtf8)],
            [new("Upload-Length", "10"), new("Upload-Metadata", new string('a', 31 * 1024))],
            [new("Upload-Length", "10"), new("Upload-Metadata", new string('a', 64 * 1024))],
            [new("Upload-Length", new string('9', 20000))],
            [new("Upload-Length", "10"), new("Upload-Length", "11")],
            [new("Upload-Length", "10"), new("Upload-Defer-Length", "1")],
            [new("Upload-Defer-Length", "1"), new("Upload-Defer-Length", "1")],
        ];
        foreach (var headers in requests)
        {
            var (status, response) = await RawHttp.SendAsync(host.Port, "POST", "/files/", [new("Tus-Resumable", "1.0.0"), .. headers]);
            status.Should().BeInRange(200, 499, Truncate(response));
        }

        errors.Entries.Should().BeEmpty();
    }

    private static string Describe(IEnumerable<KeyValuePair<string, string>> headers) =>
        string.Join("; ", headers.Select(h => h.Key + ": " + (h.Value.Length > 80 ? h.Value[..80] + $"...({h.Value.Length})" : h.Value)));

    private static string Truncate(string text) => text.Length > 400 ? text[..400] : text;
}
