using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Tus.Locking;
using Tus.Stores;

namespace Tus.AspNetCore.Tests;

public sealed class RegistrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task MapTus_WithoutAddTus_ThrowsAtOnceNamingAddTus()
    {
        var builder = TestServer.CreateBuilder();
        await using var app = builder.Build();

        var map = () => app.MapTus("/files");

        map.Should().Throw<InvalidOperationException>().WithMessage("*services.AddTus()*");
    }

    [Fact]
    public async Task Start_WithoutStoreAndLocker_ReportsBothInOneException()
    {
        var builder = TestServer.CreateBuilder();
        builder.Services.AddTus();
        await using var app = builder.Build();
        app.MapTus("/files");

        var start = () => app.StartAsync(Ct);

        var thrown = await start.Should().ThrowAsync<InvalidOperationException>();
        thrown.Which.Message.Should().Contain("ITusStore").And.Contain(".AddFileStore(").And.Contain("ITusLocker").And.Contain(".AddMemoryLocker()");
    }

    [Fact]
    public async Task Start_WithInvalidOptionsEverywhere_ReportsEveryProblemAtOnce()
    {
        var builder = TestServer.CreateBuilder();
        builder.Services
            .AddTus(o =>
            {
                o.MaxSize = -1;
                o.ReadTimeout = TimeSpan.Zero;
            })
            .AddFileStore(o =>
            {
                o.Directory = " ";
                o.BufferSize = 1;
            });
        await using var app = builder.Build();
        app.MapTus("/files");

        var start = () => app.StartAsync(Ct);

        var message = (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message;
        message.Should().Contain("ITusLocker").And.Contain("MaxSize").And.Contain("ReadTimeout")
            .And.Contain("FileStoreOptions.Directory").And.Contain("FileStoreOptions.BufferSize");
        message.Should().NotContain("ITusStore is registered", "AddFileStore registered one");
    }

    [Fact]
    public async Task Start_WithCustomStoreAndLocker_NeedsNoBuiltInOnes()
    {
        var directory = TestServer.NewDirectory();
        await using var server = await TestServer.StartAsync(configureServices: (builder, _) =>
        {
            builder.Services.AddSingleton<ITusStore>(sp => new FileStore(new FileStoreOptions { Directory = directory }, TimeProvider.System));
            builder.Services.AddSingleton<ITusLocker, Tus.Lockers.Memory.MemoryLocker>();
            builder.Services.AddTus();
        });

        var upload = await server.CreateUploadAsync(3);

        (await server.GetOffsetAsync(upload)).Should().Be(0);
        File.Exists(Path.Combine(directory, TestServer.IdOf(upload))).Should().BeTrue();
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public void AddTus_CalledTwice_RegistersOnceAndAppliesBothConfigurations()
    {
        var services = new ServiceCollection();

        var first = services.AddTus(o => o.MaxSize = 1000);
        var second = services.AddTus(o => o.ReadTimeout = TimeSpan.FromSeconds(5));
        services.AddTus();

        first.Services.Should().BeSameAs(services);
        second.Services.Should().BeSameAs(services);
        services.Count(d => d.ServiceType == typeof(TusEngine)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(TimeProvider)).Should().Be(1);
        using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<TusOptions>>().Value;
        options.MaxSize.Should().Be(1000);
        options.ReadTimeout.Should().Be(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void AddFileStoreAndAddMemoryLocker_CalledAfterOtherRegistrations_ReplaceThem()
    {
        var services = new ServiceCollection();
        services.AddSingleton<ITusLocker>(_ => throw new InvalidOperationException("replaced"));

        services.AddTus().AddFileStore(o => o.Directory = "one").AddFileStore(o => o.Directory = "two").AddMemoryLocker();

        services.Count(d => d.ServiceType == typeof(ITusStore)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(ITusLocker)).Should().Be(1);
        services.Single(d => d.ServiceType == typeof(ITusLocker)).ImplementationType.Should().Be<Tus.Lockers.Memory.MemoryLocker>();
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptions<FileStoreOptions>>().Value.Directory.Should().Be("two");
    }

    [Fact]
    public async Task Server_WithAddTusCalledTwice_ServesUploads()
    {
        await using var server = await TestServer.StartAsync(configureServices: (builder, directory) =>
        {
            builder.Services.AddTus(o => o.MaxSize = 100).AddFileStore(o => o.Directory = directory);
            builder.Services.AddTus().AddMemoryLocker();
        });

        var upload = await server.CreateUploadAsync(100);
        (await server.GetOffsetAsync(upload)).Should().Be(0);

        using var tooLarge = TestServer.Request(HttpMethod.Post, new Uri(server.BaseAddress, "files/"));
        tooLarge.Headers.Add("Upload-Length", "101");
        using var refused = await server.Client.SendAsync(tooLarge, Ct);
        refused.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
    }
}
