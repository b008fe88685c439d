using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tus;
using Tus.Stores;

// In the DI namespace, like the other builder extensions, so that .AddS3Store() needs no using directive.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the S3 store to a tus registration: <c>services.AddTus().AddS3Store(o =&gt; o.Bucket = "uploads")</c>.</summary>
public static class S3StoreTusBuilderExtensions
{
    /// <summary>
    /// Stores uploads in S3 or an S3-compatible server, replacing any store registered before. The client is built from
    /// the options (endpoint, path style, region, checksum modes) with the SDK's credential chain. At start-up the
    /// options are validated, part files left by crashed processes are removed, and the bucket is checked to exist and
    /// answer, so a bad bucket, endpoint or credential stops the host with a clear message.
    /// </summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="configure">Sets the options, e.g. <c>o =&gt; o.Bucket = "uploads"</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddS3Store(this ITusBuilder builder, Action<S3StoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.Configure(configure);
        services.RemoveAll<ITusStore>();
        services.AddSingleton<ITusStore>(static sp => new S3Store(
            sp.GetRequiredService<IOptions<S3StoreOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        return builder.AddStartupCheck<S3StoreStartupCheck>();
    }

    /// <summary>
    /// Stores uploads in S3 through a client of your own (from DI), replacing any store registered before. The client's
    /// configuration is yours; <see cref="S3Store.CreateClientConfig"/> gives the settings S3-compatible servers need.
    /// </summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="client">Gives the client; it is not disposed by the store.</param>
    /// <param name="configure">Sets the options (bucket, prefixes, part sizes, buffering).</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddS3Store(this ITusBuilder builder, Func<IServiceProvider, IAmazonS3> client, Action<S3StoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.Configure(configure);
        services.RemoveAll<ITusStore>();
        services.AddSingleton<ITusStore>(sp => new S3Store(
            sp.GetRequiredService<IOptions<S3StoreOptions>>().Value,
            client(sp),
            sp.GetRequiredService<TimeProvider>()));
        return builder.AddStartupCheck<S3StoreStartupCheck>();
    }

    // Runs whenever AddS3Store was called: the options must be valid and the bucket must answer now rather than fail the
    // first upload. Creating the store also sweeps part files that crashed processes left.
    private sealed class S3StoreStartupCheck(IOptions<S3StoreOptions> options, IServiceProvider services) : ITusStartupCheck
    {
        public async ValueTask<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken)
        {
            var problems = options.Value.Validate();
            if (problems.Count > 0)
            {
                return problems;
            }

            if (services.GetService<ITusStore>() is not S3Store store)
            {
                return [];
            }

            try
            {
                await store.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = store.Bucket, MaxKeys = 1 }, cancellationToken).ConfigureAwait(false);
                return [];
            }
            catch (AmazonS3Exception e)
            {
                return [$"{nameof(S3StoreOptions)}.{nameof(S3StoreOptions.Bucket)}: the bucket '{store.Bucket}' cannot be listed: {(int)e.StatusCode} {e.ErrorCode}."];
            }
            catch (Exception e) when (e is Amazon.Runtime.AmazonClientException or HttpRequestException or IOException)
            {
                return [$"{nameof(S3StoreOptions)}.{nameof(S3StoreOptions.Endpoint)}: S3 cannot be reached: {e.Message}"];
            }
        }
    }
}
