using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace Tus.Bench;

/// <summary>A lean tus client for the benchmarks: creation (with or without a body) and PATCH, each answer checked.</summary>
internal sealed class TusClient(HttpClient http)
{
    private const string OffsetOctetStream = "application/offset+octet-stream";

    // What tus-js-client sends for a file named bench.bin: real clients send metadata, so the servers parse some.
    private const string Metadata = "filename YmVuY2guYmlu,filetype YXBwbGljYXRpb24vb2N0ZXQtc3RyZWFt";

    /// <summary>POST: creates an upload of <paramref name="length"/> bytes, sending its first <paramref name="body"/> bytes with it.</summary>
    public async Task<Uri> CreateAsync(Uri endpoint, long length, long body, byte[] pattern, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("Upload-Metadata", Metadata);
        if (body > 0)
        {
            request.Content = new PatternContent(pattern, body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(OffsetOctetStream);
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created || response.Headers.Location is not { } location)
        {
            throw new InvalidOperationException($"POST {endpoint} answered {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        if (body > 0)
        {
            ExpectOffset(response, body, "POST");
        }

        return location.IsAbsoluteUri ? location : new Uri(endpoint, location);
    }

    /// <summary>PATCH: sends <paramref name="count"/> bytes at <paramref name="offset"/>; the answer must be 204 with the new offset.</summary>
    public async Task PatchAsync(Uri upload, long offset, long count, byte[] pattern, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, upload);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        request.Content = new PatternContent(pattern, count);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(OffsetOctetStream);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.StatusCode != HttpStatusCode.NoContent)
        {
            throw new InvalidOperationException($"PATCH {upload} answered {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        ExpectOffset(response, offset + count, "PATCH");
    }

    private static void ExpectOffset(HttpResponseMessage response, long expected, string method)
    {
        var offset = response.Headers.TryGetValues("Upload-Offset", out var values) ? values.FirstOrDefault() : null;
        if (offset != expected.ToString(CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"{method} answered Upload-Offset {offset ?? "(none)"}, expected {expected}.");
        }
    }

    /// <summary>A body of <c>length</c> bytes made of a repeated pattern, sent with its Content-Length.</summary>
    private sealed class PatternContent(byte[] pattern, long length) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var left = length;
            while (left > 0)
            {
                var count = (int)Math.Min(left, pattern.Length);
                await stream.WriteAsync(pattern.AsMemory(0, count), cancellationToken);
                left -= count;
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override bool TryComputeLength(out long length1)
        {
            length1 = length;
            return true;
        }
    }
}
