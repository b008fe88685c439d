using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Tus.Conformance.Internal;

/// <summary>
/// The engine's logger during a protocol test: keeps its warnings and errors, with their exceptions, so that a failed
/// assertion can show a store author why the engine answered 500 (the client only ever sees a generic body).
/// </summary>
internal sealed class EngineLog : ILogger<TusEngine>
{
    private readonly ConcurrentQueue<string> _entries = new();

    /// <summary>The warnings and errors logged so far, oldest first.</summary>
    public IReadOnlyList<string> Entries => [.. _entries];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (IsEnabled(logLevel))
        {
            _entries.Enqueue(exception is null ? $"{logLevel}: {formatter(state, null)}" : $"{logLevel}: {formatter(state, exception)}{Environment.NewLine}{exception}");
        }
    }
}
