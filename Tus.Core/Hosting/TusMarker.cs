namespace Tus.Hosting;

/// <summary>Registered by <c>AddTus()</c>: tells that tus was added, so it is added once and hosts can check.</summary>
internal sealed class TusMarker;
