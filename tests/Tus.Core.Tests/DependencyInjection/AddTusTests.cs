using System.Collections;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Tus.Core.Tests.Infrastructure;
using Tus.Locking;
using Tus.Stores;

namespace Tus.Core.Tests.DependencyInjection;

/// <summary>services.AddTus() in Tus.Core: configuration binding, start-up checks, idempotence, and the generic host.</summary>
public sealed class AddTusTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly Dictionary<string, string?> EveryKey = new()
    {
        ["Tus:MaxSize"] = "1048576",
        ["Tus:Expiration"] = "3600",
        ["Tus:SlidingExpiration"] = "false",
        ["Tus:ExpirationSweepInterval"] = "00:02:00",
        ["Tus:ReadTimeout"] = "45",
        ["Tus:LockTimeout"] = "00:00:07",
        ["Tus:StoreCallTimeout"] = "12.5",
        ["Tus:ConcatenationTimeout"] = "00:20:00",
        ["Tus:ShutdownGracePeriod"] = "3",
        ["Tus:EnableDownload"] = "false",
        ["Tus:EnableTermination"] = "False",
        ["Tus:EnableConcatenation"] = "false",
        ["Tus:EnableConcatenationUnfinished"] = "false",
        ["Tus:EnableDeferredLength"] = "false",
        ["Tus:EnableChecksum"] = "false",
        ["Tus:BehindProxy"] = "true",
        ["Tus:Cors:Enabled"] = "false",
        ["Tus:Cors:AllowCredentials"] = "true",
        ["Tus:Cors:AllowedOrigins:0"] = "https://a.example",
        ["Tus:Cors:AllowedOrigins:1"] = "https://b.example:8443",
        ["Tus:Cors:AllowedHeaders"] = "X-One, X-Two",
        ["Tus:Cors:ExposedHeaders:0"] = "X-Three",
        ["Tus:Cors:MaxAge"] = "600",
        ["Tus:IetfDraft:Enabled"] = "false",
        ["Tus:IetfDraft:MinSize"] = "10",
        ["Tus:IetfDraft:MaxAppendSize"] = "65536",
        ["Tus:IetfDraft:MinAppendSize"] = "1024",
        ["Tus:Hooks:PreHookTimeout"] = "5",
        ["Tus:Hooks:PostHookTimeout"] = "00:02:00",
        ["Tus:Hooks:ProgressInterval"] = "0.25",
        ["Tus:Hooks:PostHookQueueCapacity"] = "500",
        ["Tus:Hooks:PostHookConcurrency"] = "2",
    };

    [Fact]
    public void AddTus_ConfigurationWithEveryKey_BindsEveryOption()
    {
        var services = new ServiceCollection();
        services.AddTus(Configuration(EveryKey).GetSection("Tus"));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<TusOptions>>().Value;

        options.MaxSize.Should().Be(1_048_576);
        options.Expiration.Should().Be(TimeSpan.FromHours(1));
        options.SlidingExpiration.Should().BeFalse();
        options.ExpirationSweepInterval.Should().Be(TimeSpan.FromMinutes(2));
        options.ReadTimeout.Should().Be(TimeSpan.FromSeconds(45));
        options.LockTimeout.Should().Be(TimeSpan.FromSeconds(7));
        options.StoreCallTimeout.Should().Be(TimeSpan.FromSeconds(12.5));
        options.ConcatenationTimeout.Should().Be(TimeSpan.FromMinutes(20));
        options.ShutdownGracePeriod.Should().Be(TimeSpan.FromSeconds(3));
        options.EnableDownload.Should().BeFalse();
        options.EnableTermination.Should().BeFalse();
        options.EnableConcatenation.Should().BeFalse();
        options.EnableConcatenationUnfinished.Should().BeFalse();
        options.EnableDeferredLength.Should().BeFalse();
        options.EnableChecksum.Should().BeFalse();
        options.BehindProxy.Should().BeTrue();
        options.Cors.Enabled.Should().BeFalse();
        options.Cors.AllowCredentials.Should().BeTrue();
        options.Cors.AllowedOrigins.Should().Equal(["https://a.example", "https://b.example:8443"], "a configured list replaces the default \"*\"");
        options.Cors.AllowedHeaders.Should().Equal("X-One", "X-Two");
        options.Cors.ExposedHeaders.Should().Equal("X-Three");
        options.Cors.MaxAge.Should().Be(TimeSpan.FromMinutes(10));
        options.IetfDraft.Enabled.Should().BeFalse();
        options.IetfDraft.MinSize.Should().Be(10);
        options.IetfDraft.MaxAppendSize.Should().Be(65536);
        options.IetfDraft.MinAppendSize.Should().Be(1024);
        options.Hooks.PreHookTimeout.Should().Be(TimeSpan.FromSeconds(5));
        options.Hooks.PostHookTimeout.Should().Be(TimeSpan.FromMinutes(2));
        options.Hooks.ProgressInterval.Should().Be(TimeSpan.FromMilliseconds(250));
        options.Hooks.PostHookQueueCapacity.Should().Be(500);
        options.Hooks.PostHookConcurrency.Should().Be(2);
        options.Validate().Should().BeEmpty();
        provider.GetServices<ITusStartupCheck>().Should().BeEmpty();
    }

    [Fact]
    public void EveryKey_CoversEveryOptionAndChangesItsDefault()
    {
        // Fails when an option is added without a binding (or without a line in the test above).
        var services = new ServiceCollection();
        services.AddTus(Configuration(EveryKey).GetSection("Tus"));
        using var provider = services.BuildServiceProvider();
        var bound = provider.GetRequiredService<IOptions<TusOptions>>().Value;
        var defaults = new TusOptions();

        foreach (var property in typeof(TusOptions).GetProperties().Where(p => p.Name is not nameof(TusOptions.Hooks) and not nameof(TusOptions.Cors) and not nameof(TusOptions.IetfDraft)))
        {
            EveryKey.Keys.Should().Contain("Tus:" + property.Name);
            Differs(property.GetValue(bound), property.GetValue(defaults)).Should().BeTrue(property.Name);
        }

        foreach (var property in typeof(TusCorsOptions).GetProperties())
        {
            EveryKey.Keys.Should().Contain(k => k.StartsWith("Tus:Cors:" + property.Name, StringComparison.Ordinal));
            Differs(property.GetValue(bound.Cors), property.GetValue(defaults.Cors)).Should().BeTrue("Cors." + property.Name);
        }

        foreach (var property in typeof(TusIetfDraftOptions).GetProperties())
        {
            EveryKey.Keys.Should().Contain("Tus:IetfDraft:" + property.Name);
            Differs(property.GetValue(bound.IetfDraft), property.GetValue(defaults.IetfDraft)).Should().BeTrue("IetfDraft." + property.Name);
        }

        // The failure answer is a TusError, set in code rather than configuration.
        foreach (var property in typeof(Tus.Hooks.TusHookOptions).GetProperties().Where(p => p.Name != nameof(Tus.Hooks.TusHookOptions.FailureError)))
        {
            EveryKey.Keys.Should().Contain("Tus:Hooks:" + property.Name);
            Differs(property.GetValue(bound.Hooks), property.GetValue(defaults.Hooks)).Should().BeTrue("Hooks." + property.Name);
        }
    }

    [Fact]
    public async Task Start_UnreadableValuesUnknownKeysAndNoStore_ReportsEveryProblemInOneException()
    {
        var builder = NewHost();
        builder.Services.AddTus(Configuration(new()
        {
            ["Tus:MaxSize"] = "lots",
            ["Tus:ReadTimeout"] = "soon",
            ["Tus:EnableChecksum"] = "maybe",
            ["Tus:LockTimeout"] = "-5",
            ["Tus:Colour"] = "blue",
            ["Tus:Cors:Nope"] = "x",
        }).GetSection("Tus"));
        using var host = builder.Build();

        var start = () => host.StartAsync(Ct);

        var message = (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message;
        message.Should().Contain("Tus:MaxSize").And.Contain("'lots'")
            .And.Contain("Tus:ReadTimeout").And.Contain("'soon'")
            .And.Contain("Tus:EnableChecksum").And.Contain("'maybe'")
            .And.Contain("LockTimeout must be positive")
            .And.Contain("Tus:Colour: unknown setting")
            .And.Contain("Tus:Cors:Nope: unknown setting")
            .And.Contain("No ITusStore is registered")
            .And.Contain("No ITusLocker is registered");
    }

    [Fact]
    public async Task Start_CustomStartupChecks_ReportTheirProblemsFailuresAndTimeouts()
    {
        var builder = NewHost();
        builder.Services.AddTus(o => o.StoreCallTimeout = TimeSpan.FromMilliseconds(200))
            .AddMemoryLocker()
            .AddStartupCheck<BucketCheck>()
            .AddStartupCheck<ThrowingCheck>()
            .AddStartupCheck<HangingCheck>()
            .AddStartupCheck<DeafCheck>();
        builder.Services.AddSingleton<ITusStore>(new InMemoryStore());
        using var host = builder.Build();

        var start = () => host.StartAsync(Ct);

        var message = (await start.Should().ThrowAsync<InvalidOperationException>().WaitAsync(TimeSpan.FromSeconds(10), Ct)).Which.Message;
        message.Should().Contain("Bucket 'uploads' does not exist.").And.Contain("Region is not set.")
            .And.Contain("ThrowingCheck: failed: the lock service refused the connection")
            .And.Contain("HangingCheck: did not finish within 0.2 s")
            .And.Contain("DeafCheck: did not finish within 0.2 s");
        message.Should().NotContain("ITusStore is registered").And.NotContain("ITusLocker is registered");
    }

    [Fact]
    public void AddTus_CalledInEveryForm_RegistersTheEngineOnce()
    {
        var services = new ServiceCollection();
        var section = Configuration(new() { ["Tus:MaxSize"] = "100" }).GetSection("Tus");

        services.AddTus();
        services.AddTus(o => o.ReadTimeout = TimeSpan.FromSeconds(5));
        services.AddTus(section);
        services.AddTus(section, o => o.LockTimeout = TimeSpan.FromSeconds(3)).AddStartupCheck<BucketCheck>().AddStartupCheck<BucketCheck>();

        services.Count(d => d.ServiceType == typeof(TusEngine)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(TimeProvider)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(ITusStartupCheck)).Should().Be(1);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<TusOptions>>().Value;
        options.MaxSize.Should().Be(100);
        options.ReadTimeout.Should().Be(TimeSpan.FromSeconds(5));
        options.LockTimeout.Should().Be(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task GenericHost_WithoutAspNetCore_ServesTheEngineAndSweeps()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 30, 8, 0, 0, TimeSpan.Zero));
        var store = new InMemoryStore();
        var builder = NewHost();
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.Services.AddTus(o =>
        {
            o.Expiration = TimeSpan.FromMinutes(5);
            o.ExpirationSweepInterval = TimeSpan.FromMinutes(1);
        }).AddMemoryLocker();
        builder.Services.AddSingleton<ITusStore>(store);
        using var host = builder.Build();
        await host.StartAsync(Ct);
        try
        {
            var engine = host.Services.GetRequiredService<TusEngine>();
            host.Services.GetRequiredService<ITusLocker>().Should().BeOfType<Tus.Lockers.Memory.MemoryLocker>();
            var created = await engine.HandleAsync(new TestRequest("POST").Header("Upload-Length", "10"));
            created.StatusCode.Should().Be(201);
            engine.Extensions.Should().Contain("expiration");
            store.Count.Should().Be(1);

            // The host's sweep runs on the injected clock: once the upload has expired, a tick removes it.
            time.Advance(TimeSpan.FromMinutes(6));
            for (var i = 0; i < 100 && store.Count > 0; i++)
            {
                time.Advance(TimeSpan.FromMinutes(1));
                await Task.Delay(20, Ct);
            }

            store.Count.Should().Be(0);
        }
        finally
        {
            await host.StopAsync(Ct);
        }
    }

    private static HostApplicationBuilder NewHost() => Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });

    private static IConfiguration Configuration(Dictionary<string, string?> values) => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    private static bool Differs(object? bound, object? original) =>
        bound is IEnumerable a && bound is not string && original is IEnumerable b
            ? !a.Cast<object>().SequenceEqual(b.Cast<object>())
            : !Equals(bound, original);

    private sealed class BucketCheck : ITusStartupCheck
    {
        public ValueTask<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult<IReadOnlyList<string>>(["Bucket 'uploads' does not exist.", "Region is not set."]);
    }

    private sealed class ThrowingCheck : ITusStartupCheck
    {
        public ValueTask<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken) =>
            throw new IOException("the lock service refused the connection");
    }

    private sealed class HangingCheck : ITusStartupCheck
    {
        public async ValueTask<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return [];
        }
    }

    /// <summary>Ignores its token: a client library that does not take one.</summary>
    private sealed class DeafCheck : ITusStartupCheck
    {
        private static readonly TaskCompletionSource Never = new();

        public async ValueTask<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken)
        {
            await Never.Task;
            return [];
        }
    }
}
