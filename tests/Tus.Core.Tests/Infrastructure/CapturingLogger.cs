using Microsoft.Extensions.Logging;

namespace Tus.Core.Tests.Infrastructure;

/// <summary>Keeps every log entry, so tests can show what the engine logged (and that details stay out of responses).</summary>
internal sealed class CapturingLogger : ILogger<TusEngine>
{
    private readonly List<string> _entries = [];

    public IReadOnlyList<string> Entries
    {
        get
        {
            lock (_entries)
            {
                return _entries.ToList();
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add($"{logLevel}: {formatter(state, exception)}{(exception is null ? string.Empty : Environment.NewLine + exception)}");
        }
    }
}
