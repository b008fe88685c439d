// A tus server as an application would run it in production: uploads in S3 (or on disk), locks in Consul (or in memory)
// so that several instances can share the storage, a storage quota, and hooks that validate and react. Every setting
// comes from the environment (see README.md), and the app publishes as a native executable.
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Options;
using Tus;
using Tus.Stores;
using Contoso.Uploads;

var builder = WebApplication.CreateSlimBuilder(args);
var settings = builder.Configuration;
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);   // one line per request is the access log's job

// Kestrel: keep every byte a client sent before it dropped its connection, and send the IETF draft's 104 responses.
// Both are connection middlewares of Tus.AspNetCore, set in one ConfigureEndpointDefaults (a second would replace it).
builder.WebHost.ConfigureKestrel(k => k.ConfigureEndpointDefaults(l => l.KeepReceivedBytesOnDisconnect().UseTusInterimResponses()));

var tus = builder.Services.AddTus(o => o.MaxSize = Bytes("TUS_MAX_SIZE", 1L << 30));

switch (Text("TUS_STORE", "file"))
{
    case "file":
        tus.AddFileStore(o => o.Directory = Text("TUS_UPLOAD_DIR", "data"));
        break;
    case "s3":
        tus.AddS3Store(
            services => CreateS3Client(services.GetRequiredService<IOptions<S3StoreOptions>>().Value, settings),
            o =>
            {
                o.Bucket = settings["TUS_S3_BUCKET"] ?? "";
                o.ObjectPrefix = Text("TUS_S3_OBJECT_PREFIX", "");
                o.Region = settings["TUS_S3_REGION"];
                if (settings["TUS_S3_ENDPOINT"] is { Length: > 0 } endpoint)
                {
                    // An S3-compatible server (Ceph RGW, MinIO, ...): buckets addressed as endpoint/bucket.
                    o.Endpoint = new Uri(endpoint);
                    o.ForcePathStyle = true;
                }
            });
        break;
    default:
        throw new InvalidOperationException("TUS_STORE must be 'file' or 's3'.");
}

// The quota wraps the store added before it: what does not fit is refused with 413 ERR_QUOTA_EXCEEDED.
tus.WithQuota(o =>
{
    o.MaxTotalBytes = Bytes("TUS_QUOTA_BYTES", 10L << 30);
    o.MaxUploadBytes = Bytes("TUS_QUOTA_MAX_UPLOAD_BYTES", 1L << 30);
});

switch (Text("TUS_LOCKER", "memory"))
{
    case "memory":
        tus.AddMemoryLocker();
        break;
    case "consul":
        tus.AddConsulLocker(o =>
        {
            // Without TUS_CONSUL_ADDRESS the locker takes CONSUL_HTTP_ADDR, then the local agent.
            if (settings["TUS_CONSUL_ADDRESS"] is { Length: > 0 } address)
            {
                o.Address = address;
            }

            o.KeyPrefix = Text("TUS_CONSUL_KEY_PREFIX", "fullstack/locks/");
        });
        break;
    default:
        throw new InvalidOperationException("TUS_LOCKER must be 'memory' or 'consul'.");
}

tus.AddHooks<UploadHooks>();

var app = builder.Build();
app.MapTus("/files");
app.Run();

// Plain reads, not ConfigurationBinder.GetValue<T>: that one converts through reflection, which a native build warns about.
string Text(string name, string defaultValue) => settings[name] is { Length: > 0 } value ? value : defaultValue;
long Bytes(string name, long defaultValue) => settings[name] is { Length: > 0 } value
    ? long.TryParse(value, out var bytes) && bytes > 0 ? bytes : throw new InvalidOperationException($"{name} must be a positive number of bytes, not '{value}'.")
    : defaultValue;

// Credentials from TUS_S3_ACCESS_KEY and TUS_S3_SECRET_KEY when set, else the SDK's chain (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, profiles, instance roles).
static IAmazonS3 CreateS3Client(S3StoreOptions options, IConfiguration settings)
{
    var config = S3Store.CreateClientConfig(options);
    return settings["TUS_S3_ACCESS_KEY"] is { Length: > 0 } accessKey
        ? new AmazonS3Client(new BasicAWSCredentials(accessKey, settings["TUS_S3_SECRET_KEY"]), config)
        : new AmazonS3Client(config);
}
