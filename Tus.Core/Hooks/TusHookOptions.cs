using Tus.Protocol;

namespace Tus.Hooks;

/// <summary>How hooks (<see cref="ITusHook"/>) are run: <see cref="TusOptions.Hooks"/>.</summary>
public sealed class TusHookOptions
{
    /// <summary>How long one pre-hook call (authorize, pre-create, pre-finish, pre-terminate) may take before the request
    /// is answered with <see cref="FailureError"/>. Default: 15 seconds.</summary>
    public TimeSpan PreHookTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one post-hook call may take before it is abandoned (and counted as failed), so that a hung hook
    /// does not hold up the events queued behind it. Default: 60 seconds.</summary>
    public TimeSpan PostHookTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The answer to a request whose pre-hook threw or timed out. The exception is logged, never sent.
    /// Default: <see cref="TusError.HookFailed"/> (500 <c>ERR_HOOK_FAILED</c>).</summary>
    public TusError FailureError { get; set; } = TusError.HookFailed;

    /// <summary>How often post-receive hooks hear about an upload that is receiving bytes (plus once when each request's
    /// body ends). Default: 1 second.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many post-hook events may wait in the process's queue. When it is full, a new event is dropped (not its
    /// upload): the drop is counted and logged as a warning, and the request goes on unaffected. Default: 10,000.
    /// </summary>
    public int PostHookQueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// How many post-hook events run at the same time, each for a different upload: the events of one upload always
    /// run one after the other, in the order they happened. Default: 4.
    /// </summary>
    public int PostHookConcurrency { get; set; } = 4;

    internal IEnumerable<string> Validate()
    {
        foreach (var (name, value) in new[] { (nameof(PreHookTimeout), PreHookTimeout), (nameof(PostHookTimeout), PostHookTimeout), (nameof(ProgressInterval), ProgressInterval) })
        {
            if (value <= TimeSpan.Zero || value > TimeSpan.FromDays(49))
            {
                yield return $"Hooks.{name} must be positive and at most 49 days (got {value}).";
            }
        }

        if (FailureError is null)
        {
            yield return $"Hooks.{nameof(FailureError)} must not be null.";
        }

        if (PostHookQueueCapacity < 1)
        {
            yield return $"Hooks.{nameof(PostHookQueueCapacity)} must be at least 1 (got {PostHookQueueCapacity}).";
        }

        if (PostHookConcurrency is < 1 or > 1024)
        {
            yield return $"Hooks.{nameof(PostHookConcurrency)} must be from 1 to 1024 (got {PostHookConcurrency}).";
        }
    }
}
