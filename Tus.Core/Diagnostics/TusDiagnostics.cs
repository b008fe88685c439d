namespace Tus.Diagnostics;

/// <summary>
/// The names under which the tus engine publishes its metrics (<see cref="System.Diagnostics.Metrics.Meter"/>) and
/// traces (<see cref="System.Diagnostics.ActivitySource"/>), for example
/// <c>.WithMetrics(m =&gt; m.AddMeter(TusDiagnostics.MeterName))</c> with OpenTelemetry.
/// </summary>
public static class TusDiagnostics
{
    /// <summary>The meter of the engine's metrics: <c>Tus.Core</c>.</summary>
    public const string MeterName = "Tus.Core";

    /// <summary>The activity source of the engine's spans: <c>Tus.Core</c>.</summary>
    public const string ActivitySourceName = "Tus.Core";
}
