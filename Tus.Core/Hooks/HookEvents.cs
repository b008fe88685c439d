namespace Tus.Hooks;

/// <summary>The event names, as tusd spells them (plus <c>authorize</c>, this project's extension).</summary>
public static class HookEvents
{
    /// <summary>Before every request on an existing upload.</summary>
    public const string Authorize = "authorize";

    /// <summary>Before an upload is created.</summary>
    public const string PreCreate = "pre-create";

    /// <summary>After an upload was created.</summary>
    public const string PostCreate = "post-create";

    /// <summary>While bytes arrive.</summary>
    public const string PostReceive = "post-receive";

    /// <summary>Once an upload has all its bytes, before the response.</summary>
    public const string PreFinish = "pre-finish";

    /// <summary>After an upload was finished.</summary>
    public const string PostFinish = "post-finish";

    /// <summary>Before an upload is terminated.</summary>
    public const string PreTerminate = "pre-terminate";

    /// <summary>After an upload was terminated.</summary>
    public const string PostTerminate = "post-terminate";
}
