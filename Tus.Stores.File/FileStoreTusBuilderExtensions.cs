using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Tus;
using Tus.Stores;

// In the DI namespace, like the other builder extensions, so that .AddFileStore() needs no using directive.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the file store to a tus registration: <c>services.AddTus().AddFileStore(o =&gt; o.Directory = "data")</c>.</summary>
public static class FileStoreTusBuilderExtensions
{
    /// <summary>Stores uploads as files in the default directory (<c>data</c>), replacing any store registered before.</summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddFileStore(this ITusBuilder builder) => builder.AddFileStore(static _ => { });

    /// <summary>
    /// Stores uploads as files, replacing any store registered before. At start-up the options are validated and the
    /// directory is created and written to once, so a bad path or missing permission stops the host with a clear message.
    /// </summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="configure">Sets the options, e.g. <c>o =&gt; o.Directory = "data"</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddFileStore(this ITusBuilder builder, Action<FileStoreOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.Configure(configure);
        services.RemoveAll<ITusStore>();
        services.AddSingleton<ITusStore>(static sp => new FileStore(
            sp.GetRequiredService<IOptions<FileStoreOptions>>().Value,
            sp.GetRequiredService<TimeProvider>()));
        return builder.AddStartupCheck<FileStoreStartupCheck>();
    }

    // Runs whenever AddFileStore was called: its options were configured on purpose, so they must be valid, and the
    // directory must take files now rather than fail the first upload.
    private sealed class FileStoreStartupCheck(IOptions<FileStoreOptions> options) : ITusStartupCheck
    {
        public ValueTask<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken)
        {
            IReadOnlyList<string> problems;
            try
            {
                problems = options.Value.Validate();
            }
            catch (OptionsValidationException ex)
            {
                problems = [.. ex.Failures];
            }

            if (problems.Count == 0)
            {
                problems = ProbeDirectory(options.Value.Directory);
            }

            return ValueTask.FromResult(problems);
        }

        private static IReadOnlyList<string> ProbeDirectory(string directory)
        {
            var full = Path.GetFullPath(directory);
            var probe = Path.Combine(full, ".tus-startup-probe-" + Environment.ProcessId);
            try
            {
                Directory.CreateDirectory(full);
                File.WriteAllBytes(probe, [1]);
                File.Delete(probe);
                return [];
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                return [$"{nameof(FileStoreOptions)}.{nameof(FileStoreOptions.Directory)}: cannot write to '{full}': {ex.Message}"];
            }
        }
    }
}
