// The floor for the benchmarks: what HTTP over loopback costs with no tus work and no storage. Kestrel reads every
// POST and PATCH body to its end and discards it. It answers just enough for a tus client to go on: a POST gets 201
// with a Location, a PATCH 204; both carry Upload-Offset (the request's offset plus the bytes it read). GET /health answers "ok".
//   dotnet Tus.Bench.Floor.dll --host 127.0.0.1 --port 5000
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;

var host = "127.0.0.1";
var port = 8081;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--host":
            host = args[i + 1];
            break;
        case "--port":
            port = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            break;
        default:
            await Console.Error.WriteLineAsync($"floor: unknown option {args[i]}");
            return 2;
    }
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://{host}:{port}");
// The same socket transport settings as Tus.Server (see its Program.cs), so that the gap between the two is the tus
// work and the storage, not a differently tuned transport.
builder.WebHost.UseSockets(o =>
{
    o.MaxReadBufferSize = 64 * 1024;
    o.WaitForDataBeforeAllocatingBuffer = false;
});
builder.WebHost.ConfigureKestrel(o =>
{
    o.Limits.MaxRequestBodySize = null;
    o.Limits.MinRequestBodyDataRate = null;
});

var app = builder.Build();
long created = 0;
app.Run(async context =>
{
    var request = context.Request;
    var response = context.Response;
    if (HttpMethods.IsGet(request.Method) && request.Path == "/health")
    {
        await response.WriteAsync("ok");
        return;
    }

    if (!HttpMethods.IsPost(request.Method) && !HttpMethods.IsPatch(request.Method))
    {
        response.StatusCode = 405;
        return;
    }

    context.Features.Get<IHttpMaxRequestBodySizeFeature>()!.MaxRequestBodySize = null;
    var reader = request.BodyReader;
    long read = 0;
    while (true)
    {
        var result = await reader.ReadAsync();
        read += result.Buffer.Length;
        reader.AdvanceTo(result.Buffer.End);
        if (result.IsCompleted)
        {
            break;
        }
    }

    response.Headers["Tus-Resumable"] = "1.0.0";
    var start = long.TryParse(request.Headers["Upload-Offset"], NumberStyles.None, CultureInfo.InvariantCulture, out var offset) ? offset : 0;
    response.Headers["Upload-Offset"] = (start + read).ToString(CultureInfo.InvariantCulture);
    if (HttpMethods.IsPost(request.Method))
    {
        response.Headers.Location = "/files/" + Interlocked.Increment(ref created).ToString(CultureInfo.InvariantCulture);
        response.StatusCode = 201;
    }
    else
    {
        response.StatusCode = 204;
    }
});

await app.RunAsync();
return 0;
