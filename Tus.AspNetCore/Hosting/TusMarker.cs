namespace Tus.AspNetCore.Hosting;

/// <summary>Registered by <c>AddTus()</c>: tells that tus was added, so it is added once and MapTus can check.</summary>
internal sealed class TusMarker;

/// <summary>A configuration check that runs at start-up; every problem found is reported together.</summary>
internal interface ITusStartupCheck
{
    /// <summary>Returns every problem found; empty when all is well.</summary>
    IEnumerable<string> Validate();
}
