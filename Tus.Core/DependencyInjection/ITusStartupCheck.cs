namespace Tus;

/// <summary>
/// A check that runs once when the host starts, before any request is served: configuration that cannot work, a
/// directory that cannot be written, a bucket that does not exist, a lock service that does not answer. Every check's
/// problems are gathered and reported together, and the host does not start while there is any.
/// </summary>
/// <remarks>
/// Register implementations as singletons with
/// <c>builder.AddStartupCheck&lt;TCheck&gt;()</c> (or <c>TryAddEnumerable</c>); store and locker packages register their
/// own from their builder extension. A check that throws is reported as a problem, with its exception's message.
/// </remarks>
public interface ITusStartupCheck
{
    /// <summary>Finds every problem this check knows of.</summary>
    /// <param name="cancellationToken">Fires when the host gives up starting, or after the check's time limit
    /// (<see cref="TusOptions.StoreCallTimeout"/>).</param>
    /// <returns>The problems, each a sentence an operator can act on (name the setting or the resource); empty when all is well.</returns>
    ValueTask<IReadOnlyList<string>> CheckAsync(CancellationToken cancellationToken);
}
