using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tus;
using Tus.Lockers.Consul;
using Tus.Locking;

// In the DI namespace, like the other builder extensions, so that .AddConsulLocker() needs no using directive.
namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the Consul locker to a tus registration: <c>services.AddTus().AddConsulLocker(o =&gt; o.Address = "http://127.0.0.1:8500")</c>.</summary>
public static class ConsulLockerTusBuilderExtensions
{
    /// <summary>
    /// Locks uploads with Consul at the address in <c>CONSUL_HTTP_ADDR</c> (or the local agent, <c>http://127.0.0.1:8500</c>),
    /// replacing any locker registered before.
    /// </summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddConsulLocker(this ITusBuilder builder) => builder.AddConsulLocker(static _ => { });

    /// <summary>
    /// Locks uploads with Consul, so that several server instances sharing a store never write one upload at once;
    /// replaces any locker registered before. At start-up the options are validated and Consul must answer with a
    /// leader and accept a session (which checks the ACL token), or the host does not start.
    /// </summary>
    /// <param name="builder">The builder returned by <c>services.AddTus()</c>.</param>
    /// <param name="configure">Sets the options, e.g. <c>o =&gt; o.Address = "http://127.0.0.1:8500"</c>.</param>
    /// <returns>The same builder.</returns>
    public static ITusBuilder AddConsulLocker(this ITusBuilder builder, Action<ConsulLockerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var services = builder.Services;
        services.Configure(configure);
        services.RemoveAll<ITusLocker>();
        services.RemoveAll<ConsulLocker>();
        services.AddSingleton(static sp => new ConsulLocker(
            sp.GetRequiredService<IOptions<ConsulLockerOptions>>().Value,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<ConsulLocker>>() ?? NullLogger<ConsulLocker>.Instance));
        services.AddSingleton<ITusLocker>(static sp => sp.GetRequiredService<ConsulLocker>());
        return builder.AddStartupCheck<ConsulLockerStartupCheck>();
    }

    // Checks the options, then that Consul answers, has a leader, and lets this token create and destroy a session:
    // a wrong address, a cluster without quorum or a token without session:write stop the host with a clear message.
    private sealed class ConsulLockerStartupCheck(IOptions<ConsulLockerOptions> options, IServiceProvider services) : ITusStartupCheck
    {
        public async ValueTask<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken)
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

            if (problems.Count > 0)
            {
                return problems;
            }

            var locker = services.GetRequiredService<ConsulLocker>();
            var problem = await locker.ProbeAsync(cancellationToken).ConfigureAwait(false);
            return problem is null ? [] : [problem];
        }
    }
}
