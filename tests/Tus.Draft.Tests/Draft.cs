using System.Globalization;
using System.Text;

namespace Tus.Draft.Tests;

/// <summary>How each interop version spells things, and one-call requests over <see cref="RawHttp"/>.</summary>
public static class Draft
{
    public static TheoryData<int> Versions => [3, 4, 5, 6, 7, 8, 9];

    public static TheoryData<int> VersionsWithLimitsAndProblems => [6, 7, 8, 9];

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The completeness header a client of <paramref name="version"/> sends.</summary>
    public static (string Name, string Value) Complete(int version, bool complete) => version == 3
        ? ("Upload-Incomplete", complete ? "?0" : "?1")
        : ("Upload-Complete", complete ? "?1" : "?0");

    /// <summary>The completeness a response to a client of <paramref name="version"/> announces.</summary>
    public static bool? IsComplete(RawResponse response, int version) => version == 3
        ? response.Header("Upload-Incomplete") switch { "?1" => false, "?0" => true, _ => null }
        : response.Header("Upload-Complete") switch { "?1" => true, "?0" => false, _ => null };

    /// <summary>The media type of an append: application/partial-upload from interop 6; anything before.</summary>
    public static string AppendType(int version) => version >= 6 ? "application/partial-upload" : "application/octet-stream";

    public static (string, string) Interop(int version) => ("Upload-Draft-Interop-Version", version.ToString(CultureInfo.InvariantCulture));

    public static async Task<List<RawResponse>> SendAsync(DraftServer server, string method, string path, IEnumerable<(string, string)> headers, byte[]? body = null)
    {
        await using var http = await RawHttp.ConnectAsync(server.Endpoint, Ct);
        var all = headers.ToList();
        if (body is not null || method is "POST" or "PATCH")
        {
            all.Add(("Content-Length", (body?.Length ?? 0).ToString(CultureInfo.InvariantCulture)));
        }

        await http.SendAsync(method, path, all, body, Ct);
        return await http.ReadAllAsync(method == "HEAD", Ct);
    }

    /// <summary>Creates an upload with the given first bytes; returns every response (interim ones first) and the upload's path.</summary>
    public static async Task<(List<RawResponse> Responses, string Path)> CreateAsync(DraftServer server, int version, bool complete, byte[] body, params (string, string)[] extra)
    {
        var responses = await SendAsync(server, "POST", server.Path, [Interop(version), Complete(version, complete), .. extra], body);
        var location = responses[^1].Header("Location");
        return (responses, location is null ? string.Empty : new Uri(location).AbsolutePath);
    }

    public static Task<List<RawResponse>> AppendAsync(DraftServer server, int version, string path, long offset, bool complete, byte[] body, string? contentType = null) =>
        SendAsync(server, "PATCH", path,
            [Interop(version), Complete(version, complete), ("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture)), ("Content-Type", contentType ?? AppendType(version))],
            body);

    public static async Task<RawResponse> HeadAsync(DraftServer server, int version, string path) =>
        (await SendAsync(server, "HEAD", path, [Interop(version)]))[^1];

    public static async Task<RawResponse> DownloadAsync(DraftServer server, string path) =>
        (await SendAsync(server, "GET", path, []))[^1];

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
